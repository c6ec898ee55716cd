"""Minutes to billable units: rounding policies and per-day aggregation."""

from casefund.units.policies import day_units_to_activities, units_for_minutes

__all__ = ["day_units_to_activities", "units_for_minutes"]

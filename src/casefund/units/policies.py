"""Rounding policies that turn minutes into units of ``unit_minutes``.

Each policy's source is the outcome of the same id in rules/allocation/outcomes.yaml
(units.whole_units, units.cms_8_minute, units.midpoint, units.encounter); the arithmetic lives
here and nowhere else.
"""

from __future__ import annotations

import numpy as np


def units_for_minutes(
    minutes: np.ndarray, unit_minutes: int | np.ndarray, rounding: str
) -> np.ndarray:
    """Units attained by ``minutes`` (already summed per day where the policy aggregates).

    - whole_units: each completed unit (floor), as in 10 CCR 2505-10 §8.763.C.
    - midpoint / cms_8_minute: a unit is attained once its midpoint is passed; for 15-minute
      units 8–22 minutes is 1 unit, 23–37 is 2 (CPT time rule; Medicare Claims Processing
      Manual ch. 5 §20.2 applies it to the day's total timed minutes).
    - encounter: one unit for any contact (at most one a day is enforced by aggregation).
    """
    m = np.asarray(minutes, dtype=np.int64)
    unit = np.asarray(unit_minutes, dtype=np.int64)
    if rounding == "whole_units":
        return np.asarray(m // unit)
    if rounding in ("midpoint", "cms_8_minute"):
        # The first minute past the midpoint: ceil(unit/2), one more for an even unit.
        half_up = -(-unit // 2) + (unit % 2 == 0)
        return np.asarray((m + unit - half_up) // unit)
    if rounding == "encounter":
        return np.ones_like(m)
    raise ValueError(f"unknown rounding policy '{rounding}'")


def day_units_to_activities(
    day_group: np.ndarray,
    minutes: np.ndarray,
    tiebreak: np.ndarray,
    day_units: np.ndarray,
    unit_minutes: int | np.ndarray,
) -> np.ndarray:
    """Share a day's units among its activities, most minutes first (CMS §20.2).

    Each activity first gets its completed units; the day's remaining units go one each to
    the activities with the largest leftover minutes, ties broken by ``tiebreak`` (an
    order-free rank such as the activity id's). ``day_group`` numbers the days 0..G-1 and
    ``day_units`` holds each day's total; ``unit_minutes`` may differ by row (a dated
    change), never within a day.
    """
    base = minutes // unit_minutes
    base_per_day = np.bincount(day_group, weights=base, minlength=len(day_units)).astype(np.int64)
    extra_per_day = np.maximum(day_units - base_per_day, 0)
    leftover = minutes - base * unit_minutes
    # Rank activities within their day by leftover minutes, descending, then by tiebreak.
    order = np.lexsort((tiebreak, -leftover, day_group))
    group_sorted = day_group[order]
    starts = np.r_[0, np.flatnonzero(group_sorted[1:] != group_sorted[:-1]) + 1]
    rank_sorted = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    rank = np.empty_like(rank_sorted)
    rank[order] = rank_sorted
    gets_extra = (rank < extra_per_day[day_group]) & (leftover > 0)
    units: np.ndarray = base + gets_extra.astype(np.int64)
    return units

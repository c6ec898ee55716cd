"""The federal share of Medicaid health home payments (SSA §1945(c), §1945A(c)).

Enhanced match runs for a number of fiscal-year quarters counted from the quarter in which
the state plan amendment took effect; federal fiscal quarters are calendar quarters labelled
from October, so counting calendar quarters counts fiscal quarters.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

from casefund.records.days import day_number

# The parameters the federal share of a health home payment depends on.
FMAP_TERMS = {
    "regular_fmap",
    "spa_effective",
    "children_1945a",
    "children_fmap_increase",
    "children_fmap_ceiling",
    "children_enhanced_quarters",
    "enhanced_fmap",
    "enhanced_quarters",
    "sud_focused_spa_approved",
    "sud_extension_requested",
    "sud_extra_quarters",
}


def _quarter(day_numbers: np.ndarray) -> np.ndarray:
    months = day_numbers.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return months // 3


def _as_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def enhanced_quarters(params: dict[str, Any]) -> int:
    """8 quarters; 10 for an SUD-focused plan approved on or after 2018-10-01 on request."""
    quarters = int(params["enhanced_quarters"])
    approved = _as_date(params.get("sud_focused_spa_approved"))
    if approved and approved >= dt.date(2018, 10, 1) and params.get("sud_extension_requested"):
        quarters += int(params["sud_extra_quarters"])
    return quarters


def health_home_fmap(days: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    """FMAP per service day; NaN where the state's regular FMAP or plan date is not known."""
    regular = params.get("regular_fmap")
    start = _as_date(params.get("spa_effective"))
    out = np.full(len(days), np.nan if regular is None else float(regular))
    if start is None:
        return out if regular is not None else np.full(len(days), np.nan)
    first = _quarter(np.array([day_number(start)]))[0]
    elapsed = _quarter(days) - first
    if params.get("children_1945a"):
        if regular is None:
            return out
        boosted = min(
            float(regular) + float(params["children_fmap_increase"]),
            float(params["children_fmap_ceiling"]),
        )
        window = int(params["children_enhanced_quarters"])
        return np.where((elapsed >= 0) & (elapsed < window), boosted, out)
    window = enhanced_quarters(params)
    return np.where((elapsed >= 0) & (elapsed < window), float(params["enhanced_fmap"]), out)

"""Ryan White limits on what a client may be charged in a year (42 U.S.C. 300ff-15(e))."""

from __future__ import annotations

from typing import Any

import numpy as np


def charge_cap_share(income_pct_fpl: np.ndarray, bands: dict[Any, Any]) -> np.ndarray:
    """The share of gross income a client may be charged in a calendar year, by income band.

    ``bands`` maps each band's upper bound (% FPL, inclusive) to its cap: at or below 100%
    FPL nothing may be charged; up to 200% at most 5%, up to 300% 7%, above that 10%.
    Unknown income gives NaN (no cap can be stated).
    """
    edges = sorted((float(bound), float(share)) for bound, share in bands.items())
    income = np.asarray(income_pct_fpl, dtype=float)
    bounds = np.array([b for b, _ in edges])
    shares = np.array([s for _, s in edges])
    band = np.searchsorted(bounds, income, side="left").clip(0, len(bounds) - 1)
    out: np.ndarray = np.where(np.isnan(income), np.nan, shares[band])
    return out

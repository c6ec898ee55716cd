"""Ryan White limits on what a client may be charged in a year (42 U.S.C. 300ff-15(e))."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd


def annual_charge_cap_share(income_pct_fpl: pd.Series, day: dt.date | None = None) -> pd.Series:
    """The share of gross income a client may be charged in a calendar year, by income band.

    At or below 100% FPL nothing may be charged; up to 200% at most 5%, up to 300% 7%,
    above that 10%. Unknown income gives NaN (no cap can be stated).
    """
    from casefund.evaluation import rule_book

    params = rule_book().parameters["ryan_white_nmcm"]
    bands = params.value("client_charge_caps", day or dt.date.max)
    edges = sorted((float(bound), float(share)) for bound, share in bands.items())
    income = income_pct_fpl.astype(float).to_numpy()
    bounds = np.array([b for b, _ in edges])
    shares = np.array([s for _, s in edges])
    band = np.searchsorted(bounds, income, side="left").clip(0, len(bounds) - 1)
    out = np.where(np.isnan(income), np.nan, shares[band])
    return pd.Series(out, index=income_pct_fpl.index, name="annual_charge_cap_share")

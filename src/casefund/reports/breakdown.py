"""Billable-versus-unbillable totals per payer, contract and status."""

from __future__ import annotations

import pandas as pd

from casefund.records.frames import text_order

BREAKDOWN_COLUMNS = ["payer", "contract_id", "status", "activities", "minutes", "units", "amount"]


def build_breakdown(lines: pd.DataFrame) -> pd.DataFrame:
    if lines.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in BREAKDOWN_COLUMNS})
    keys = ["payer", "contract_id", "status"]
    groups = lines.groupby(keys, observed=True, sort=True, dropna=False)
    out = groups.agg(
        minutes=("minutes", "sum"),
        units=("units", "sum"),
        amount=("amount", "sum"),
        activities=("minutes", "size"),
    ).reset_index()
    # An accepted activity has at most one line per contract and status, so counting lines
    # counts activities; refused rows can repeat an id (every copy is refused), so those few
    # are counted as distinct ids.
    rejected = (out["status"].astype(object) == "rejected").to_numpy(dtype=bool)
    if rejected.any():
        refused = lines.loc[
            (lines["status"] == "rejected").to_numpy(dtype=bool), [*keys, "activity_id"]
        ].astype(object)
        distinct = refused.groupby(keys, dropna=False)["activity_id"].nunique()
        at = out.loc[rejected, keys].astype(object).itertuples(index=False)
        out.loc[rejected, "activities"] = [int(distinct.get(tuple(k), 0)) for k in at]
    out = out.iloc[text_order(out, keys)]
    return out.reset_index(drop=True)[BREAKDOWN_COLUMNS]

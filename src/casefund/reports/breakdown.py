"""Billable-versus-unbillable totals per payer, contract and status."""

from __future__ import annotations

import pandas as pd

BREAKDOWN_COLUMNS = ["payer", "contract_id", "status", "activities", "minutes", "units", "amount"]


def build_breakdown(lines: pd.DataFrame) -> pd.DataFrame:
    if lines.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in BREAKDOWN_COLUMNS})
    out = (
        lines.groupby(["payer", "contract_id", "status"], observed=True, sort=True, dropna=False)
        .agg(
            activities=("activity_id", "nunique"),
            minutes=("minutes", "sum"),
            units=("units", "sum"),
            amount=("amount", "sum"),
        )
        .reset_index()
    )
    out["amount"] = out["amount"].round(2)
    out["units"] = out["units"].round(2)
    out = out.sort_values(["payer", "contract_id", "status"], key=lambda s: s.astype(str),
                          kind="stable")
    return out.reset_index(drop=True)[BREAKDOWN_COLUMNS]

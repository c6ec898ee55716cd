"""Claim lines a biller submits, summed from billable lines."""

from __future__ import annotations

import pandas as pd

CLAIM_COLUMNS = [
    "contract_id",
    "payer",
    "participant_id",
    "service_date",
    "month",
    "procedure_code",
    "modifiers",
    "units",
    "amount",
    "lines",
]
MONTHLY = ("pempm", "monthly_case_rate")


def build_claims(lines: pd.DataFrame) -> pd.DataFrame:
    """One row per contract, participant, service date (or month) and code.

    Monthly payments (PEMPM, case rates) are claimed for the month, so their service_date is
    blank and ``month`` carries the period.
    """
    billable = lines.loc[lines["status"] == "billable"]
    if billable.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in CLAIM_COLUMNS})
    monthly = billable["payment"].isin(MONTHLY)
    frame = billable.assign(
        service_date=billable["service_date"].astype(object).where(~monthly, ""),
    )
    keys = ["contract_id", "payer", "participant_id", "service_date", "month",
            "procedure_code", "modifiers"]
    claims = (
        frame.groupby(keys, observed=True, sort=True, dropna=False)
        .agg(units=("units", "sum"), amount=("amount", "sum"), lines=("activity_id", "size"))
        .reset_index()
    )
    claims["amount"] = claims["amount"].round(2)
    # Sorted by the keys' text, not by category order, so the order never depends on how
    # the lines were assembled.
    claims = claims.sort_values(keys, key=lambda s: s.astype(str), kind="stable")
    return claims.reset_index(drop=True)[CLAIM_COLUMNS]

"""Claim lines a biller submits, summed from billable lines."""

from __future__ import annotations

import pandas as pd

from casefund.records.frames import text_order
from casefund.records.payment_models import claimed_by_month

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


def build_claims(lines: pd.DataFrame) -> pd.DataFrame:
    """One row per contract, participant, service date (or month) and code.

    Payment models claimed by the month (PEMPM, case rates) have a blank service_date and
    ``month`` carries the period.
    """
    keys = CLAIM_COLUMNS[:7]  # contract, payer, participant, date, month, code, modifiers
    billable = lines.loc[
        (lines["status"] == "billable").to_numpy(dtype=bool), [*keys, "payment", "units", "amount"]
    ]
    if billable.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in CLAIM_COLUMNS})
    monthly = billable["payment"].isin(claimed_by_month())
    frame = billable.assign(
        service_date=billable["service_date"].astype(object).where(~monthly, ""),
    )
    claims = (
        frame.groupby(keys, observed=True, sort=True, dropna=False)
        .agg(units=("units", "sum"), amount=("amount", "sum"), lines=("units", "size"))
        .reset_index()
    )
    claims["amount"] = claims["amount"].round(2)
    # Sorted by the keys' text, not by category order, so the order never depends on how
    # the lines were assembled.
    claims = claims.iloc[text_order(claims, keys)]
    return claims.reset_index(drop=True)[CLAIM_COLUMNS]

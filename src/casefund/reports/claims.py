"""Claim lines a biller submits, summed from billable lines."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from casefund.errors import InputError
from casefund.records.frames import text_order
from casefund.records.payment_models import claimed_by_month

if TYPE_CHECKING:
    from casefund.reports.outputs import Evaluation

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


def coded_claims(evaluation: Evaluation, contract_id: str, form: str) -> pd.DataFrame:
    """One contract's claim rows for a claim file whose every service line needs a
    procedure code (837P, FHIR): none, or rows without a code (a contract paid without
    codes, such as a grant), are an error naming the contract, never an empty code."""
    claims = evaluation.claims
    mine = claims.loc[(claims["contract_id"].astype(str) == contract_id).to_numpy(dtype=bool)]
    if mine.empty:
        raise InputError(f"contract '{contract_id}' has no billable claims to write")
    code = mine["procedure_code"].astype(object).fillna("").astype(str).str.strip()
    uncoded = int(np.count_nonzero(code.to_numpy() == ""))
    if uncoded:
        raise InputError(
            f"contract '{contract_id}': {uncoded:,} of its {len(mine):,} claim rows have no "
            f"procedure code (the contract pays without codes, as a grant does), and every "
            f"{form} service line needs one; write its claims with --format invoice, or give "
            "the contract's rules a code for these activities"
        )
    return mine

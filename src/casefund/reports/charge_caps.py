"""Charges to Ryan White clients against the annual caps of 42 U.S.C. 300ff-15(e).

No charge may be imposed on a client at or below 100% of the federal poverty level; above
it, a client's charges for the calendar year may not exceed 5% of annual gross income up to
200% FPL, 7% up to 300% and 10% above. The cap in dollars needs the client's annual income;
where it is not recorded the share is still shown and the dollar cap is left blank, except at
or below 100% FPL, where the cap is nothing whatever the income.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from casefund.payers.charges import charge_cap_share
from casefund.records.contracts import Contract
from casefund.rules.book import RuleBook

CHARGE_CAP_COLUMNS = [
    "participant_id",
    "year",
    "income_pct_fpl",
    "cap_share",
    "annual_income",
    "cap_amount",
    "charged",
    "over_cap",
    "charges",
    "excess",
]

# What each column holds, for a run with no charges (an empty table, typed like a full one).
_EMPTY_DTYPES = {
    "participant_id": "object",
    "year": "int64",
    "income_pct_fpl": "float64",
    "cap_share": "float64",
    "annual_income": "float64",
    "cap_amount": "float64",
    "charged": "float64",
    "over_cap": "bool",
    "charges": "int64",
    "excess": "float64",
}


def build_charge_caps(
    charges: pd.DataFrame, participants: pd.DataFrame, contracts: list[Contract], book: RuleBook
) -> pd.DataFrame:
    """One row per client and calendar year with charges under Ryan White (a charge whose
    contract is another program's is not a Ryan White charge and is left out)."""
    if charges.empty:
        return pd.DataFrame({c: pd.Series(dtype=_EMPTY_DTYPES[c]) for c in CHARGE_CAP_COLUMNS})
    other = {c.id for c in contracts if c.program != "ryan_white_nmcm"}
    rows = charges.loc[~charges["contract_id"].astype(object).isin(other).to_numpy()]
    frame = pd.DataFrame(
        {
            "participant_id": rows["participant_id"].astype(object).to_numpy(),
            "year": pd.to_datetime(rows["date"]).dt.year.to_numpy(),
            "amount": rows["amount"].astype(float).to_numpy(),
        }
    )
    totals = (
        frame.groupby(["participant_id", "year"], sort=True)
        .agg(charged=("amount", "sum"), charges=("amount", "size"))
        .reset_index()
    )
    people = participants.set_index(participants["participant_id"].astype(object))
    income = totals["participant_id"].map(people["income_pct_fpl"].astype(float))
    annual = totals["participant_id"].map(
        people["annual_income"].astype(float)
        if "annual_income" in people
        else pd.Series(dtype=float)
    )
    params = book.parameters["ryan_white_nmcm"]
    share = np.full(len(totals), np.nan)
    for year in totals["year"].unique():  # the bands in force on the year's first day
        mine = (totals["year"] == year).to_numpy()
        bands = params.value("client_charge_caps", dt.date(int(year), 1, 1))
        if bands is not None:
            share[mine] = charge_cap_share(income.to_numpy(dtype=float)[mine], bands)
    nothing = share == 0.0  # at or below 100% FPL no charge is allowed at all
    cap = np.where(nothing, 0.0, np.round(share * annual.to_numpy(dtype=float), 2))
    charged = totals["charged"].round(2).to_numpy()
    known = ~np.isnan(cap)
    over = pd.array(np.where(known, charged > cap + 0.005, False), dtype="boolean")
    over[~known] = pd.NA
    out = pd.DataFrame(
        {
            "participant_id": totals["participant_id"].to_numpy(dtype=object),
            "year": totals["year"].astype(int).to_numpy(),
            "income_pct_fpl": income.to_numpy(dtype=float),
            "cap_share": share,
            "annual_income": annual.to_numpy(dtype=float),
            "cap_amount": cap,
            "charged": charged,
            "over_cap": over,
            "charges": totals["charges"].to_numpy(),
            "excess": np.where(
                known, np.round(np.maximum(charged - np.nan_to_num(cap), 0.0), 2), np.nan
            ),
        }
    )
    return out[CHARGE_CAP_COLUMNS]

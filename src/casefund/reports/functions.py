"""Time by case-management function: the minutes of each TIP 27 function (engagement,
assessment, planning, linking, monitoring, advocacy, disengagement; and the work that is not
case management) per month and contract, and how much of it was billable.

Each activity code's function is the ``case_management_function`` parameter, read as of the
service date. Billed and bundled minutes belong to the contract that took them; unbillable
minutes to the contract best placed to pay them (the line's ``primary_contract_id``), or to
no contract where none was in reach — so a contract's row says how much of, say, its
assessment time it could bill.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from casefund.records.contracts import Contract
from casefund.records.frames import looked_up
from casefund.rules.book import RuleBook

FUNCTION_COLUMNS = [
    "month",
    "function",
    "program",
    "contract_id",
    "minutes",
    "billable_minutes",
    "bundled_minutes",
    "unbillable_minutes",
    "share_billable",
]
UNMAPPED = "unmapped"


def function_order(book: RuleBook) -> list[str]:
    """The functions in the order the parameter lists them (TIP 27's, then the rest)."""
    order: list[str] = []
    for entry in book.parameters["program_models"].parameters["case_management_function"].values:
        order += [f for f in entry.value if f not in order]
    return [*order, UNMAPPED]


def functions_of(activity: pd.Series, service_date: pd.Series, book: RuleBook) -> np.ndarray:
    """Each line's function, by its activity code as of its service date."""
    values = book.parameters["program_models"].parameters["case_management_function"].values
    codes = activity.astype(object).fillna("").astype(str).to_numpy()
    days = service_date.astype(str).to_numpy()
    out = np.full(len(codes), UNMAPPED, dtype=object)
    for entry in values:  # later values replace earlier ones from their own date on
        in_force = days >= entry.start.isoformat()
        table = {code: name for name, listed in entry.value.items() for code in listed}
        mapped = pd.Series(codes).map(table).to_numpy(dtype=object)
        known = in_force & pd.notna(mapped)
        out[known] = mapped[known]
    return out


def build_functions(lines: pd.DataFrame, contracts: list[Contract], book: RuleBook) -> pd.DataFrame:
    accepted = lines.loc[lines["status"].astype(str) != "rejected"]
    if accepted.empty:
        return pd.DataFrame(columns=FUNCTION_COLUMNS)
    status = accepted["status"].astype(str).to_numpy()
    unbillable = status == "unbillable"
    contract = np.where(
        unbillable,
        accepted["primary_contract_id"].astype(object).fillna("").astype(str).to_numpy(),
        accepted["contract_id"].astype(object).fillna("").astype(str).to_numpy(),
    )
    program_of = {c.id: c.program for c in contracts}
    minutes = accepted["minutes"].to_numpy(dtype=np.int64)
    frame = pd.DataFrame(
        {
            "month": accepted["month"].astype(str).to_numpy(),
            "function": functions_of(accepted["activity"], accepted["service_date"], book),
            "program": looked_up(pd.Series(contract, dtype=object), program_of, "").astype(object),
            "contract_id": contract,
            "minutes": minutes,
            "billable_minutes": np.where(status == "billable", minutes, 0),
            "bundled_minutes": np.where(status == "bundled", minutes, 0),
            "unbillable_minutes": np.where(unbillable, minutes, 0),
        }
    )
    out = frame.groupby(["month", "function", "program", "contract_id"], as_index=False).sum()
    rank = {name: i for i, name in enumerate(function_order(book))}
    out = out.assign(_rank=out["function"].map(rank)).sort_values(
        ["month", "_rank", "program", "contract_id"], kind="stable"
    )
    billed = out["billable_minutes"] + out["bundled_minutes"]
    out["share_billable"] = (billed / out["minutes"].where(out["minutes"] > 0)).round(6)
    return out[FUNCTION_COLUMNS].reset_index(drop=True)

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
from casefund.records.frames import coded
from casefund.reports.accepted import accepted_rows
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
    """Each line's function (as codes into ``function_order``), by its activity code as of
    its service date: decided once per distinct code and day, then picked by code."""
    values = book.parameters["program_models"].parameters["case_management_function"].values
    names = function_order(book)
    code, codes = coded(activity)
    day, days = coded(service_date)
    out = np.full(len(code), names.index(UNMAPPED), dtype=np.int64)
    for entry in values:  # later values replace earlier ones from their own date on
        table = {c: names.index(name) for name, listed in entry.value.items() for c in listed}
        of_code = np.array([table.get(str(c), -1) for c in codes], dtype=np.int64)
        in_force = np.array([bool(d) and str(d) >= entry.start.isoformat() for d in days])
        mapped = of_code[code]
        known = in_force[day] & (mapped >= 0)
        out[known] = mapped[known]
    return out


def build_functions(lines: pd.DataFrame, contracts: list[Contract], book: RuleBook) -> pd.DataFrame:
    read = ["status", "contract_id", "primary_contract_id", "month", "activity"]
    accepted = accepted_rows(lines, [*read, "service_date", "minutes"])
    if accepted.empty:
        return pd.DataFrame(columns=FUNCTION_COLUMNS)
    status_code, statuses = coded(accepted["status"])
    status = statuses[status_code]
    unbillable = status == "unbillable"
    # Billed and bundled minutes are their contract's; unbillable ones their primary one's.
    billed_code, billed_ids = coded(accepted["contract_id"])
    primary_code, primary_ids = coded(accepted["primary_contract_id"])
    ids = np.unique(np.concatenate([billed_ids, primary_ids]).astype(str)).astype(object)
    contract = np.where(
        unbillable,
        np.searchsorted(ids, primary_ids.astype(str))[primary_code],
        np.searchsorted(ids, billed_ids.astype(str))[billed_code],
    )
    month_code, months = coded(accepted["month"])
    function = functions_of(accepted["activity"], accepted["service_date"], book)
    minutes = accepted["minutes"].to_numpy(dtype=np.int64)
    key = pd.DataFrame(
        {
            "month": month_code,
            "function": function,
            "contract": contract,
            "minutes": minutes,
            "billable_minutes": np.where(status == "billable", minutes, 0),
            "bundled_minutes": np.where(status == "bundled", minutes, 0),
            "unbillable_minutes": np.where(unbillable, minutes, 0),
        }
    )
    out = key.groupby(["month", "function", "contract"], as_index=False).sum()
    program_of = {c.id: c.program for c in contracts}
    contract_ids = ids[out["contract"].to_numpy()]
    out.insert(0, "contract_id", contract_ids)
    out.insert(0, "program", [program_of.get(str(c), "") for c in contract_ids])
    out["month"] = months[out["month"].to_numpy()]
    # Functions in TIP 27's order (their codes follow it), then program and contract.
    out = out.sort_values(["month", "function", "program", "contract_id"], kind="stable")
    out["function"] = np.asarray(function_order(book), dtype=object)[out["function"].to_numpy()]
    billed = out["billable_minutes"] + out["bundled_minutes"]
    out["share_billable"] = (billed / out["minutes"].where(out["minutes"] > 0)).round(6)
    return out[FUNCTION_COLUMNS].reset_index(drop=True)

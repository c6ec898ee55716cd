"""Recoverable revenue: of the unbillable minutes, what the agency could fix and bill.

Each unbillable line is classified by its primary reason: **fixable** where the refusal rests
on the agency's own records — an enrollment, authorization or determination not on record, a
recertification lapsed, a field to correct, or a fact the rule needs and does not know (an
unknown fact fails ``require``) — and **not billable** otherwise (not a covered service, an
excluded program, a cap reached, payer of last resort). Because the primary reason is a
contract's most fundamental refusal, a line is fixable only when every barrier at that
contract is. The estimate is what that contract's payment model would have paid for the
minutes at its rate, before caps (see :mod:`casefund.allocate.recovery`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from casefund.records.contracts import Contract
from casefund.rules.book import RuleBook

RECOVERABLE_COLUMNS = [
    "contract_id",
    "payer",
    "program",
    "rule_id",
    "month",
    "class",
    "activities",
    "minutes",
    "estimated_amount",
    "what_to_fix",
]
FIXABLE, NOT_BILLABLE = "fixable", "not_billable"


def _fix_texts(book: RuleBook, rule_id: str) -> tuple[str, str]:
    """What to do where the rule's own fix applies, and where a fact was not known."""
    entry = book.reason_entries().get(rule_id)
    if entry is None:
        return "", ""
    own = entry.fix.text if entry.fix else ""
    facts = ", ".join(entry.facts)
    unknown = f"Record what this rule reads and is not known ({facts})." if facts else own
    return own, own or unknown


def build_recoverable(
    lines: pd.DataFrame, contracts: list[Contract], book: RuleBook
) -> pd.DataFrame:
    """One row per primary contract, primary reason, month and class, largest first."""
    unbillable = lines.loc[(lines["status"] == "unbillable").to_numpy(dtype=bool)]
    if unbillable.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in RECOVERABLE_COLUMNS})
    frame = pd.DataFrame(
        {
            "contract_id": unbillable["primary_contract_id"].astype(object).to_numpy(),
            "rule_id": unbillable["primary_reason"].astype(object).to_numpy(),
            "month": unbillable["month"].astype(object).to_numpy(),
            "fact_unknown": unbillable["fact_unknown"].to_numpy(dtype=bool),
            "activity_id": unbillable["activity_id"].to_numpy(),
            "minutes": unbillable["minutes"].to_numpy(dtype=np.int64),
            "estimated_amount": unbillable["estimated_amount"].to_numpy(dtype=float),
        }
    )
    fixes = {r: _fix_texts(book, r) for r in pd.unique(frame["rule_id"])}
    own = frame["rule_id"].map(lambda r: fixes[r][0])
    fixable = (own != "") | frame["fact_unknown"]
    frame["class"] = np.where(fixable, FIXABLE, NOT_BILLABLE)
    frame["what_to_fix"] = np.where(
        own != "",
        own,
        np.where(frame["fact_unknown"], frame["rule_id"].map(lambda r: fixes[r][1]), ""),
    )
    keys = ["contract_id", "rule_id", "month", "class", "what_to_fix"]
    table = (
        frame.groupby(keys, sort=True)
        .agg(
            activities=("activity_id", "nunique"),
            minutes=("minutes", "sum"),
            estimated_amount=("estimated_amount", "sum"),
        )
        .reset_index()
    )
    table["estimated_amount"] = table["estimated_amount"].round(2)
    payer = {c.id: c.payer for c in contracts}
    program = {c.id: c.program for c in contracts}
    table["payer"] = [payer.get(c, "") for c in table["contract_id"]]
    table["program"] = [program.get(c, "") for c in table["contract_id"]]
    table = table.sort_values(
        ["class", "estimated_amount", "minutes", "contract_id", "rule_id", "month"],
        ascending=[True, False, False, True, True, True],
        kind="stable",
    )
    return table.reset_index(drop=True)[RECOVERABLE_COLUMNS]

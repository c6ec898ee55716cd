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


def _codes(column: pd.Series) -> pd.Categorical:
    as_category = (
        column if isinstance(column.dtype, pd.CategoricalDtype) else column.astype("category")
    )
    categorical: pd.Categorical = as_category.array
    return categorical


def _labels(categorical: pd.Categorical, codes: pd.Series) -> np.ndarray:
    """Category text of each code (missing: the empty text, as ``astype(object)`` read)."""
    names = np.array([*categorical.categories.astype(str), ""], dtype=object)
    values = codes.to_numpy(dtype=np.int64)
    result: np.ndarray = names[np.where(values >= 0, values, len(names) - 1)]
    return result


def build_recoverable(
    lines: pd.DataFrame, contracts: list[Contract], book: RuleBook
) -> pd.DataFrame:
    """One row per primary contract, primary reason, month and class, largest first."""
    unbillable = lines.loc[(lines["status"] == "unbillable").to_numpy(dtype=bool)]
    if unbillable.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in RECOVERABLE_COLUMNS})
    # Grouped by category codes, each reason's fix texts looked up once per reason (not per
    # line): a million unbillable lines never become Python strings.
    contract = _codes(unbillable["primary_contract_id"])
    rule = _codes(unbillable["primary_reason"])
    month = _codes(unbillable["month"])
    unknown = unbillable["fact_unknown"].to_numpy(dtype=bool)
    fixes = [_fix_texts(book, str(r)) for r in rule.categories]
    own = np.array([f[0] for f in fixes] + [""], dtype=object)
    if_unknown = np.array([f[1] for f in fixes] + [""], dtype=object)
    rule_code = np.where(rule.codes >= 0, rule.codes, len(fixes))
    has_own = (own != "")[rule_code]
    texts = pd.Index(np.unique(np.concatenate([own, if_unknown]).astype(str)))
    what = np.where(
        has_own,
        texts.get_indexer(own)[rule_code],
        np.where(unknown, texts.get_indexer(if_unknown)[rule_code], texts.get_indexer([""])[0]),
    )
    frame = pd.DataFrame(
        {
            "contract_id": contract.codes,
            "rule_id": rule.codes,
            "month": month.codes,
            "class": np.where(has_own | unknown, 0, 1),
            "what_to_fix": what,
            "minutes": unbillable["minutes"].to_numpy(dtype=np.int64),
            "estimated_amount": unbillable["estimated_amount"].to_numpy(dtype=float),
        }
    )
    keys = ["contract_id", "rule_id", "month", "class", "what_to_fix"]
    grouped = frame.groupby(keys, sort=False)
    table = grouped.agg(
        minutes=("minutes", "sum"), estimated_amount=("estimated_amount", "sum")
    ).reset_index()
    ids = unbillable["activity_id"]
    if ids.is_unique:
        table["activities"] = grouped.size().to_numpy()
    else:
        counted = frame.assign(activity_id=pd.factorize(ids)[0]).groupby(keys, sort=False)
        table["activities"] = counted["activity_id"].nunique().to_numpy()
    table["contract_id"] = _labels(contract, table["contract_id"])
    table["rule_id"] = _labels(rule, table["rule_id"])
    table["month"] = _labels(month, table["month"])
    table["class"] = np.array([FIXABLE, NOT_BILLABLE], dtype=object)[table["class"].to_numpy()]
    table["what_to_fix"] = texts.to_numpy(dtype=object)[table["what_to_fix"].to_numpy()]
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

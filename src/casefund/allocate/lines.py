"""Lines: the waterfall's shares as the table every output is built from.

One line per share of an activity a contract took (billable or bundled), one unbillable line
for what no contract took, and one ``rejected`` line per activity row validation refused, so
that nothing silently vanishes. Each line also carries, in memory only, the staff member and
staff cost of its activity (``STAFF_COLUMNS``): reports that need them read them from the
lines, so they work alike on one pass and on combined partitions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from casefund.allocate.status import LINE_STATUSES, REJECTED, LineStatus, status_labels
from casefund.allocate.waterfall import Allocation, allocate
from casefund.engine.adjudication import Adjudication, Decider
from casefund.engine.coding import code_activities
from casefund.payers.fmap import FMAP_TERMS, health_home_fmap
from casefund.payers.terms import contract_parameters
from casefund.records.contracts import Contract
from casefund.records.frames import categorical, categorical_of
from casefund.rules.book import RuleBook

LINE_COLUMNS = [
    "activity_id",
    "participant_id",
    "month",
    "contract_id",
    "payer",
    "program",
    "status",
    "minutes",
    "units",
    "amount",
    "procedure_code",
    "modifiers",
    "reasons",
    "citations",
    "service_date",
    "activity",
    "payment",
    "federal_share",
]
# Carried by lines in memory (never written to lines.csv): who delivered the activity and
# their cost per hour, NaN where the staff table does not say.
STAFF_COLUMNS = ["staff_id", "hourly_cost"]

__all__ = [
    "LINE_COLUMNS",
    "LINE_STATUSES",
    "STAFF_COLUMNS",
    "append_lines",
    "bill",
    "citations_of",
    "lines_of",
    "no_lines",
    "refused_lines",
]


def bill(
    adjudication: Adjudication,
    contracts: list[Contract],
    book: RuleBook,
    decider: Decider | None = None,
    budget_spent: dict[str, float] | None = None,
) -> pd.DataFrame:
    """The lines of the adjudicated activities under the contracts (in waterfall order),
    then one line per refused activity row."""
    allocation = allocate(adjudication, contracts, book, decider, budget_spent)
    lines = lines_of(adjudication, contracts, allocation, book)
    return append_lines(lines, refused_lines(adjudication.refused, book))


def no_lines() -> pd.DataFrame:
    """An empty lines table with every column."""
    return pd.DataFrame(columns=[*LINE_COLUMNS, *STAFF_COLUMNS])


def citations_of(book: RuleBook, reasons: pd.Categorical) -> pd.Categorical:
    """Citations per line, computed once per distinct set of reasons (a function of the
    reasons alone, so partitions leave it to be computed once their lines are combined)."""
    lookup = {i: entry.cite.short() for i, entry in book.reason_entries().items()}
    texts = [
        " | ".join(dict.fromkeys(lookup[i] for i in str(r).split(";") if i in lookup))
        for r in reasons.categories
    ]
    if not len(reasons):
        return pd.Categorical([])
    # Different reason sets can share a citation text: make the categories unique first.
    unique, position = np.unique(np.asarray(texts, dtype=object), return_inverse=True)
    codes = np.asarray(position)[np.asarray(reasons.codes)]
    result: pd.Categorical = pd.Categorical.from_codes(codes, categories=pd.Index(unique))
    return result


def _take(column: pd.Series, rows: np.ndarray) -> pd.Categorical:
    """A column's values at ``rows`` as a categorical: cheap for repeated codes."""
    as_category = column.astype("category")
    codes = as_category.cat.codes.to_numpy()[rows]
    return pd.Categorical.from_codes(codes, categories=as_category.cat.categories)


def _procedure_codes(
    adjudication: Adjudication, contracts: list[Contract], allocation: Allocation, book: RuleBook
) -> tuple[np.ndarray, np.ndarray]:
    """Each billable line's procedure code and modifiers: the activity's recorded code where
    it has one, else the code the contract's program's coding rules give."""
    acts = adjudication.acts
    rows = allocation.activity_row
    codes = np.full(len(rows), "", dtype=object)
    modifiers = np.full(len(rows), "", dtype=object)
    days = adjudication.days
    for position, contract in enumerate(contracts):
        selected = (allocation.contract == position) & (allocation.status == LineStatus.BILLABLE)
        if not selected.any():
            continue
        at = rows[selected]
        params = contract_parameters(book.parameters, contract)
        code, mods = code_activities(
            book,
            contract.program,
            adjudication.activity_scope.subset(at),
            params,
            days[at],
            contract.coverage_payer,
        )
        recorded_code = acts["procedure_code"].iloc[at].astype(object).fillna("").to_numpy()
        recorded_mods = acts["modifiers"].iloc[at].astype(object).fillna("").to_numpy()
        use_recorded = recorded_code != ""
        codes[selected] = np.where(use_recorded, recorded_code, code)
        modifiers[selected] = np.where(use_recorded, recorded_mods, mods)
    return codes, modifiers


def _federal_share(
    contracts: list[Contract], allocation: Allocation, book: RuleBook, days: np.ndarray
) -> np.ndarray:
    """Federal dollars of each line where the match rate is known (health homes; any contract
    that states its ``fmap``); blank elsewhere, never guessed."""
    out = np.full(len(allocation.contract), np.nan)
    for position, contract in enumerate(contracts):
        mine = allocation.contract == position
        if not mine.any():
            continue
        params = contract_parameters(book.parameters, contract)
        if contract.program == "health_home":
            rate = np.full(int(mine.sum()), np.nan)
            # Each stretch of days with one set of match terms is priced with those terms.
            for segment, values in params.segments(FMAP_TERMS, days[mine]):
                rate[segment] = health_home_fmap(days[mine][segment], values)
        else:
            rate = params.terms(days[mine]).number("fmap")
            if np.isnan(rate).all():
                continue
        out[mine] = np.round(allocation.amount[mine] * rate, 2)
    return out


def lines_of(
    adjudication: Adjudication, contracts: list[Contract], allocation: Allocation, book: RuleBook
) -> pd.DataFrame:
    """The allocation as lines, in activity order, each activity's funded shares first (in
    waterfall order) and its unbillable remainder last."""
    acts = adjudication.acts
    rows = allocation.activity_row
    contract_ix = allocation.contract
    pick = np.where(contract_ix >= 0, contract_ix, len(contracts))

    def per_contract(values: list[str]) -> pd.Categorical:
        return categorical_of(np.array([*values, ""], dtype=object), pick)

    codes, modifiers = _procedure_codes(adjudication, contracts, allocation, book)
    ids = pd.Index(np.array([c.id for c in contracts] + [""], dtype=object), dtype=object)
    lines = pd.DataFrame(
        {
            "activity_id": acts["_activity_id"].to_numpy()[rows],
            "participant_id": _take(acts["participant_id"], rows),
            "month": _take(acts["_month"], rows),
            "contract_id": pd.Categorical.from_codes(pick, categories=ids),
            "payer": per_contract([c.payer for c in contracts]),
            "program": per_contract([c.program for c in contracts]),
            "status": status_labels(allocation.status),
            "minutes": allocation.minutes,
            "units": np.round(allocation.units, 2),
            "amount": np.round(allocation.amount, 2),
            "procedure_code": categorical(codes),
            "modifiers": categorical(modifiers),
            "reasons": allocation.reasons,
            "citations": citations_of(book, allocation.reasons),
            "service_date": _take(acts["_date_text"], rows),
            "activity": _take(acts["activity"], rows),
            "payment": per_contract([c.payment for c in contracts]),
            "federal_share": _federal_share(contracts, allocation, book, adjudication.days[rows]),
            "staff_id": _take(_staff_ids(acts), rows),
            "hourly_cost": adjudication.hourly_cost[rows],
        }
    )
    order = np.lexsort((contract_ix == -1, pick, rows))
    return lines.iloc[order].reset_index(drop=True)


def _staff_ids(acts: pd.DataFrame) -> pd.Series:
    if "staff_id" not in acts:
        return pd.Series("", index=acts.index, dtype=object)
    return acts["staff_id"].astype(object).fillna("")


def append_lines(lines: pd.DataFrame, extra: pd.DataFrame) -> pd.DataFrame:
    """Concatenate keeping categorical columns categorical (a plain concat would turn a
    million repeated codes into a million strings)."""
    if extra.empty:
        return lines
    extra = extra.copy()
    lines = lines.copy()
    for column in lines.columns:
        if isinstance(lines[column].dtype, pd.CategoricalDtype):
            extra_values = pd.Index(pd.unique(extra[column].astype(object)), dtype=object)
            known = lines[column].cat.categories
            categories = known.append(extra_values[~extra_values.isin(known)])
            lines[column] = lines[column].cat.set_categories(categories)
            extra[column] = pd.Categorical(extra[column].astype(object), categories=categories)
    return pd.concat([lines, extra], ignore_index=True)


def refused_lines(refused: pd.DataFrame, book: RuleBook) -> pd.DataFrame:
    """Refused activity rows, listed with zero minutes so that nothing silently vanishes."""
    if refused is None or refused.empty:
        return no_lines()

    def text(column: str) -> np.ndarray:
        values: np.ndarray = refused[column].astype("string").fillna("").to_numpy(dtype=object)
        return values

    date = pd.to_datetime(refused["date"], errors="coerce")
    lines = pd.DataFrame(
        {
            "activity_id": text("activity_id"),
            "participant_id": text("participant_id"),
            "month": date.dt.strftime("%Y-%m").fillna("").to_numpy(dtype=object),
            "contract_id": "",
            "payer": "",
            "program": "",
            "status": REJECTED,
            "minutes": 0,
            "units": 0.0,
            "amount": 0.0,
            "procedure_code": "",
            "modifiers": "",
            "reasons": "input.rejected",
            "citations": book.outcomes["input.rejected"].cite.short(),
            "service_date": date.dt.strftime("%Y-%m-%d").fillna("").to_numpy(dtype=object),
            "activity": text("activity"),
            "payment": "",
            "federal_share": np.nan,
            "staff_id": text("staff_id") if "staff_id" in refused else "",
            "hourly_cost": np.nan,
        }
    )
    # Sorted by content, not by input position, so shuffled inputs list them identically.
    keys = ["activity_id", "participant_id", "service_date", "activity"]
    return lines.sort_values(keys, kind="stable").reset_index(drop=True)

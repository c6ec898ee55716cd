"""Lines: the waterfall's shares as the table every output is built from.

One line per share of an activity a contract took (billable or bundled), one unbillable line
for what no contract took, and one ``rejected`` line per activity row validation refused, so
that nothing silently vanishes. Each line also carries, in memory only, the staff member and
staff cost of its activity and, when unbillable, what its primary contract would have paid
(``MEMORY_COLUMNS``): reports that need them read them from the lines, so they work alike on
one pass and on combined partitions.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from casefund.allocate.checkpoint import Checkpoint
from casefund.allocate.denials import (
    best_tier,
    choose_primary,
    ever_had,
    line_reasons,
    needs_enrollment,
)
from casefund.allocate.recovery import estimate_unbilled
from casefund.allocate.service_units import ONE_PER_ACTIVITY, units_of_service
from casefund.allocate.status import REJECTED, LineStatus, status_labels
from casefund.allocate.waterfall import Allocation, allocate
from casefund.engine.adjudication import Adjudication, Decider
from casefund.engine.coding import code_activities
from casefund.payers.fmap import FMAP_TERMS, health_home_fmap
from casefund.payers.terms import contract_parameters
from casefund.records.contracts import Contract
from casefund.records.frames import categorical, categorical_of
from casefund.records.payment_models import PAYMENT_MODELS
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
    "primary_reason",
    "primary_contract_id",
    "service_date",
    "activity",
    "payment",
    "federal_share",
]
# The columns denials.csv holds; in memory denials also carry each activity's participant and
# service date.
DENIAL_COLUMNS = ["activity_id", "contract_id", "rule_id", "minutes", "primary", "unknown_fact"]
# Carried by lines in memory (never written to lines.csv): who delivered the activity and
# their cost per hour (NaN where the staff table does not say); for unbillable lines,
# whether the primary refusal was for want of a known fact, and what the primary contract
# would have paid.
MEMORY_COLUMNS = ["staff_id", "hourly_cost", "pass_through", "fact_unknown", "estimated_amount"]


@dataclass
class Billing:
    """What billing the adjudicated activities gives: the lines, and every refusal."""

    lines: pd.DataFrame
    denials: pd.DataFrame


def bill(
    adjudication: Adjudication,
    contracts: list[Contract],
    book: RuleBook,
    decider: Decider | None = None,
    budget_spent: dict[str, float] | None = None,
    resume: Checkpoint | None = None,
) -> Billing:
    """The lines of the adjudicated activities under the contracts (in waterfall order),
    then one line per refused activity row; and every contract's refusals. ``resume``: a
    checkpoint of the same walk to take up (a partition's last pass)."""
    allocation = allocate(adjudication, contracts, book, decider, budget_spent, resume=resume)
    lines = lines_of(adjudication, contracts, allocation, book)  # marks the primary denials
    denials = denials_of(adjudication, contracts, allocation)
    if adjudication.refused is None or adjudication.refused.empty:
        return Billing(lines, denials)  # a live post: nothing refused, no empty frame built
    return Billing(append_lines(lines, refused_lines(adjudication.refused, book)), denials)


def no_lines() -> pd.DataFrame:
    """An empty lines table with every column."""
    return pd.DataFrame(columns=[*LINE_COLUMNS, *MEMORY_COLUMNS])


def _take(adjudication: Adjudication, name: str, rows: np.ndarray) -> pd.Categorical:
    """An activity column's values at ``rows`` as a categorical (sorted categories): cheap
    for repeated codes, and factorized once per adjudication rather than cast to a
    categorical, which costs more than the lines themselves on the few rows of a live post."""
    codes, kinds = adjudication.coded(name)
    return pd.Categorical.from_codes(codes[rows], dtype=kinds, validate=False)


def _procedure_codes(
    adjudication: Adjudication, contracts: list[Contract], allocation: Allocation, book: RuleBook
) -> tuple[np.ndarray, np.ndarray]:
    """Each billable line's procedure code and modifiers: the activity's recorded code where
    it has one, else the code the contract's program's coding rules give."""
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
        recorded_code = adjudication.array("procedure_code")[at]
        recorded_mods = adjudication.array("modifiers")[at]
        use_recorded = recorded_code != ""
        codes[selected] = np.where(use_recorded, recorded_code, code)
        modifiers[selected] = np.where(use_recorded, recorded_mods, mods)
    return codes, modifiers


def _billed_units(
    adjudication: Adjudication,
    contracts: list[Contract],
    allocation: Allocation,
    book: RuleBook,
    codes: np.ndarray,
    modifiers: np.ndarray,
) -> np.ndarray:
    """Each line's units, those of cost-reimbursed lines restated in their procedure code's
    unit of service (see :mod:`casefund.allocate.service_units`)."""
    units = np.asarray(allocation.units, dtype=float)
    rows = allocation.activity_row
    recorded = ~np.isnan(adjudication.array("quantity")[rows])
    unit = np.full(len(rows), "", dtype=object)
    restated = np.zeros(len(rows), dtype=bool)
    for position, contract in enumerate(contracts):
        if PAYMENT_MODELS[contract.payment].unit != "cost":
            continue
        params = contract_parameters(book.parameters, contract)
        if not params.usable("unit_of_service"):
            continue
        mine = (allocation.contract == position) & (allocation.status == LineStatus.BILLABLE)
        if not mine.any():
            continue
        at = np.flatnonzero(mine)
        for segment, value in params.value_segments("unit_of_service", adjudication.days[rows[at]]):
            table = value or {}
            found = pd.Series(codes[at[segment]], dtype=object).map(table)
            # A code whose unit is not in the table counts one unit an activity.
            unit[at[segment]] = found.fillna(ONE_PER_ACTIVITY).to_numpy(dtype=object)
        restated |= mine
    if not restated.any():
        return units
    # Only restated lines are grouped by code: the others' codes are never joined as text.
    code = np.full(len(rows), "", dtype=object)
    code[restated] = codes[restated].astype(str) + ":" + modifiers[restated].astype(str)
    keys = {
        "participant": adjudication.array("_code")[rows],
        "day": adjudication.days[rows],
        "month": adjudication.array("_month_index")[rows],
        "code": code,
        "contract": allocation.contract,
    }
    return units_of_service(units, unit, allocation.minutes, recorded | ~restated, keys)


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
    allocation = _in_line_order(allocation)
    rows = allocation.activity_row
    contract_ix = allocation.contract
    pick = np.where(contract_ix >= 0, contract_ix, len(contracts))

    def per_contract(values: list[str]) -> pd.Categorical:
        return categorical_of(np.array([*values, ""], dtype=object), pick)

    codes, modifiers = _procedure_codes(adjudication, contracts, allocation, book)
    units = _billed_units(adjudication, contracts, allocation, book, codes, modifiers)
    ids = pd.Index(np.array([c.id for c in contracts] + [""], dtype=object), dtype=object)
    return pd.DataFrame(
        {
            "activity_id": acts["_activity_id"].array.take(rows),
            "participant_id": _take(adjudication, "participant_id", rows),
            "month": _take(adjudication, "_month", rows),
            "contract_id": pd.Categorical.from_codes(pick, categories=ids),
            "payer": per_contract([c.payer for c in contracts]),
            "program": per_contract([c.program for c in contracts]),
            "status": status_labels(allocation.status),
            "minutes": allocation.minutes,
            "units": np.round(units, 2),
            "amount": np.round(allocation.amount, 2),
            "procedure_code": categorical(codes),
            "modifiers": categorical(modifiers),
            **_primary_columns(adjudication, contracts, allocation, book),
            "service_date": _take(adjudication, "_date_text", rows),
            "activity": _take(adjudication, "activity", rows),
            "payment": per_contract([c.payment for c in contracts]),
            "federal_share": _federal_share(contracts, allocation, book, adjudication.days[rows]),
            "staff_id": _staff_ids(adjudication, rows),
            "hourly_cost": adjudication.hourly_cost[rows],
            "pass_through": np.round(allocation.pass_through, 2),
        }
    )


def _in_line_order(allocation: Allocation) -> Allocation:
    """The allocation's shares in line order: by activity, funded shares in waterfall order,
    the unbillable remainder last. Ordering the shares before the columns are built costs
    one take per array instead of reordering the finished frame."""
    contract = allocation.contract
    order = np.lexsort(
        (
            contract == -1,
            np.where(contract >= 0, contract, contract.max(initial=0) + 1),
            allocation.activity_row,
        )
    )
    return replace(
        allocation,
        activity_row=allocation.activity_row[order],
        contract=contract[order],
        minutes=allocation.minutes[order],
        units=allocation.units[order],
        amount=allocation.amount[order],
        status=allocation.status[order],
        reasons=allocation.reasons[order],
        pass_through=allocation.pass_through[order],
    )


def _primary_columns(
    adjudication: Adjudication, contracts: list[Contract], allocation: Allocation, book: RuleBook
) -> dict[str, pd.Categorical | np.ndarray]:
    """Each unbillable line's primary reason and the contract it comes from (blank on
    billed lines), and — carried in memory only — whether that refusal was for want of a
    known fact and what the contract would have paid (see :mod:`casefund.allocate.recovery`).
    Marks the primary denials (see :mod:`casefund.allocate.denials`)."""
    denials = allocation.denials
    unbillable = allocation.contract == -1
    leftover = allocation.activity_row[unbillable]
    chosen, _ = choose_primary(
        denials,
        book,
        leftover,
        _recorded(adjudication, contracts),
        ever_had(denials, book, adjudication, contracts),
        needs_enrollment(book, contracts),
    )
    reason_ids = np.array([*denials.ids, "allocation.no_contract", ""], dtype=object)
    contract_ids = np.array([*(c.id for c in contracts), ""], dtype=object)
    reason = np.full(len(allocation.contract), len(reason_ids) - 1, dtype=np.int64)
    contract = np.full(len(allocation.contract), -1, dtype=np.int64)
    unknown = np.zeros(len(allocation.contract), dtype=bool)
    found = chosen >= 0
    at = np.flatnonzero(unbillable)
    reason[at] = len(reason_ids) - 2  # no contract refused it: there was none to try
    reason[at[found]] = denials.reason[chosen[found]]
    contract[at[found]] = denials.contract[chosen[found]]
    unknown[at[found]] = denials.unknown[chosen[found]]
    # An unbillable line's reasons are the refusals of the contracts as well placed to pay
    # it as its primary contract; every contract's are in the denials.
    refused = line_reasons(denials, leftover, best_tier(denials), "allocation.no_contract")
    return {
        "reasons": _replace_rows(allocation.reasons, at, refused),
        "primary_reason": categorical_of(reason_ids, reason),
        "primary_contract_id": categorical_of(
            contract_ids, np.where(contract >= 0, contract, len(contract_ids) - 1)
        ),
        "fact_unknown": unknown,
        "estimated_amount": estimate_unbilled(adjudication, contracts, allocation, book, contract),
    }


def _replace_rows(base: pd.Categorical, at: np.ndarray, new: pd.Categorical) -> pd.Categorical:
    """``base`` with the rows ``at`` replaced by ``new``, categories joined."""
    categories = base.categories.append(new.categories[~new.categories.isin(base.categories)])
    codes = np.asarray(base.codes).astype(np.int64)
    codes[at] = categories.get_indexer(new.categories)[np.asarray(new.codes)]
    result: pd.Categorical = pd.Categorical.from_codes(codes, categories=categories)
    return result


def _recorded(adjudication: Adjudication, contracts: list[Contract]) -> np.ndarray:
    """Per activity row, the position of the contract the worker recorded (−1: none, or one
    not in this run)."""
    if "contract_id" not in adjudication.acts:
        return np.full(len(adjudication.acts), -1, dtype=np.int64)
    position = {c.id: i for i, c in enumerate(contracts)}
    codes, kinds = adjudication.coded("contract_id")
    table = np.array([*(position.get(c, -1) for c in kinds.categories), -1], dtype=np.int64)
    return table[np.where(codes < 0, len(kinds.categories), codes)]


def denials_of(
    adjudication: Adjudication, contracts: list[Contract], allocation: Allocation
) -> pd.DataFrame:
    """One row per activity × contract × deciding rule: the minutes that contract was
    offered and refused, whether this is the row behind the line's primary reason, and
    whether the rule refused for want of a known fact."""
    acts = adjudication.acts
    denials = allocation.denials
    rows = denials.rows
    contract_ids = np.array([c.id for c in contracts], dtype=object)
    primary = denials.primary if len(denials.primary) == len(rows) else np.zeros(len(rows), bool)
    return pd.DataFrame(
        {
            "activity_id": acts["_activity_id"].array.take(rows),
            "participant_id": _take(adjudication, "participant_id", rows),
            "service_date": _take(adjudication, "_date_text", rows),
            "contract_id": categorical_of(contract_ids, denials.contract),
            "rule_id": categorical_of(np.asarray(denials.ids, dtype=object), denials.reason),
            "minutes": denials.minutes,
            "primary": primary,
            "unknown_fact": denials.unknown,
        }
    )


def _staff_ids(adjudication: Adjudication, rows: np.ndarray) -> pd.Categorical:
    """Who delivered each line's activity ('' where the activities do not say)."""
    if "staff_id" not in adjudication.acts:
        return categorical(np.full(len(rows), "", dtype=object))
    codes, kinds = adjudication.coded("staff_id")
    if (codes < 0).any():
        return categorical(adjudication.array("staff_id")[rows])
    return pd.Categorical.from_codes(codes[rows], dtype=kinds, validate=False)


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
            "primary_reason": "input.rejected",
            "primary_contract_id": "",
            "service_date": date.dt.strftime("%Y-%m-%d").fillna("").to_numpy(dtype=object),
            "activity": text("activity"),
            "payment": "",
            "federal_share": np.nan,
            "staff_id": text("staff_id") if "staff_id" in refused else "",
            "hourly_cost": np.nan,
            "pass_through": 0.0,  # a refused row's recorded cost is not read
            "fact_unknown": False,
            "estimated_amount": 0.0,
        }
    )
    # Sorted by content, not by input position, so shuffled inputs list them identically.
    keys = ["activity_id", "participant_id", "service_date", "activity"]
    return lines.sort_values(keys, kind="stable").reset_index(drop=True)

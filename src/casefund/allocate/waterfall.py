"""The payer waterfall: contracts in priority order take what their rules and caps allow.

Payers of last resort (Ryan White, grants) carry the highest priority numbers, so by the
time they are offered an activity every other payer has taken what it can. Each contract
sees only the minutes the contracts before it left; whatever no contract takes becomes one
``unbillable`` line carrying the ids of every rule and outcome that stopped each contract.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from casefund.allocate.payments import Offer, pay
from casefund.allocate.reasons import ReasonBits
from casefund.engine.decide import Decisions, decide
from casefund.engine.params import ResolvedParameters, contract_parameters, day_number
from casefund.facts.scope import FactScope
from casefund.payers.contracts import Contract
from casefund.rules.loader import RuleBook

UNBILLABLE = 3


@dataclass
class MonthContext:
    """Participant-months of the activities, and each activity's participant-month."""

    scope: FactScope
    as_of: np.ndarray
    of_activity: np.ndarray


@dataclass
class Allocation:
    activity_row: np.ndarray
    contract: np.ndarray  # index into contracts, -1 unfunded
    minutes: np.ndarray
    units: np.ndarray
    amount: np.ndarray
    status: np.ndarray  # 1 billable, 2 bundled, 3 unbillable
    reasons: pd.Categorical  # decoded rule ids
    month_decisions: dict[str, Decisions] = field(default_factory=dict)


def contract_order(contracts: list[Contract]) -> list[Contract]:
    return sorted(contracts, key=lambda c: (c.priority, c.id))


def _effective(contract: Contract, days: np.ndarray) -> np.ndarray:
    mask = np.ones(len(days), dtype=bool)
    if contract.effective.start is not None:
        mask &= days >= day_number(contract.effective.start)
    if contract.effective.end is not None:
        mask &= days <= day_number(contract.effective.end)
    return mask


def _episodes(contract: Contract, scope: FactScope, rows: np.ndarray) -> dict[str, np.ndarray]:
    """Per episode cap of the contract, each offered row's episode: the number of the
    recorded span of the cap's program (with the contract's payer) covering its day."""
    out = {}
    for cap_id, limit in contract.caps.episode_limits().items():
        spans = scope.data.determinations(limit.program, contract.coverage_payer)
        out[cap_id] = spans.containing(scope.codes[rows], scope.as_of[rows])
    return out


def all_reason_ids(book: RuleBook) -> list[str]:
    return book.reason_ids()


Decider = Callable[[int, Contract, ResolvedParameters], tuple[Decisions, Decisions]]


def batch_decider(
    book: RuleBook, activity_scope: FactScope, months: MonthContext, days: np.ndarray
) -> Decider:
    """Rule decisions for one contract over all rows, from the batch evaluator."""

    def decide_for(
        position: int, contract: Contract, params: ResolvedParameters
    ) -> tuple[Decisions, Decisions]:
        rules = book.program_rules(contract.program)
        payer = contract.coverage_payer
        per_activity = decide([r for r in rules if r.rule.scope == "activity"], activity_scope,
                              params, days, payer)
        per_month = decide([r for r in rules if r.rule.scope == "participant_month"],
                           months.scope.with_params({}, payer), params, months.as_of, payer)
        return per_activity, per_month

    return decide_for


def allocate(
    acts: pd.DataFrame,
    contracts: list[Contract],
    book: RuleBook,
    activity_scope: FactScope,
    months: MonthContext,
    hourly_cost: np.ndarray,
    decider: Decider | None = None,
    budget_spent: dict[str, float] | None = None,
) -> Allocation:
    """Walk the activities through the contracts.

    ``decider`` supplies each contract's rule decisions (the batch evaluator by default; the
    event session supplies durable-rules' decisions). ``budget_spent`` is what each contract
    already spent on activities outside ``acts``.
    """
    n = len(acts)
    days_all = acts["_day"].to_numpy(np.int64)
    decider = decider or batch_decider(book, activity_scope, months, days_all)
    bits = ReasonBits(all_reason_ids(book), n)
    stop_bits = bits.empty()
    days = acts["_day"].to_numpy(np.int64)
    minutes = acts["minutes"].to_numpy(dtype=np.int64, na_value=0)
    remaining = minutes.copy()
    recorded_cost = acts["amount"].to_numpy(dtype=float, na_value=np.nan)
    remaining_cost = np.nan_to_num(recorded_cost)
    funded = np.zeros(n, dtype=bool)
    participant = acts["_code"].to_numpy(np.int64)
    month_index = acts["_month_index"].to_numpy(np.int64)
    year = acts["_year"].to_numpy(np.int64)
    quantity = acts["quantity"].to_numpy(dtype=float, na_value=np.nan)
    activity_codes = acts["activity"].to_numpy(dtype=object, na_value="")
    modes = acts["mode"].astype(object).fillna("").to_numpy(dtype=object)
    rank = np.arange(n, dtype=np.int64)
    parts: list[tuple[np.ndarray, int, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                      np.ndarray]] = []
    month_decisions: dict[str, Decisions] = {}
    # Which contract holds each participant-month, per program that allows only one.
    month_owner: dict[str, np.ndarray] = {}

    for position, contract in enumerate(contracts):
        open_rows = (remaining > 0) | (~funded & (minutes == 0))
        if not open_rows.any():
            break
        rules = book.program_rules(contract.program)
        if not rules:
            bits.set(stop_bits, "program.no_rules", open_rows)
            continue
        effective = _effective(contract, days)
        bits.set(stop_bits, "contract.not_effective", open_rows & ~effective)
        # Rules fail closed: outside its program's rule set a contract bills nothing, even
        # where no single rule would have denied (no rule applies there at all).
        in_force = book.in_force(contract.program, days)
        rule_set = book.rule_set(contract.program)
        if rule_set is not None:
            bits.set(stop_bits, rule_set.id, open_rows & effective & ~in_force)
        candidates = open_rows & effective & in_force
        if not candidates.any():
            continue
        params = contract_parameters(book, contract)
        per_activity, per_month = decider(position, contract, params)
        month_decisions[contract.id] = per_month
        denied = per_activity.any_denied(n)
        for rule_id, mask in per_activity.denied:
            bits.set(stop_bits, rule_id, candidates & mask)
        of_month = months.of_activity
        for rule_id, mask in per_month.denied:
            bits.set(stop_bits, rule_id, candidates & mask[of_month])
            denied |= mask[of_month]
        if book.has_populations(contract.program):
            _tested, met = per_month.any_population(len(months.as_of))
            no_population = ~met[of_month]
            bits.set(stop_bits, "eligibility.no_population", candidates & no_population)
            denied |= no_population
        owner = None
        one_per_month = params.terms(months.as_of).flag("one_contract_per_month")
        if one_per_month.any():
            owner = month_owner.setdefault(contract.program,
                                           np.full(len(months.as_of), -1, dtype=np.int64))
            held = owner[of_month]
            taken_elsewhere = one_per_month[of_month] & (held >= 0) & (held != position)
            bits.set(stop_bits, "allocation.one_contract_per_month", candidates & taken_elsewhere)
            denied |= taken_elsewhere
        allowed = candidates & ~denied
        rows = np.flatnonzero(allowed)
        if len(rows) == 0:
            continue
        offer = Offer(
            minutes=remaining[rows],
            amount=remaining_cost[rows],
            quantity=quantity[rows],
            participant=participant[rows],
            day=days[rows],
            month=month_index[rows],
            year=year[rows],
            rank=rank[rows],
            activity=activity_codes[rows],
            hourly_cost=hourly_cost[rows],
            mode=modes[rows],
            episode=_episodes(contract, activity_scope, rows),
        )
        spent = (budget_spent or {}).get(contract.id, 0.0)
        paying = contract
        if spent and contract.caps.budget is not None:
            caps = contract.caps.model_copy(update={"budget": contract.caps.budget - spent})
            paying = contract.model_copy(update={"caps": caps})
        take = pay(offer, params, paying)
        taken = take.status > 0
        line_bits = bits.empty(len(rows))
        for rule_id, mask in take.line_reasons:
            bits.set(line_bits, rule_id, mask & taken)
        for rule_id, mask in per_activity.warned:
            bits.set(line_bits, rule_id, mask[rows] & taken)
        for rule_id, mask in per_month.warned:
            bits.set(line_bits, rule_id, mask[of_month][rows] & taken)
        partial = taken & (take.minutes < offer.minutes)
        for rule_id, mask in take.stop_reasons:
            bits.set(line_bits, rule_id, mask & partial)
            stop_rows = np.zeros(n, dtype=bool)
            stop_rows[rows] = mask & ((~taken) | partial)
            bits.set(stop_bits, rule_id, stop_rows)
        sel = np.flatnonzero(taken)
        parts.append((rows[sel], position, take.minutes[sel], take.units[sel], take.amount[sel],
                      take.status[sel], line_bits[sel]))
        remaining[rows] -= take.minutes
        remaining_cost[rows] -= take.cost_taken
        funded[rows[sel]] = True
        if owner is not None:
            held_months = of_month[rows[sel]]
            owner[held_months] = np.where(owner[held_months] < 0, position, owner[held_months])

    leftover = np.flatnonzero((remaining > 0) | ~funded)
    left_bits = stop_bits[leftover]
    nothing = ~np.asarray(left_bits.any(axis=1), dtype=bool)
    bits.set(left_bits, "allocation.no_contract", nothing)
    parts.append((leftover, -1, remaining[leftover], np.zeros(len(leftover)),
                  np.zeros(len(leftover)), np.full(len(leftover), UNBILLABLE), left_bits))
    activity_row = np.concatenate([p[0] for p in parts]).astype(np.int64)
    contract_ix = np.concatenate([np.full(len(p[0]), p[1]) for p in parts]).astype(np.int64)
    return Allocation(
        activity_row=activity_row,
        contract=contract_ix,
        minutes=np.concatenate([p[2] for p in parts]).astype(np.int64),
        units=np.concatenate([p[3] for p in parts]).astype(float),
        amount=np.concatenate([p[4] for p in parts]).astype(float),
        status=np.concatenate([p[5] for p in parts]).astype(np.int64),
        reasons=bits.decode(np.concatenate([p[6] for p in parts])),
        month_decisions=month_decisions,
    )

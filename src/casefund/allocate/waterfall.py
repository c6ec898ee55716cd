"""The payer waterfall: contracts in priority order take what their rules and caps allow.

Payers of last resort (Ryan White, grants) carry the highest priority numbers, so by the
time they are offered an activity every other payer has taken what it can. Each contract
sees only the minutes the contracts before it left; whatever no contract takes becomes one
``unbillable`` line carrying the ids of every rule and outcome that stopped each contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from casefund.allocate.checkpoint import Checkpoint, Share
from casefund.allocate.denials import DenialLog, Denials
from casefund.allocate.models import pay
from casefund.allocate.offer import AllowedActivities, ContractShare, offered
from casefund.allocate.status import LineStatus
from casefund.engine.adjudication import Adjudication, Decider
from casefund.engine.decide import Decisions
from casefund.engine.reasons import ReasonBits
from casefund.payers.terms import ResolvedParameters, contract_parameters
from casefund.records.contracts import Contract
from casefund.rules.book import RuleBook


@dataclass
class Allocation:
    """Every share of every activity: the waterfall's result before it becomes lines."""

    activity_row: np.ndarray
    contract: np.ndarray  # index into contracts, -1 unfunded
    minutes: np.ndarray
    units: np.ndarray
    amount: np.ndarray
    status: np.ndarray  # LineStatus codes
    reasons: pd.Categorical  # decoded rule ids
    denials: Denials
    # Recorded costs (pass-through dollars: a deposit, meals) each share carries: what the
    # contract paid of them, and on the unbillable remainder what nobody paid.
    pass_through: np.ndarray = field(default_factory=lambda: np.zeros(0))


def contract_order(contracts: list[Contract]) -> list[Contract]:
    """Contracts in waterfall order: priority, then id."""
    return sorted(contracts, key=lambda c: (c.priority, c.id))


class Waterfall:
    """What is left of each activity as the contracts take their shares, and why each
    contract stopped where it did."""

    def __init__(
        self, adjudication: Adjudication, book: RuleBook, log_denials: bool = True
    ) -> None:
        self.adjudication = adjudication
        self.book = book
        self.rows = len(adjudication.acts)
        self.bits = ReasonBits(book.reason_ids(), self.rows)
        self.stop_bits = self.bits.empty()
        self.minutes = adjudication.array("minutes")
        self.remaining = self.minutes.copy()
        self.remaining_cost = np.nan_to_num(adjudication.array("amount"))
        self.funded = np.zeros(self.rows, dtype=bool)
        self.shares: list[Share] = []
        # Which contract holds each participant-month, per program that allows only one,
        # and whether the contract being walked is one that holds its months.
        self.month_owner: dict[str, np.ndarray] = {}
        self.holds_months = False
        self.position = -1  # the contract being walked
        self.log = DenialLog(self.bits.ids, enabled=log_denials)

    def checkpoint(self, start: int) -> Checkpoint:
        """The state before walking contract position ``start`` (copies: the walk goes on)."""
        log = self.log
        return Checkpoint(
            start,
            self.remaining.copy(),
            self.remaining_cost.copy(),
            self.funded.copy(),
            self.stop_bits.copy(),
            list(self.shares),  # shares are never written once taken
            {program: owner.copy() for program, owner in self.month_owner.items()},
            list(zip(log.rows, log.contracts, log.reasons, log.minutes, log.unknown, strict=True))
            if log.enabled
            else [],
        )

    def resume(self, checkpoint: Checkpoint) -> None:
        """Take up the walk where ``checkpoint`` paused it (its refusals logged again only
        where this walk logs refusals)."""
        if len(checkpoint.remaining) != self.rows:
            raise ValueError("a checkpoint of another adjudication")
        self.remaining = checkpoint.remaining.copy()
        self.remaining_cost = checkpoint.remaining_cost.copy()
        self.funded = checkpoint.funded.copy()
        self.stop_bits = checkpoint.stop_bits.copy()
        self.shares = list(checkpoint.shares)
        self.month_owner = {p: owner.copy() for p, owner in checkpoint.month_owner.items()}
        for rows, contract, reason, minutes, unknown in checkpoint.log:
            self.log.add(rows, contract, reason, minutes, unknown)

    def open_rows(self) -> np.ndarray:
        """Rows with minutes left, or with no minutes and not yet funded."""
        open_: np.ndarray = (self.remaining > 0) | (~self.funded & (self.minutes == 0))
        return open_

    def stop(
        self,
        reason: str,
        rows: np.ndarray,
        refused: np.ndarray | None = None,
        unknown: np.ndarray | None = None,
    ) -> None:
        """The contract being walked refused ``rows`` for ``reason``: ``refused`` minutes of
        each (default: all it had left); ``unknown`` marks rows refused for want of a known
        fact."""
        at = np.flatnonzero(rows)
        if not len(at):  # most contracts refuse nothing for most reasons
            return
        self.bits.set(self.stop_bits, reason, rows)
        minutes = (self.remaining if refused is None else refused)[at]
        self.log.add(
            at,
            self.position,
            self.bits.position[reason],
            minutes,
            None if unknown is None else unknown[at],
        )

    def candidates(self, contract: Contract, open_rows: np.ndarray) -> np.ndarray:
        """Open rows inside the contract's effective dates and its program's rule set. Rules
        fail closed: outside its rule set a contract bills nothing, even where no single
        rule would have denied (no rule applies there at all)."""
        days = self.adjudication.days
        if not self.book.program_rules(contract.program):
            self.stop("program.no_rules", open_rows)
            return np.zeros(self.rows, dtype=bool)
        effective = contract.effective.mask(days)
        self.stop("contract.not_effective", open_rows & ~effective)
        in_force = self.book.in_force(contract.program, days)
        rule_set = self.book.rule_set(contract.program)
        if rule_set is not None:
            self.stop(rule_set.id, open_rows & effective & ~in_force)
        candidates: np.ndarray = open_rows & effective & in_force
        return candidates

    def denied(
        self,
        position: int,
        contract: Contract,
        decisions: tuple[Decisions, Decisions],
        params: ResolvedParameters,
        candidates: np.ndarray,
    ) -> np.ndarray:
        """Candidate rows the contract's rules deny (each denial recorded as a stop)."""
        months = self.adjudication.months
        of_month = months.of_activity
        per_activity, per_month = decisions
        denied = per_activity.any_denied(self.rows)
        for rule_id, mask in per_activity.denied:
            self.stop(rule_id, candidates & mask, unknown=per_activity.unknown.get(rule_id))
        for rule_id, mask in per_month.denied:
            unknown = per_month.unknown.get(rule_id)
            self.stop(
                rule_id,
                candidates & mask[of_month],
                unknown=None if unknown is None else unknown[of_month],
            )
            denied |= mask[of_month]
        if self.book.has_populations(contract.program):
            _tested, met = per_month.any_population(len(months.as_of))
            self.stop("eligibility.no_population", candidates & ~met[of_month])
            denied |= ~met[of_month]
        one_per_month = params.terms(months.as_of).flag("one_contract_per_month")
        self.holds_months = bool(one_per_month.any())
        if self.holds_months:
            owner = self.month_owner.setdefault(
                contract.program, np.full(len(months.as_of), -1, dtype=np.int64)
            )
            held = owner[of_month]
            taken_elsewhere = one_per_month[of_month] & (held >= 0) & (held != position)
            self.stop("allocation.one_contract_per_month", candidates & taken_elsewhere)
            denied |= taken_elsewhere
        return denied

    def offer(self, contract: Contract, rows: np.ndarray) -> AllowedActivities:
        return offered(
            self.adjudication, contract, rows, self.remaining[rows], self.remaining_cost[rows]
        )

    def record(
        self,
        position: int,
        contract: Contract,
        rows: np.ndarray,
        offer: AllowedActivities,
        share: ContractShare,
        decisions: tuple[Decisions, Decisions],
    ) -> None:
        """Keep the rows the contract took, with why, and take them out of what is left."""
        of_month = self.adjudication.months.of_activity
        taken = share.status > 0
        line_bits = self.bits.empty(len(rows))
        for rule_id, mask in share.line_reasons:
            self.bits.set(line_bits, rule_id, mask & taken)
        per_activity, per_month = decisions
        for rule_id, mask in per_activity.warned:
            self.bits.set(line_bits, rule_id, mask[rows] & taken)
        for rule_id, mask in per_month.warned:
            self.bits.set(line_bits, rule_id, mask[of_month][rows] & taken)
        # Taken in part: some minutes, or some of the recorded cost (a deposit a budget
        # paid only partly), left for the contracts after this one.
        cost_left = np.round(offer.amount - share.cost_taken, 2) > 0
        partial = taken & ((share.minutes < offer.minutes) | cost_left)
        refused = np.zeros(self.rows, dtype=np.int64)
        refused[rows] = offer.minutes - share.minutes
        for rule_id, mask in share.stop_reasons:
            self.bits.set(line_bits, rule_id, mask & partial)
            stop_rows = np.zeros(self.rows, dtype=bool)
            stop_rows[rows] = mask & ((~taken) | partial)
            self.stop(rule_id, stop_rows, refused)
        sel = np.flatnonzero(taken)
        self.shares.append(
            (
                rows[sel],
                position,
                share.minutes[sel],
                share.units[sel],
                share.amount[sel],
                share.status[sel],
                line_bits[sel],
                share.cost_taken[sel],
            )
        )
        self.remaining[rows] -= share.minutes
        self.remaining_cost[rows] -= share.cost_taken
        self.funded[rows[sel]] = True
        if self.holds_months:
            owner = self.month_owner[contract.program]
            held = of_month[rows[sel]]
            owner[held] = np.where(owner[held] < 0, position, owner[held])

    def finish(self) -> Allocation:
        """The shares taken, then one unbillable share per row with anything left: minutes,
        or recorded cost no contract paid (a cent or more)."""
        unpaid_cost = np.round(self.remaining_cost, 2) > 0
        leftover = np.flatnonzero((self.remaining > 0) | ~self.funded | unpaid_cost)
        left_bits = self.stop_bits[leftover]
        nothing = ~np.asarray(left_bits.any(axis=1), dtype=bool)
        self.bits.set(left_bits, "allocation.no_contract", nothing)
        shares = [
            *self.shares,
            (
                leftover,
                -1,
                self.remaining[leftover],
                np.zeros(len(leftover)),
                np.zeros(len(leftover)),
                np.full(len(leftover), LineStatus.UNBILLABLE),
                left_bits,
                np.clip(self.remaining_cost[leftover], 0.0, None),
            ),
        ]
        return Allocation(
            activity_row=np.concatenate([s[0] for s in shares]).astype(np.int64),
            contract=np.concatenate([np.full(len(s[0]), s[1]) for s in shares]).astype(np.int64),
            minutes=np.concatenate([s[2] for s in shares]).astype(np.int64),
            units=np.concatenate([s[3] for s in shares]).astype(float),
            amount=np.concatenate([s[4] for s in shares]).astype(float),
            status=np.concatenate([s[5] for s in shares]).astype(np.int64),
            reasons=self.bits.decode(np.concatenate([s[6] for s in shares])),
            denials=self.log.denials(),
            pass_through=np.concatenate([s[7] for s in shares]).astype(float),
        )


def allocate(
    adjudication: Adjudication,
    contracts: list[Contract],
    book: RuleBook,
    decider: Decider | None = None,
    budget_spent: dict[str, float] | None = None,
    log_denials: bool = True,
    resume: Checkpoint | None = None,
) -> Allocation:
    """Walk the adjudicated activities through the contracts (in waterfall order).

    ``decider`` supplies each contract's rule decisions (the adjudication's batch decisions
    by default; the live session supplies durable-rules' decisions). ``budget_spent`` is
    what each contract already spent on activities outside this adjudication.
    ``log_denials=False`` records no refusals (the allocation's denials are then empty):
    for a pass that only needs the payments. ``resume`` starts from a checkpoint of the
    same adjudication under the same contracts (:func:`allocate_paused`), walking only the
    contracts from its position on.
    """
    walk = Waterfall(adjudication, book, log_denials)
    start = 0
    if resume is not None:
        walk.resume(resume)
        start = resume.start
    walk_contracts(walk, contracts, start, decider, budget_spent)
    return walk.finish()


def allocate_paused(
    adjudication: Adjudication, contracts: list[Contract], book: RuleBook, pause: int
) -> tuple[Allocation, Checkpoint]:
    """The payments of every contract, and a checkpoint before contract position ``pause``:
    refusals are logged up to it (what a later ``allocate(resume=...)`` that logs needs) and
    not after (only the payments are wanted from this walk)."""
    walk = Waterfall(adjudication, book, log_denials=True)
    walk_contracts(walk, contracts, 0, None, None, stop=pause)
    checkpoint = walk.checkpoint(pause)
    walk.log.enabled = False
    walk_contracts(walk, contracts, pause, None, None)
    return walk.finish(), checkpoint


def walk_contracts(
    walk: Waterfall,
    contracts: list[Contract],
    start: int,
    decider: Decider | None,
    budget_spent: dict[str, float] | None,
    stop: int | None = None,
) -> None:
    """Offer what is left to the contracts at positions ``start`` up to ``stop``."""
    decider = decider or walk.adjudication.decider(walk.book)
    for position in range(start, len(contracts) if stop is None else stop):
        contract = contracts[position]
        open_rows = walk.open_rows()
        if not open_rows.any():
            break
        walk.position = position
        candidates = walk.candidates(contract, open_rows)
        if not candidates.any():
            continue
        params = contract_parameters(walk.book.parameters, contract)
        decisions = decider(position, contract, params)
        denied = walk.denied(position, contract, decisions, params, candidates)
        rows = np.flatnonzero(candidates & ~denied)
        if len(rows) == 0:
            continue
        offer = walk.offer(contract, rows)
        share = pay(offer, params, _with_budget_left(contract, budget_spent))
        walk.record(position, contract, rows, offer, share, decisions)


def _with_budget_left(contract: Contract, budget_spent: dict[str, float] | None) -> Contract:
    """The contract with what others already spent of its budget taken off."""
    spent = (budget_spent or {}).get(contract.id, 0.0)
    if not spent or contract.caps.budget is None:
        return contract
    caps = contract.caps.model_copy(update={"budget": contract.caps.budget - spent})
    return contract.model_copy(update={"caps": caps})

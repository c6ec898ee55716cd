"""The native backend's rule decisions: one-row kernels on the rows a post changed.

A post changes the facts of its participant's activities on and after its day (counts of
earlier services, running totals) and of nothing before it; a participant-month's facts
are the participant's, which posting never changes. So the session decides only those
rows, and keeps every other row's outcome from earlier posts.

A few rows (a worker saving a note) are decided by :func:`casefund.rules.scalar.holds` over
each row's facts; many rows (a restart, a backlog) by the batch evaluator's whole-column
kernels, whose fixed cost per rule is then less than the row kernels' cost per row. The
differential tests hold the two to the same answer on every bundled rule.
"""

from __future__ import annotations

import copy

import numpy as np

from casefund.engine.decide import condition_truth
from casefund.facts.row import RowScope
from casefund.facts.scope import FactScope
from casefund.live.rulesets import ContractRules
from casefund.rules.loader import CompiledRule
from casefund.rules.scalar import holds

# A row's outcome: (contract position, rule id) → True where the condition holds, None where
# it is not known; rules whose condition is false are left out.
Outcome = dict[tuple[int, str], bool | None]

# From this many rows up, whole-column kernels decide faster than one-row kernels. Measured
# on the demo contracts (8 contracts, a fresh 129-row block, facts included): one row at a
# time 21 ms for 24 rows and 41 ms for 96; the whole block 26-27 ms at any size.
BLOCK_ROWS = 48


def decide_rows(
    entries: list[ContractRules],
    scope: FactScope,
    rows: np.ndarray,
    monthly: bool,
    unknown_only: bool = False,
) -> list[Outcome]:
    """Every contract's activity (or participant-month) rules on ``rows`` of ``scope``,
    each row under the parameter values in force on its day (``unknown_only``: only where
    a condition is not known, for a backend that decides what held itself)."""
    if len(rows) >= BLOCK_ROWS:
        return decide_block(entries, scope, rows, monthly, unknown_only)
    kept = (None,) if unknown_only else (True, None)
    out: list[Outcome] = []
    days = scope.as_of
    for row in rows.tolist():
        day = int(days[row])
        outcome: Outcome = {}
        for entry in entries:
            rules = entry.month_rules if monthly else entry.activity_rules
            if not rules:
                continue
            _key, values = entry.values_on(day)
            view = RowScope(scope.with_params(values, entry.contract.coverage_payer), row)
            for rule in rules:
                if rule.id in entry.skipped:
                    continue
                result = holds(rule.condition, view)
                if result in kept:
                    outcome[(entry.position, rule.id)] = result
        out.append(outcome)
    return out


def requirements(entries: list[ContractRules]) -> list[ContractRules]:
    """Each entry with only the rules whose unknown condition counts: a requirement fails
    where it is not known, and a rule whose decision a parameter chooses may be one on
    some days (the parameter values each entry caches are shared)."""
    out = []
    for entry in entries:
        kept = copy.copy(entry)
        kept.activity_rules = [r for r in entry.activity_rules if _counts_unknown(r)]
        kept.month_rules = [r for r in entry.month_rules if _counts_unknown(r)]
        out.append(kept)
    return out


def _counts_unknown(rule: CompiledRule) -> bool:
    then = rule.rule.then
    return then.decision == "require" or bool(then.decision_parameter)


def decide_block(
    entries: list[ContractRules],
    scope: FactScope,
    rows: np.ndarray,
    monthly: bool,
    unknown_only: bool = False,
) -> list[Outcome]:
    """The same outcomes from the batch kernels, each rule over every row at once."""
    out: list[Outcome] = [{} for _ in range(len(rows))]
    days = scope.as_of
    for entry in entries:
        payer = entry.contract.coverage_payer
        for rule in entry.month_rules if monthly else entry.activity_rules:
            if rule.id in entry.skipped:
                continue
            true, unknown = condition_truth(
                rule.condition, scope, entry.params, days, payer, rule.reads
            )
            key = (entry.position, rule.id)
            if not unknown_only:
                for at in np.flatnonzero(true[rows]).tolist():
                    out[at][key] = True
            for at in np.flatnonzero(unknown[rows]).tolist():
                out[at][key] = None
    return out

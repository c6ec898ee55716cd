"""Evaluating one program's rules over a block of rows, whole columns at a time: each
condition by its NumPy kernels (row by row for a block of a few rows), the pandas tree
kept as the reference the kernels are tested against."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from casefund.facts.row import RowScope
from casefund.facts.scope import FactScope, UnknownFact
from casefund.payers.terms import ResolvedParameters
from casefund.records.days import day_number
from casefund.records.frames import distinct_texts
from casefund.rules.language import Node, as_boolean
from casefund.rules.loader import CompiledRule
from casefund.rules.scalar import holds as holds_on
from casefund.rules.vector import Unsupported, truth_of


@dataclass
class Decisions:
    """Which rows each rule denied or flagged, and which populations each row met."""

    denied: list[tuple[str, np.ndarray]] = field(default_factory=list)
    # Rows a 'require' rule denied because a fact it reads is not known (a subset of its
    # denied rows): the agency can fix those by recording the fact.
    unknown: dict[str, np.ndarray] = field(default_factory=dict)
    warned: list[tuple[str, np.ndarray]] = field(default_factory=list)
    qualified: dict[str, tuple[str, np.ndarray, np.ndarray]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def any_denied(self, n: int) -> np.ndarray:
        out = np.zeros(n, dtype=bool)
        for _, mask in self.denied:
            out |= mask
        return out

    def any_population(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(some population was tested, some population was met) per row."""
        tested = np.zeros(n, dtype=bool)
        met = np.zeros(n, dtype=bool)
        for _, was_tested, was_met in self.qualified.values():
            tested |= was_tested
            met |= was_met
        return tested, met


class _TermsOnly:
    """A scope with parameters and no facts, for conditions over contract terms."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def fact(self, name: str) -> Any:
        raise UnknownFact(f"'{name}' is a fact; applies_when reads parameters only")

    def param(self, name: str) -> Any:
        value = self.values.get(name)
        return tuple(value) if isinstance(value, list) else value

    def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        raise UnknownFact(f"{name}() reads facts; applies_when reads parameters only")


def applies_mask(rule: CompiledRule, params: ResolvedParameters, days: np.ndarray) -> np.ndarray:
    """Rows on whose day the rule applies under the contract's terms (all rows where the
    rule has no ``applies_when``); a term that is not known fails it."""
    if rule.applies is None:
        return np.ones(len(days), dtype=bool)
    out = np.zeros(len(days), dtype=bool)
    for mask, values in params.segments(rule.applies.params(), days):
        value = rule.applies.evaluate(_TermsOnly(values))
        out[mask] = value is True or (value is not pd.NA and bool(value))
    return out


def condition_values(
    condition: Node,
    scope: FactScope,
    params: ResolvedParameters,
    days: np.ndarray,
    payer: str | None,
    reads: frozenset[str] | None = None,
) -> pd.Series:
    """The condition's three-valued result per row, honouring dated parameter values.

    ``reads``: every parameter the condition depends on (those its fact functions read on
    their own included); rows are evaluated in segments within which none of them changes.
    """
    result = pd.Series(pd.NA, index=scope.index, dtype="boolean")
    names = condition.params() if reads is None else set(reads)
    for mask, values in params.segments(names, days):
        value = condition.evaluate(scope.with_params(values, payer))
        if not isinstance(value, pd.Series):
            value = pd.Series(value, index=scope.index, dtype="boolean")
        value = value.astype("boolean")
        if mask.all():
            return pd.Series(value, dtype="boolean")
        result = result.where(~mask, value)
    return result


def condition_truth(
    condition: Node,
    scope: FactScope,
    params: ResolvedParameters,
    days: np.ndarray,
    payer: str | None,
    reads: frozenset[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Where the condition holds, and where it is not known, per row: the NumPy kernels
    (:mod:`casefund.rules.vector`) segment by segment, and the pandas tree for a condition
    they leave to it (the same answer, slower)."""
    n = len(scope.index)
    names = condition.params() if reads is None else set(reads)
    if n <= ROW_KERNEL_ROWS:
        by_row = _row_truth(condition, scope, params, days, payer, names)
        if by_row is not None:
            return by_row
    holds, known = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    for mask, values in params.segments(names, days):
        bound = scope.with_params(values, payer)
        try:
            truth = truth_of(condition, bound)
            value, is_known = (np.broadcast_to(a, (n,)) for a in (truth.value, truth.known))
        except Unsupported:
            series = as_boolean(condition.evaluate(bound))
            if not isinstance(series, pd.Series):
                series = pd.Series(series, index=scope.index, dtype="boolean")
            is_known = ~np.asarray(series.isna().to_numpy(dtype=bool))
            value = np.asarray(series.fillna(False).to_numpy(dtype=bool))
        if mask.all():
            return value.copy(), ~is_known
        holds[mask], known[mask] = value[mask], is_known[mask]
    return holds, ~known


# Up to this many rows a condition is decided row by row (:mod:`casefund.rules.scalar`):
# the column kernels' fixed cost per call (tens of microseconds a node) is then more than
# the one-row kernels' few microseconds a row. A live post's coding and its small blocks
# take this path; the differential tests hold the two to the same answer.
ROW_KERNEL_ROWS = 16


def _row_truth(
    condition: Node,
    scope: FactScope,
    params: ResolvedParameters,
    days: np.ndarray,
    payer: str | None,
    names: set[str],
) -> tuple[np.ndarray, np.ndarray] | None:
    """(holds, unknown) row by row; None for a condition the one-row kernels leave to the
    column kernels (text read as a condition, text compared with a number)."""
    n = len(scope.index)
    holds, unknown = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    try:
        for mask, values in params.segments(names, days):
            bound = scope.with_params(values, payer)
            for row in np.flatnonzero(mask).tolist():
                result = holds_on(condition, RowScope(bound, row))
                if result is None:
                    unknown[row] = True
                elif result:
                    holds[row] = True
    except TypeError:
        return None
    return holds, unknown


def decide(
    rules: list[CompiledRule],
    scope: FactScope,
    params: ResolvedParameters,
    days: np.ndarray,
    payer: str | None = None,
) -> Decisions:
    """Apply every rule effective on some row; unknown facts fail 'require' and 'qualify'."""

    def truth(rule: CompiledRule) -> tuple[np.ndarray, np.ndarray]:
        return condition_truth(rule.condition, scope, params, days, payer, rule.reads)

    return collect(rules, params, days, truth)


def collect(
    rules: list[CompiledRule],
    params: ResolvedParameters,
    days: np.ndarray,
    truth: Callable[[CompiledRule], tuple[np.ndarray, np.ndarray]],
) -> Decisions:
    """Turn each rule's rows where its condition is known true (and those where it is not
    known) into denials, warnings and populations.

    Shared by the batch evaluator and the live session, which differ only in who decides
    whether a condition holds (pandas columns, or durable-rules).
    """
    out = Decisions()
    n = len(days)
    effective = _in_effect(rules, days)
    some_row = np.asarray(effective.any(axis=1), dtype=bool).tolist()
    for rule, in_effect, any_row in zip(rules, effective, some_row, strict=True):
        if not any_row:
            continue
        active = in_effect if rule.applies is None else in_effect & applies_mask(rule, params, days)
        if rule.applies is not None and not active.any():
            continue
        then = rule.rule.then
        if not all(params.usable(p) for p in rule.reads):
            # Criteria resting on an unverified parameter are off until a contract enables
            # them: a population is then reported as tested and not met, never assumed.
            out.skipped.append(rule.id)
            if then.decision == "qualify":
                _add_population(
                    out, then.population or rule.id, rule.id, active, np.zeros(n, dtype=bool)
                )
            continue
        holds, unknown = truth(rule)
        decision = _decisions(rule, params, days)
        if decision is None:
            decision_of: dict[str, np.ndarray] = {then.decision: np.ones(n, dtype=bool)}
        else:
            decision_of = _rows_by_decision(decision)
        for kind, rows in decision_of.items():
            if not rows.any():
                continue
            if kind == "require":
                out.denied.append((rule.id, active & rows & ~holds))
                if unknown.any():
                    out.unknown[rule.id] = active & rows & unknown
            elif kind == "deny":
                out.denied.append((rule.id, active & rows & holds))
            elif kind == "warn":
                out.warned.append((rule.id, active & rows & holds))
            elif kind == "qualify":
                _add_population(
                    out, then.population or rule.id, rule.id, active, active & rows & holds
                )
    return out


def _rows_by_decision(decision: np.ndarray) -> dict[str, np.ndarray]:
    """The rows of each decision a parameter chose (one text per row): a decision that is
    the same on every day costs no comparison, and only the decisions present are
    compared."""
    present = distinct_texts(decision)
    if len(present) == 1:
        return {present[0]: np.ones(len(decision), dtype=bool)}
    return {d: decision == d for d in ("require", "deny", "warn", "qualify") if d in present}


def _in_effect(rules: list[CompiledRule], days: np.ndarray) -> np.ndarray:
    """(rules × rows): whether each row's day lies within each rule's effective dates, in
    one comparison for all the rules rather than a few array operations per rule."""
    never, always = np.iinfo(np.int64).min, np.iinfo(np.int64).max
    starts = np.array(
        [never if r.rule.effective.start is None else day_number(r.rule.effective.start)
         for r in rules],
        dtype=np.int64,
    )  # fmt: skip
    ends = np.array(
        [always if r.rule.effective.end is None else day_number(r.rule.effective.end)
         for r in rules],
        dtype=np.int64,
    )  # fmt: skip
    row_days = np.asarray(days, dtype=np.int64)[None, :]
    in_effect: np.ndarray = (row_days >= starts[:, None]) & (row_days <= ends[:, None])
    return in_effect


def _decisions(
    rule: CompiledRule, params: ResolvedParameters, days: np.ndarray
) -> np.ndarray | None:
    """Each row's decision where a parameter chooses it ('deny' or 'warn', read as of the
    row's day); None where the rule's own decision stands. An unverified switch that no
    contract set or enabled leaves the rule's own decision."""
    name = rule.rule.then.decision_parameter
    if not name or not params.usable(name):
        return None
    chosen = params.terms(days).text(name)
    chosen[chosen == ""] = rule.rule.then.decision
    return chosen


def _add_population(
    out: Decisions, population: str, rule_id: str, tested: np.ndarray, met: np.ndarray
) -> None:
    """A population may be defined by several dated rules (adults, children): any one meets."""
    prior = out.qualified.get(population)
    if prior is None:
        out.qualified[population] = (rule_id, tested, met)
        return
    out.qualified[population] = (f"{prior[0]};{rule_id}", prior[1] | tested, prior[2] | met)

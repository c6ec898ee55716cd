"""The bundled rules, per contract, as durable-rules rulesets (one source of truth).

Every activity-scope rule of a contract's program becomes one durable rule per parameter
segment, its condition the compiled "known true" form plus the day range in which the rule
and the parameter values are in force. Participant-month rules go to a second ruleset fed
with month facts. A catch-all rule in each ruleset keeps durable-rules from raising on a fact
that no rule matches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from casefund.live.compile import TRUE, Atoms, Json, compile_condition
from casefund.payers.terms import ResolvedParameters, contract_parameters
from casefund.records.contracts import Contract
from casefund.records.days import date_of, day_number
from casefund.rules.book import RuleBook
from casefund.rules.loader import CompiledRule

ACTIVITY_RULESET = "casefund_activity"
MONTH_RULESET = "casefund_month"
DAY = "casefund_day"


@dataclass
class ContractRules:
    """What one contract's rules need: which rules run in durable and their atoms."""

    position: int
    contract: Contract
    params: ResolvedParameters
    activity_rules: list[CompiledRule] = field(default_factory=list)
    month_rules: list[CompiledRule] = field(default_factory=list)
    skipped: set[str] = field(default_factory=set)
    activity_atoms: Atoms = field(default_factory=Atoms)
    month_atoms: Atoms = field(default_factory=Atoms)
    _values_on: dict[int, tuple[str, dict[str, Any]]] = field(default_factory=dict)

    def values_on(self, day: int) -> tuple[str, dict[str, Any]]:
        """The parameter values in force on a day number, and a key naming that set."""
        if day not in self._values_on:
            values = self.params.at(date_of(day))
            self._values_on[day] = (repr(sorted(values.items())), values)
        return self._values_on[day]


def _day_range(start: dt.date | None, end_exclusive: dt.date | None) -> list[Json]:
    parts: list[Json] = []
    if start is not None and start > dt.date(1900, 1, 1):
        parts.append({"$gte": {DAY: day_number(start)}})
    if end_exclusive is not None:
        parts.append({"$lt": {DAY: day_number(end_exclusive)}})
    return parts


def _segments(
    rule: CompiledRule, params: ResolvedParameters
) -> list[tuple[dt.date | None, dt.date | None, dict[str, Any]]]:
    """Day ranges within which the parameters the rule reads keep one value each (as the
    batch evaluator's segments: before a parameter's first value it has none)."""
    points = params.breakpoints(set(rule.reads))
    if not points:
        return [(None, None, params.at(dt.date.max))]
    bounds: list[dt.date | None] = [None, *points, None]
    labels = [points[0] - dt.timedelta(days=1), *points]
    return [(bounds[i], bounds[i + 1], params.at(label)) for i, label in enumerate(labels)]


def _rule_json(rule: CompiledRule, params: ResolvedParameters, atoms: Atoms) -> list[Json]:
    """One durable condition per parameter segment in which the rule can fire."""
    out = []
    effective = rule.rule.effective
    end = effective.end + dt.timedelta(days=1) if effective.end else None
    for start, stop, values in _segments(rule, params):
        condition = compile_condition(rule.condition, values, atoms)
        if condition is False:
            continue
        lo = max(filter(None, [start, effective.start]), default=None)
        hi = min(filter(None, [stop, end]), default=None)
        parts = _day_range(lo, hi) + ([] if condition is True else [condition])
        out.append({"$and": parts} if len(parts) > 1 else (parts[0] if parts else TRUE))
    return out


def contract_rules(book: RuleBook, contracts: list[Contract]) -> list[ContractRules]:
    """Each contract's activity and participant-month rules, with its parameters and the
    rules left off (a parameter they read is unverified and no contract enabled it)."""
    out = []
    for position, contract in enumerate(contracts):
        params = contract_parameters(book.parameters, contract)
        entry = ContractRules(position, contract, params)
        for rule in book.program_rules(contract.program):
            monthly = rule.rule.scope == "participant_month"
            (entry.month_rules if monthly else entry.activity_rules).append(rule)
            if not all(params.usable(p) for p in rule.reads):
                entry.skipped.add(rule.id)  # off until a contract enables it, as in batch
        out.append(entry)
    return out


def build(
    book: RuleBook, contracts: list[Contract], record: Callable[[str, int, str], Any]
) -> tuple[dict[str, Any], list[ContractRules]]:
    """Durable ruleset definitions and, per contract, the atoms the posted facts must carry.

    ``record(ruleset, position, rule_id)`` returns the action durable runs when a rule fires.
    """
    definitions: dict[str, dict[str, Any]] = {ACTIVITY_RULESET: {}, MONTH_RULESET: {}}
    compiled = contract_rules(book, contracts)
    for entry in compiled:
        position, params = entry.position, entry.params
        entry.activity_atoms, entry.month_atoms = Atoms(f"c{position}a"), Atoms(f"c{position}m")
        for rule in entry.activity_rules + entry.month_rules:
            if rule.id in entry.skipped:
                continue
            monthly = rule.rule.scope == "participant_month"
            ruleset = MONTH_RULESET if monthly else ACTIVITY_RULESET
            atoms = entry.month_atoms if monthly else entry.activity_atoms
            for segment, condition in enumerate(_rule_json(rule, params, atoms)):
                name = f"{position}|{rule.id}|{segment}"
                definitions[ruleset][name] = {
                    "all": [{"m": condition}],
                    "run": record(ruleset, position, rule.id),
                }
    for ruleset, rules in definitions.items():
        rules["catch_all"] = {"all": [{"m": TRUE}], "run": record(ruleset, -1, "")}
    return definitions, compiled

"""Loading the bundled rule and parameter files into one validated, hashed rule book."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.abc import Traversable
from typing import Any

import numpy as np
import yaml
from pydantic import ValidationError

from casefund.rules.language import Node, parse_condition
from casefund.rules.model import (
    Citation,
    CodingRule,
    Effective,
    Outcome,
    OutcomeFile,
    Parameter,
    ParameterFile,
    Rule,
    RuleFile,
    RuleSet,
    RuleSetFile,
)

RULE_PACKAGE = "casefund.rules"
PARAMETER_PACKAGE = "casefund.payers"
_EPOCH = dt.date(1970, 1, 1)


class RuleFileError(ValueError):
    """A bundled rule or parameter file that does not validate (names file and entry)."""


ParametersRead = Mapping[str, Callable[[tuple[Any, ...]], list[str]]]


def parameters_read(condition: Node, implicit: ParametersRead) -> frozenset[str]:
    """Every parameter a condition depends on: those it names (``param.X``) and those its fact
    functions read on their own (a Community Support's code table), so that a dated change of
    either splits the rows into the segments the condition is evaluated in."""
    names = set(condition.params())
    for function, args, _kwargs in condition.calls():
        reads = implicit.get(function)
        if reads is not None:
            names.update(reads(args))
    return frozenset(names)


@dataclass(frozen=True)
class CompiledRule:
    rule: Rule
    condition: Node
    source: str
    applies: Node | None = None
    reads: frozenset[str] = frozenset()

    @property
    def id(self) -> str:
        return self.rule.id


@dataclass(frozen=True)
class CompiledCoding:
    coding: CodingRule
    condition: Node
    source: str
    reads: frozenset[str] = frozenset()


@dataclass
class ProgramParameters:
    """Effective-dated parameters of one program."""

    program: str
    parameters: dict[str, Parameter]
    source: str

    def value(self, name: str, day: dt.date) -> Any:
        chosen = None
        for entry in self.parameters[name].values:
            if entry.start <= day:
                chosen = entry
        return None if chosen is None else chosen.value

    def breakpoints(self, names: set[str]) -> list[dt.date]:
        return sorted({v.start for n in names if n in self.parameters
                       for v in self.parameters[n].values})


@dataclass(frozen=True)
class ReasonEntry:
    """What an id on a line or an eligibility row means: its program, decision, plain reason,
    source and dates (a rule, an allocator outcome or a program's rule set)."""

    id: str
    program: str
    decision: str
    reason: str
    cite: Citation
    effective: Effective


@dataclass
class RuleBook:
    rules: dict[str, list[CompiledRule]]
    parameters: dict[str, ProgramParameters]
    outcomes: dict[str, Outcome]
    digest: str
    files: list[str] = field(default_factory=list)
    coding: dict[str, list[CompiledCoding]] = field(default_factory=dict)
    rule_sets: dict[str, RuleSet] = field(default_factory=dict)

    def program_rules(self, program: str) -> list[CompiledRule]:
        return self.rules.get(program, [])

    def rule_set(self, program: str) -> RuleSet | None:
        return self.rule_sets.get(program)

    def in_force(self, program: str, days: np.ndarray) -> np.ndarray:
        """Service days (day numbers) on which the program's rule set is in force; none at
        all for a program casefund has no rule set for."""
        rule_set = self.rule_sets.get(program)
        if rule_set is None:
            return np.zeros(len(days), dtype=bool)
        period = rule_set.in_force
        mask = days >= (period.start - _EPOCH).days
        if period.end is not None:
            mask &= days <= (period.end - _EPOCH).days
        return np.asarray(mask, dtype=bool)

    def has_populations(self, program: str) -> bool:
        """Whether the program's eligibility rests on populations (eligibility groups): then
        a row no population rule is in effect for meets none, whatever its date."""
        return any(r.rule.then.decision == "qualify" for r in self.program_rules(program))

    def reason_entries(self) -> dict[str, ReasonEntry]:
        """Every id a run can report, with what it means (one lookup for all three kinds)."""
        entries = {
            r.id: ReasonEntry(r.id, r.rule.program, r.rule.then.decision, r.rule.then.reason,
                              r.rule.cite, r.rule.effective)
            for r in self.all_rules()
        }
        entries.update({
            o.id: ReasonEntry(o.id, "", "outcome", o.reason, o.cite, o.effective)
            for o in self.outcomes.values()
        })
        entries.update({
            s.id: ReasonEntry(s.id, s.program, "not_in_force", s.reason, s.cite, s.in_force)
            for s in self.rule_sets.values()
        })
        return entries

    def reason_ids(self) -> list[str]:
        """Every id a line or eligibility row can carry: rules, outcomes and rule sets."""
        return ([r.id for r in self.all_rules()] + list(self.outcomes)
                + [s.id for s in self.rule_sets.values()])

    def rule(self, rule_id: str) -> CompiledRule | None:
        for rules in self.rules.values():
            for compiled in rules:
                if compiled.id == rule_id:
                    return compiled
        return None

    def all_rules(self) -> list[CompiledRule]:
        return [r for rules in self.rules.values() for r in rules]


def _yaml_files(root: Traversable) -> list[Traversable]:
    found: list[Traversable] = []
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.is_dir() and not entry.name.startswith(("_", ".")):
            found.extend(_yaml_files(entry))
        elif entry.name.endswith(".yaml"):
            found.append(entry)
    return found


def _parse(model: type[Any], text: str, where: str) -> Any:
    try:
        return model.model_validate(yaml.safe_load(text))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise RuleFileError(f"{where}: {problems}") from None
    except yaml.YAMLError as exc:
        raise RuleFileError(f"{where}: not valid YAML ({exc})") from None


def load_rule_book(function_names: list[str], implicit: ParametersRead | None = None
                   ) -> RuleBook:
    """Every bundled rule and parameter file, validated and compiled; raises on any defect.

    ``implicit`` says, per fact function, which parameters it reads without naming them.
    """
    implicit = implicit or {}
    digest = hashlib.sha256()
    files: list[str] = []
    rules: dict[str, list[CompiledRule]] = {}
    outcomes: dict[str, Outcome] = {}
    coding: dict[str, list[CompiledCoding]] = {}
    parameters: dict[str, ProgramParameters] = {}
    rule_sets: dict[str, RuleSet] = {}
    rule_root = resources.files(RULE_PACKAGE)
    for path in _yaml_files(rule_root):
        text = path.read_text("utf-8")
        where = f"rules/{path.name}"
        digest.update(where.encode() + b"\0" + text.encode() + b"\0")
        files.append(where)
        raw = yaml.safe_load(text)
        if isinstance(raw, dict) and "outcomes" in raw:
            for outcome in _parse(OutcomeFile, text, where).outcomes:
                outcomes[outcome.id] = outcome
            continue
        if isinstance(raw, dict) and "rule_set" in raw:
            rule_set = _parse(RuleSetFile, text, where).rule_set
            if rule_set.program in rule_sets:
                raise RuleFileError(f"{where}: a second rule set for '{rule_set.program}'")
            rule_sets[rule_set.program] = rule_set
            continue
        rule_file: RuleFile = _parse(RuleFile, text, where)
        for rule in rule_file.rules:
            rule.program = rule.program or rule_file.program
            try:
                condition = parse_condition(rule.when, function_names)
                applies = (parse_condition(rule.applies_when, function_names)
                           if rule.applies_when else None)
            except ValueError as exc:
                raise RuleFileError(f"{where}: rule {rule.id}: {exc}") from None
            if applies is not None and (applies.names() or applies.calls()):
                raise RuleFileError(f"{where}: rule {rule.id}: applies_when may name only "
                                    "parameters (param.NAME), not facts")
            rules.setdefault(rule.program, []).append(
                CompiledRule(rule, condition, where, applies,
                             parameters_read(condition, implicit)))
        for entry in rule_file.coding:
            try:
                condition = parse_condition(entry.when, function_names)
            except ValueError as exc:
                raise RuleFileError(f"{where}: coding {entry.id}: {exc}") from None
            coding.setdefault(rule_file.program, []).append(
                CompiledCoding(entry, condition, where, parameters_read(condition, implicit))
            )
    for path in _yaml_files(resources.files(PARAMETER_PACKAGE).joinpath("parameters")):
        text = path.read_text("utf-8")
        where = f"payers/parameters/{path.name}"
        digest.update(where.encode() + b"\0" + text.encode() + b"\0")
        files.append(where)
        parameter_file: ParameterFile = _parse(ParameterFile, text, where)
        parameters[parameter_file.program] = ProgramParameters(
            parameter_file.program, parameter_file.parameters, where
        )
    _check_rule_sets(rules, rule_sets)
    seen: set[str] = set(outcomes)
    for compiled in [r for rs in rules.values() for r in rs]:
        if compiled.id in seen:
            raise RuleFileError(f"{compiled.source}: rule id {compiled.id} is used twice")
        seen.add(compiled.id)
    for rule_set in rule_sets.values():
        if rule_set.id in seen:
            raise RuleFileError(f"rule set of {rule_set.program}: id {rule_set.id} is used twice")
        seen.add(rule_set.id)
    return RuleBook(rules, parameters, outcomes, digest.hexdigest()[:16], files, coding,
                    rule_sets)


def _check_rule_sets(rules: dict[str, list[CompiledRule]], rule_sets: dict[str, RuleSet]
                     ) -> None:
    """Every program has one rule set, and no rule lies wholly outside it (it would never
    apply: a sign that the rule set's dates or the rule's are wrong)."""
    for program, compiled in rules.items():
        rule_set = rule_sets.get(program)
        if rule_set is None:
            raise RuleFileError(f"program '{program}' has rules but no rule set (rule_set.yaml "
                                "with its in-force dates); without one nothing of it may bill")
        for rule in compiled:
            if not rule_set.in_force.overlaps(rule.rule.effective):
                raise RuleFileError(
                    f"{rule.source}: rule {rule.id} ({rule.rule.effective.label()}) lies "
                    f"outside the {program} rule set ({rule_set.in_force.label()})")
    for program in rule_sets:
        if program not in rules:
            raise RuleFileError(f"rule set for '{program}' has no rules")

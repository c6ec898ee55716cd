"""Loading the bundled rule and parameter files into one validated, hashed rule book."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from importlib import resources
from importlib.abc import Traversable
from typing import Any

import yaml
from pydantic import ValidationError

from casefund.rules.language import Node, parse_condition
from casefund.rules.model import (
    CodingRule,
    Outcome,
    OutcomeFile,
    Parameter,
    ParameterFile,
    Rule,
    RuleFile,
)

RULE_PACKAGE = "casefund.rules"
PARAMETER_PACKAGE = "casefund.payers"


class RuleFileError(ValueError):
    """A bundled rule or parameter file that does not validate (names file and entry)."""


@dataclass(frozen=True)
class CompiledRule:
    rule: Rule
    condition: Node
    source: str

    @property
    def id(self) -> str:
        return self.rule.id


@dataclass(frozen=True)
class CompiledCoding:
    coding: CodingRule
    condition: Node
    source: str


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


@dataclass
class RuleBook:
    rules: dict[str, list[CompiledRule]]
    parameters: dict[str, ProgramParameters]
    outcomes: dict[str, Outcome]
    digest: str
    files: list[str] = field(default_factory=list)
    coding: dict[str, list[CompiledCoding]] = field(default_factory=dict)

    def program_rules(self, program: str) -> list[CompiledRule]:
        return self.rules.get(program, [])

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


def load_rule_book(function_names: list[str]) -> RuleBook:
    """Every bundled rule and parameter file, validated and compiled; raises on any defect."""
    digest = hashlib.sha256()
    files: list[str] = []
    rules: dict[str, list[CompiledRule]] = {}
    outcomes: dict[str, Outcome] = {}
    coding: dict[str, list[CompiledCoding]] = {}
    parameters: dict[str, ProgramParameters] = {}
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
        rule_file: RuleFile = _parse(RuleFile, text, where)
        for rule in rule_file.rules:
            rule.program = rule.program or rule_file.program
            try:
                condition = parse_condition(rule.when, function_names)
            except ValueError as exc:
                raise RuleFileError(f"{where}: rule {rule.id}: {exc}") from None
            rules.setdefault(rule.program, []).append(CompiledRule(rule, condition, where))
        for entry in rule_file.coding:
            try:
                condition = parse_condition(entry.when, function_names)
            except ValueError as exc:
                raise RuleFileError(f"{where}: coding {entry.id}: {exc}") from None
            coding.setdefault(rule_file.program, []).append(
                CompiledCoding(entry, condition, where)
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
    seen: set[str] = set()
    for compiled in [r for rs in rules.values() for r in rs]:
        if compiled.id in seen or compiled.id in outcomes:
            raise RuleFileError(f"{compiled.source}: rule id {compiled.id} is used twice")
        seen.add(compiled.id)
    return RuleBook(rules, parameters, outcomes, digest.hexdigest()[:16], files, coding)

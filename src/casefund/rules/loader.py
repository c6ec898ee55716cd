"""Reading the bundled rule files: validated by pydantic, conditions compiled, defects named.

Rules are data: every file is read with a safe loader and validated against the models of
:mod:`casefund.rules.model`; a condition is compiled by :mod:`casefund.rules.language`, never
evaluated as code. Any defect raises :class:`RuleFileError` naming the file and the entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import yaml

from casefund.errors import RuleFileError
from casefund.records.bundled import load_bundled, parse_bundled
from casefund.rules.language import Node, parse_condition
from casefund.rules.model import (
    CodingRule,
    Outcome,
    OutcomeFile,
    Rule,
    RuleFile,
    RuleSet,
    RuleSetFile,
)

RULE_PACKAGE = "casefund.rules"
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
class RuleFiles:
    """Everything the rule files say, compiled, and the files' texts for the book's hash."""

    rules: dict[str, list[CompiledRule]] = field(default_factory=dict)
    coding: dict[str, list[CompiledCoding]] = field(default_factory=dict)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    rule_sets: dict[str, RuleSet] = field(default_factory=dict)
    texts: list[tuple[str, str]] = field(default_factory=list)  # (where, text)


def _yaml_files(root: Traversable, prefix: str) -> Iterator[tuple[str, Traversable]]:
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if entry.is_dir() and not entry.name.startswith(("_", ".")):
            yield from _yaml_files(entry, prefix)
        elif entry.name.endswith(".yaml"):
            yield f"{prefix}/{entry.name}", entry


def read_rule_files(functions: list[str], implicit: ParametersRead) -> RuleFiles:
    """Every bundled rule file: rules and coding by program, outcomes and rule sets."""
    found = RuleFiles()
    for where, path in _yaml_files(resources.files(RULE_PACKAGE), "rules"):
        text = path.read_text("utf-8")
        found.texts.append((where, text))
        try:
            raw = load_bundled(text)
        except yaml.YAMLError as exc:
            raise RuleFileError(f"{where}: not valid YAML ({exc})") from None
        if isinstance(raw, dict) and "outcomes" in raw:
            for outcome in parse_bundled(OutcomeFile, text, where, raw).outcomes:
                found.outcomes[outcome.id] = outcome
        elif isinstance(raw, dict) and "rule_set" in raw:
            rule_set = parse_bundled(RuleSetFile, text, where, raw).rule_set
            if rule_set.program in found.rule_sets:
                raise RuleFileError(f"{where}: a second rule set for '{rule_set.program}'")
            found.rule_sets[rule_set.program] = rule_set
        else:
            _compile_file(
                parse_bundled(RuleFile, text, where, raw), where, functions, implicit, found
            )
    return found


def _compile_file(
    rule_file: RuleFile,
    where: str,
    functions: list[str],
    implicit: ParametersRead,
    found: RuleFiles,
) -> None:
    for rule in rule_file.rules:
        rule.program = rule.program or rule_file.program
        condition = _condition(rule.when, functions, f"{where}: rule {rule.id}")
        applies = (
            _condition(rule.applies_when, functions, f"{where}: rule {rule.id}")
            if rule.applies_when
            else None
        )
        if applies is not None and (applies.names() or applies.calls()):
            raise RuleFileError(
                f"{where}: rule {rule.id}: applies_when may name only "
                "parameters (param.NAME), not facts"
            )
        found.rules.setdefault(rule.program, []).append(
            CompiledRule(rule, condition, where, applies, parameters_read(condition, implicit))
        )
    for entry in rule_file.coding:
        condition = _condition(entry.when, functions, f"{where}: coding {entry.id}")
        found.coding.setdefault(rule_file.program, []).append(
            CompiledCoding(entry, condition, where, parameters_read(condition, implicit))
        )


def _condition(text: str, functions: list[str], where: str) -> Node:
    try:
        return parse_condition(text, functions)
    except ValueError as exc:
        raise RuleFileError(f"{where}: {exc}") from None

"""Static checks of the bundled rule book: every name, code and parameter must exist.

Pydantic already guarantees that every rule has an id, a citation, effective dates and a
plain-language reason; these checks catch what a schema cannot: a fact that does not exist,
a misspelt activity code, a parameter no file defines, a function called with wrong
arguments.
"""

from __future__ import annotations

import datetime as dt
import inspect
from typing import Any

from casefund.errors import RuleFileError
from casefund.facts.scope import ACTIVITY_FACTS, FUNCTIONS, KNOWN_FACTS
from casefund.records.contracts import CONTRACT_TERMS
from casefund.records.vocabulary import VOCABULARY, suggest
from casefund.rules.book import RuleBook
from casefund.rules.language import Compare, Composite, Constant, Fact, Node, Param

_CODE_FACTS = {
    "activity": "activity",
    "mode": "mode",
    "staff_role": "staff_role",
    "race": "race",
    "collateral_purpose": "collateral_purpose",
}
_CODE_ARGUMENTS = {
    "enrolled": "program",
    "enrolled_days": "program",
    "count_events": "event",
    "prior_activities": "activity",
}


def _walk(node: Node) -> list[Node]:
    out = [node]
    if isinstance(node, Composite):
        for child in node.operands:
            out.extend(_walk(child))
    return out


def _code_problems(node: Node, where: str) -> list[str]:
    problems = []
    for item in _walk(node):
        if not isinstance(item, Compare):
            continue
        left, right = item.operands
        if isinstance(left, Fact) and left.name in _CODE_FACTS and isinstance(right, Constant):
            vocabulary = _CODE_FACTS[left.name]
            values = right.value if isinstance(right.value, tuple) else (right.value,)
            for value in values:
                if value not in VOCABULARY[vocabulary]:
                    problems.append(
                        f"{where}: unknown {vocabulary} code '{value}'"
                        f"{suggest(str(value), vocabulary)}"
                    )
    return problems


def _call_problems(node: Node, where: str) -> list[str]:
    problems = []
    for name, args, kwargs in node.calls():
        try:
            inspect.signature(FUNCTIONS[name]).bind(None, *args, **dict(kwargs))
        except TypeError as exc:
            problems.append(f"{where}: {name}(…) {exc}")
            continue
        vocabulary = _CODE_ARGUMENTS.get(name)
        if vocabulary and args and args[0] not in VOCABULARY[vocabulary]:
            problems.append(
                f"{where}: unknown {vocabulary} '{args[0]}' in {name}()"
                f"{suggest(str(args[0]), vocabulary)}"
            )
    return problems


def _listed_codes(value: Any) -> list[Any]:
    """The codes a parameter value lists: a list's items, or a mapping's list values."""
    if isinstance(value, dict):
        return [code for item in value.values() for code in (item or [])]
    return list(value or [])


def _parameter_problems(book: RuleBook) -> list[str]:
    problems = []
    for params in book.parameters.values():
        for name, parameter in params.parameters.items():
            vocabulary = parameter.codes
            if vocabulary is None:
                continue
            if vocabulary not in VOCABULARY:
                problems.append(f"{params.source}: {name}: unknown vocabulary '{vocabulary}'")
                continue
            for entry in parameter.values:
                for code in _listed_codes(entry.value):
                    if code not in VOCABULARY[vocabulary]:
                        problems.append(
                            f"{params.source}: {name}: unknown {vocabulary} '{code}'"
                            f"{suggest(str(code), vocabulary)}"
                        )
    return problems


def _dating_problems(book: RuleBook) -> list[str]:
    """Holes through which a rule set could fail open, or a rule read a value not yet in
    force: a requirement that starts after (or ends before) its rule set, and a rule in effect
    before a parameter it reads has any value."""
    problems = []
    for compiled in book.all_rules():
        rule = compiled.rule
        rule_set = book.rule_set(rule.program)
        if rule_set is None:
            continue
        where = f"{compiled.source}: {rule.id}"
        starts = max(rule.effective.start or dt.date.min, rule_set.in_force.start or dt.date.min)
        if rule.then.decision == "require" and not rule.effective.covers(rule_set.in_force):
            problems.append(
                f"{where}: a requirement in effect {rule.effective.label()} leaves "
                f"part of the rule set ({rule_set.in_force.label()}) without it"
            )
        program = book.parameters.get(rule.program)
        read = set(compiled.reads)
        if compiled.applies is not None:
            read |= compiled.applies.params()
        if rule.then.decision_parameter:
            read.add(rule.then.decision_parameter)
        for name in sorted(read):
            if program is None or name not in program.parameters:
                continue
            first = program.parameters[name].values[0].start
            if first > starts:
                problems.append(
                    f"{where}: in effect from {starts} but parameter '{name}' has "
                    f"no value before {first}"
                )
    return problems


def check_rule_book() -> list[str]:
    from casefund.rules.book import rule_book

    try:
        book = rule_book()
    except RuleFileError as exc:
        return [str(exc)]
    problems: list[str] = []
    for compiled in book.all_rules():
        rule = compiled.rule
        where = f"{compiled.source}: {rule.id}"
        for name in compiled.condition.names():
            if name not in KNOWN_FACTS:
                problems.append(f"{where}: unknown fact '{name}'")
            elif name in ACTIVITY_FACTS and rule.scope != "activity":
                problems.append(f"{where}: '{name}' is an activity fact in a {rule.scope} rule")
        program = book.parameters.get(rule.program)
        known = (set(program.parameters) if program else set()) | set(CONTRACT_TERMS)
        conditions = [compiled.condition] + ([compiled.applies] if compiled.applies else [])
        for item in (node for condition in conditions for node in _walk(condition)):
            if isinstance(item, Param) and item.name not in known:
                problems.append(
                    f"{where}: parameter '{item.name}' is not defined for program '{rule.program}'"
                )
        if rule.then.decision_parameter and rule.then.decision_parameter not in known:
            problems.append(
                f"{where}: decision_parameter '{rule.then.decision_parameter}' is not defined"
            )
        problems.extend(_code_problems(compiled.condition, where))
        problems.extend(_call_problems(compiled.condition, where))
    for entries in book.coding.values():
        for entry in entries:
            where = f"{entry.source}: {entry.coding.id}"
            problems.extend(_code_problems(entry.condition, where))
            problems.extend(_call_problems(entry.condition, where))
    problems.extend(_parameter_problems(book))
    problems.extend(_dating_problems(book))
    return problems

"""The condition language: what it accepts, what it refuses, and three-valued logic."""

from typing import Any

import pandas as pd
import pytest

from casefund.rules.language import ConditionError, parse_condition

FUNCTIONS = ["enrolled", "count_events"]


class Scope:
    def __init__(self, facts: dict[str, pd.Series], params: dict[str, Any]) -> None:
        self.facts = facts
        self.params = params

    def fact(self, name: str) -> Any:
        return self.facts[name]

    def param(self, name: str) -> Any:
        return self.params[name]

    def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return pd.Series([args[0] == "medi_cal"] * 3, dtype="boolean")


def run(text: str, **facts: list[Any]) -> list[Any]:
    scope = Scope({k: pd.Series(v) for k, v in facts.items()}, {"limit": 5, "codes": ["a"]})
    result = parse_condition(text, FUNCTIONS).evaluate(scope)
    return [None if pd.isna(v) else bool(v) for v in result]


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "age.__class__",
        "(lambda: 1)()",
        "[x for x in y]",
        "open('f')",
        "a if b else c",
        "a[0]",
    ],
)
def test_refuses_anything_outside_the_whitelist(text: str) -> None:
    with pytest.raises(ConditionError):
        parse_condition(text, FUNCTIONS)


def test_unknown_function_gets_a_suggestion() -> None:
    with pytest.raises(ConditionError, match="did you mean 'enrolled'"):
        parse_condition("enroled('medi_cal')", FUNCTIONS)


def test_comparison_with_parameter_and_unknown_value_is_unknown() -> None:
    assert run("x >= param.limit", x=pd.array([6, 4, None], dtype="Int64")) == [True, False, None]


def test_kleene_or_true_with_unknown_is_true() -> None:
    flags = pd.array([True, False, None], dtype="boolean")
    unknown = pd.array([None, None, None], dtype="boolean")
    assert run("a or b", a=flags, b=unknown) == [True, None, None]
    assert run("a and b", a=pd.array([False, True, None], dtype="boolean"), b=unknown) == [
        False,
        None,
        None,
    ]


def test_membership_keeps_unknown_unknown() -> None:
    assert run("x in ['a', 'b']", x=pd.array(["a", "c", None], dtype="string")) == [
        True,
        False,
        None,
    ]
    assert run("x not in param.codes", x=pd.array(["a", "c", None], dtype="string")) == [
        False,
        True,
        None,
    ]


def test_condition_may_span_lines() -> None:
    node = parse_condition("x > 1\nand y < 2", FUNCTIONS)
    assert node.names() == {"x", "y"}


def test_function_arguments_may_be_parameters() -> None:
    node = parse_condition("count_events('ed_visit', months=param.window) >= 1", FUNCTIONS)
    assert node.params() == {"window"}

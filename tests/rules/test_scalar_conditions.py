"""The one-row kernels (the live session's path) give the batch kernels' three-valued answer
on every row: for generated conditions over facts of every kind, and for every bundled rule
of every demo contract over the demo's own activities and participant-months."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from tests.rules.test_vector_conditions import ROWS, FakeScope, _facts, conditions

from casefund.engine.adjudication import Adjudication
from casefund.facts.scope import FactScope
from casefund.io.load import as_dataset
from casefund.payers.terms import contract_parameters
from casefund.rules.book import rule_book
from casefund.rules.language import parse_condition
from casefund.rules.scalar import holds
from casefund.rules.vector import Unsupported, truth_of
from casefund.synthetic import Shape, demo_contracts, generate


def _python(value: Any, row: int) -> Any:
    """A fact column's value on one row as the one-row path sees it (None: not known)."""
    if not isinstance(value, pd.Series):
        return value
    item = value.iloc[row]
    if item is None or item is pd.NA or (isinstance(item, float) and np.isnan(item)):
        return None
    if isinstance(item, np.bool_ | bool):
        return bool(item)
    if isinstance(item, np.integer | np.floating):
        return float(item)
    return item


class RowOf:
    """One row of a batch scope, its facts read from the batch fact layer."""

    def __init__(self, scope: Any, row: int) -> None:
        self.scope, self.row = scope, row

    def fact(self, name: str) -> Any:
        return _python(self.scope.fact(name), self.row)

    def param(self, name: str) -> Any:
        return self.scope.param(name)

    def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return _python(self.scope.call(name, args, kwargs), self.row)


def _three_valued(value: np.ndarray, known: np.ndarray, n: int) -> list[bool | None]:
    value, known = np.broadcast_to(value, (n,)), np.broadcast_to(known, (n,))
    return [bool(v) if k else None for v, k in zip(value, known, strict=True)]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_one_row_kernels_give_the_batch_answer(data: st.DataObject) -> None:
    text = data.draw(conditions())
    scope = FakeScope(
        _facts(data.draw),
        {"limit": data.draw(st.sampled_from([0, 2, 3.5])), "unset": None, "kinds": ("a", "c")},
    )
    node = parse_condition(text, ["ids"])
    try:
        truth = truth_of(node, scope)
    except Unsupported:
        event("left to the pandas tree")
        return
    event("compared")
    expected = _three_valued(truth.value, truth.known, ROWS)
    assert [holds(node, RowOf(scope, row)) for row in range(ROWS)] == expected, text


def _bundled_cases() -> list[tuple[str, FactScope, Any, np.ndarray]]:
    tables = generate(Shape(participants=40, months=3, seed=3, malformed_share=0.0))
    data = as_dataset(tables, demo_contracts(), {})
    adjudication = Adjudication.of(data)
    book = rule_book()
    cases = []
    for contract in data.contracts:
        params = contract_parameters(book.parameters, contract)
        for rule in book.program_rules(contract.program):
            if not all(params.usable(p) for p in rule.reads):
                continue
            monthly = rule.rule.scope == "participant_month"
            scope = adjudication.months.scope if monthly else adjudication.activity_scope
            days = adjudication.months.as_of if monthly else adjudication.days
            for mask, values in params.segments(set(rule.reads), days):
                bound = scope.with_params(values, contract.coverage_payer)
                cases.append((f"{contract.id}:{rule.id}", bound, rule.condition, mask))
    return cases


def test_every_bundled_rule_decides_alike_row_by_row() -> None:
    """Every rule of every demo contract, on generated activities: the one-row kernel over a
    row's facts gives the batch kernel's answer on that row."""
    compared = 0
    for label, scope, condition, mask in _bundled_cases():
        truth = truth_of(condition, scope)
        expected = _three_valued(truth.value, truth.known, len(mask))
        rows = np.flatnonzero(mask)
        got = [holds(condition, RowOf(scope, int(row))) for row in rows]
        assert got == [expected[row] for row in rows], label
        compared += len(rows)
    assert compared > 10_000


@pytest.mark.parametrize(
    ("text", "facts", "expected"),
    [
        ("a / b > 1", {"a": 1.0, "b": 0.0}, True),  # x/0 is inf, as in NumPy
        ("a / b > 1", {"a": 0.0, "b": 0.0}, False),  # 0/0 is NaN: known, and not > 1
        ("a > 1 and b > 1", {"a": 0.0, "b": None}, False),  # Kleene: false settles 'and'
        ("a > 1 or b > 1", {"a": 2.0, "b": None}, True),
        ("a > 1 or b > 1", {"a": 0.0, "b": None}, None),
        ("not (b > 1)", {"a": 0.0, "b": None}, None),
        ("a in [0, 1]", {"a": 1.0, "b": None}, True),
        ("b not in [0, 1]", {"a": 1.0, "b": None}, None),
    ],
)
def test_one_row_logic_cases(text: str, facts: dict[str, Any], expected: bool | None) -> None:
    class Row:
        def fact(self, name: str) -> Any:
            return facts[name]

        def param(self, name: str) -> Any:
            raise KeyError(name)

        def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
            raise KeyError(name)

    assert holds(parse_condition(text, []), Row()) is expected

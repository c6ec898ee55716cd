"""The NumPy kernels of a condition give the pandas tree's three-valued answer, row by row,
for generated conditions over facts of every kind (flags, counts, amounts, categorical and
plain text, each with unknown rows) and parameters (numbers, lists, unset); and the
one-row kernels (the live session's path) give the batch kernels' answer on every row, for
the same generated conditions and for every bundled rule of every demo contract."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from casefund.engine.adjudication import Adjudication
from casefund.facts.scope import FactScope
from casefund.io.load import as_dataset
from casefund.payers.terms import contract_parameters
from casefund.rules.book import rule_book
from casefund.rules.language import as_boolean, parse_condition
from casefund.rules.scalar import holds
from casefund.rules.vector import Unsupported, truth_of
from casefund.synthetic import Shape, demo_contracts, generate

ROWS = 12


class FakeScope:
    """Facts as the fact layer gives them: pandas Series of its dtypes."""

    def __init__(self, facts: dict[str, pd.Series], params: dict[str, Any]) -> None:
        self.facts, self.params = facts, params

    def fact(self, name: str) -> pd.Series:
        return self.facts[name]

    def param(self, name: str) -> Any:
        return self.params[name]

    def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> pd.Series:
        return self.facts["count"] + float(args[0] if args else 0)


def _facts(draw: Any) -> dict[str, pd.Series]:
    def masked(values: list[Any], dtype: str) -> pd.Series:
        unknown = draw(st.lists(st.booleans(), min_size=ROWS, max_size=ROWS))
        series = pd.Series(values, dtype=dtype)
        return series.mask(pd.Series(unknown))

    flags = draw(st.lists(st.booleans(), min_size=ROWS, max_size=ROWS))
    counts = draw(st.lists(st.integers(0, 5), min_size=ROWS, max_size=ROWS))
    amounts = draw(st.lists(st.sampled_from([0.0, 1.5, 2.0, 10.25]), min_size=ROWS, max_size=ROWS))
    words = st.sampled_from(["a", "b", "c"])
    kinds = draw(st.lists(words, min_size=ROWS, max_size=ROWS))
    texts = draw(st.lists(words, min_size=ROWS, max_size=ROWS))
    return {
        "flag": masked(flags, "boolean"),
        "count": masked(counts, "Int64"),
        "amount": masked(amounts, "Float64"),
        "kind": masked(kinds, "string").astype("category"),
        "text": masked(texts, "string"),
    }


NUMERIC = ["count", "amount", "param.limit", "2", "0", "1.5", "-1", "param.unset", "ids(1)"]
TEXTUAL = ["kind", "text", "'a'", "'b'", "'z'"]
COMPARE = ["==", "!=", "<", "<=", ">", ">="]


@st.composite
def conditions(draw: Any, depth: int = 0) -> str:
    kind = draw(st.integers(0, 7 if depth < 3 else 3))
    if kind == 0:
        return draw(st.sampled_from(["flag", "True", "False", "count", "not flag"]))
    if kind == 1:
        left, right = draw(st.sampled_from(NUMERIC)), draw(st.sampled_from(NUMERIC))
        if draw(st.booleans()):
            left = f"({left} {draw(st.sampled_from(['+', '-', '*']))} {right})"
        return f"{left} {draw(st.sampled_from(COMPARE))} {draw(st.sampled_from(NUMERIC))}"
    if kind == 2:
        left, right = draw(st.sampled_from(TEXTUAL)), draw(st.sampled_from(TEXTUAL))
        return f"{left} {draw(st.sampled_from(['==', '!=']))} {right}"
    if kind == 3:
        item = draw(st.sampled_from(["kind", "text", "count", "flag"]))
        items = "param.kinds" if item in ("kind", "text") else "[0, 1, 3]"
        return f"{item} {draw(st.sampled_from(['in', 'not in']))} {items}"
    if kind == 4:
        return f"not ({draw(conditions(depth + 1))})"
    joiner = draw(st.sampled_from(["and", "or"]))
    parts = draw(st.lists(conditions(depth + 1), min_size=2, max_size=3))
    return f" {joiner} ".join(f"({p})" for p in parts)


def _pandas_answer(text: str, scope: FakeScope) -> tuple[np.ndarray, np.ndarray]:
    value = as_boolean(parse_condition(text, ["ids"]).evaluate(scope))
    if not isinstance(value, pd.Series):
        value = pd.Series([value] * ROWS, dtype="boolean")
    known = ~value.isna().to_numpy(dtype=bool)
    return value.fillna(False).to_numpy(dtype=bool), known


def _drawn_scope(data: st.DataObject) -> FakeScope:
    """Generated facts, and parameters of each kind (a number, unset, a list)."""
    return FakeScope(
        _facts(data.draw),
        {"limit": data.draw(st.sampled_from([0, 2, 3.5])), "unset": None, "kinds": ("a", "c")},
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_kernels_give_the_pandas_answer(data: st.DataObject) -> None:
    text = data.draw(conditions())
    scope = _drawn_scope(data)
    try:
        expected = _pandas_answer(text, scope)
    except (TypeError, ValueError):
        event("refused by the pandas tree")
        return  # the pandas tree refuses it too: `casefund rules check` reports such rules
    try:
        truth = truth_of(parse_condition(text, ["ids"]), scope)
    except Unsupported:
        event("left to the pandas tree")
        return  # evaluated by the pandas tree instead
    event("compared")
    value = np.broadcast_to(truth.value, (ROWS,))
    known = np.broadcast_to(truth.known, (ROWS,))
    assert known.tolist() == expected[1].tolist(), text
    assert value.tolist() == expected[0].tolist(), text


@pytest.mark.parametrize(
    "text",
    [
        "flag and count > 2",
        "kind == 'a' or text != 'b'",
        "kind in param.kinds and not flag",
        "(amount * 2) >= param.limit",
        "count in [0, 1, 3] or param.unset > 1",
    ],
)
def test_everyday_conditions_run_as_kernels(text: str) -> None:
    """The shapes the bundled rules use are compiled, not left to pandas."""
    rng = np.random.default_rng(7)
    unknown = pd.Series(rng.random(ROWS) < 0.25)
    facts = {
        "flag": pd.Series(rng.random(ROWS) < 0.5, dtype="boolean").mask(unknown),
        "count": pd.Series(rng.integers(0, 5, ROWS), dtype="Int64").mask(
            unknown.shift(1, fill_value=False)
        ),
        "amount": pd.Series(rng.random(ROWS) * 3, dtype="Float64").mask(unknown),
        "kind": pd.Series(rng.choice(["a", "b", "c"], ROWS), dtype="string")
        .mask(unknown)
        .astype("category"),
        "text": pd.Series(rng.choice(["a", "b", "c"], ROWS), dtype="string").mask(unknown),
    }
    scope = FakeScope(facts, {"limit": 2, "unset": None, "kinds": ("a", "c")})
    truth = truth_of(parse_condition(text, ["ids"]), scope)
    expected = _pandas_answer(text, scope)
    assert np.broadcast_to(truth.known, (ROWS,)).tolist() == expected[1].tolist()
    assert np.broadcast_to(truth.value, (ROWS,)).tolist() == expected[0].tolist()


# --- the one-row kernels ---------------------------------------------------------------
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
    scope = _drawn_scope(data)
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

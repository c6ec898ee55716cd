"""The NumPy kernels of a condition give the pandas tree's three-valued answer, row by row,
for generated conditions over facts of every kind (flags, counts, amounts, categorical and
plain text, each with unknown rows) and parameters (numbers, lists, unset)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from casefund.rules.language import as_boolean, parse_condition
from casefund.rules.vector import Unsupported, truth_of

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


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_kernels_give_the_pandas_answer(data: st.DataObject) -> None:
    text = data.draw(conditions())
    scope = FakeScope(
        _facts(data.draw),
        {"limit": data.draw(st.sampled_from([0, 2, 3.5])), "unset": None, "kinds": ("a", "c")},
    )
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

"""Reason bit sets decode to the same texts and row codes as a sort of every row would give."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casefund.engine import reasons
from casefund.engine.reasons import ReasonBits, distinct_rows


def _by_sorting(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    opaque = np.ascontiguousarray(matrix).view(np.dtype((np.void, 8 * matrix.shape[1]))).ravel()
    _, first, inverse = np.unique(opaque, return_index=True, return_inverse=True)
    return first, np.asarray(inverse).reshape(-1)


@st.composite
def _matrices(draw: st.DrawFn) -> np.ndarray:
    words = draw(st.integers(1, 3))
    patterns = draw(st.integers(1, 12))
    values = draw(
        st.lists(st.integers(0, 2**64 - 1), min_size=patterns * words, max_size=patterns * words)
    )
    table = np.array(values, dtype=np.uint64).reshape(patterns, words)
    rows = draw(st.lists(st.integers(0, patterns - 1), min_size=1, max_size=60))
    return table[np.array(rows)]


@settings(max_examples=150, deadline=None)
@given(_matrices(), st.booleans())
def test_distinct_rows_match_a_sort_of_every_row(matrix: np.ndarray, hashed: bool) -> None:
    # Both paths: few rows sort directly, many rows hash each word (forced here).
    if hashed:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(reasons, "_FEW_ROWS", 0)
            got = distinct_rows(matrix)
    else:
        got = distinct_rows(matrix)
    want = _by_sorting(matrix)
    assert np.array_equal(got[0], want[0])
    assert np.array_equal(got[1], want[1])


def test_distinct_rows_recode_when_the_words_combinations_would_overflow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(3)
    matrix = rng.integers(0, 7, size=(5000, 3)).astype(np.uint64)
    monkeypatch.setattr(reasons, "SPAN_LIMIT", 10)  # every word past the first re-codes
    got = distinct_rows(matrix)
    want = _by_sorting(matrix)
    assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])


def test_decode_joins_the_ids_of_each_row_in_id_order() -> None:
    bits = ReasonBits(["b.rule", "a.rule", *[f"x.{i:03d}" for i in range(70)]], 6000)
    matrix = bits.empty()
    bits.set(matrix, "b.rule", np.arange(6000) % 2 == 0)
    bits.set(matrix, "a.rule", np.arange(6000) % 3 == 0)
    bits.set(matrix, "x.069", np.arange(6000) % 5 == 0)  # a bit in the second word
    decoded = bits.decode(matrix)
    assert decoded[0] == "a.rule;b.rule;x.069"
    assert decoded[2] == "b.rule"
    assert decoded[3] == "a.rule"
    assert decoded[1] == ""
    assert decoded[5] == "x.069"
    assert len(decoded.categories) == len(set(decoded.categories))

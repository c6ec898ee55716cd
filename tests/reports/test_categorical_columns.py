"""Output columns built from codes hold the values a plain categorical of the same values
holds, whichever way the choices were factorized."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from casefund.records.frames import categorical, categorical_of

TEXT = st.sampled_from(["ecm.no_population", "a", "B", "b", "", "rw.excluded", "ü", "Z9"])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(TEXT, st.none()), min_size=1, max_size=40),
    st.lists(st.integers(0, 10**6), max_size=60),
)
def test_picked_choices_are_the_categorical_of_the_picks(
    choices: list[str | None], seeds: list[int]
) -> None:
    picks = np.array([s % len(choices) for s in seeds], dtype=np.int64)
    built = categorical_of(np.array(choices, dtype=object), picks)
    picked = [choices[i] for i in picks.tolist()]
    assert [None if pd.isna(v) else v for v in built.astype(object).tolist()] == picked
    expected = categorical(np.array(picked, dtype=object))
    assert list(built.categories) == list(expected.categories)  # only those picked, sorted


def test_regression_choices_that_are_all_missing_give_missing_values() -> None:
    # categorical_of indexed an empty renumbering when no choice had a category.
    built = categorical_of(np.array([None, None], dtype=object), np.array([1, 0, 1]))
    assert built.isna().all() and len(built.categories) == 0
    assert len(categorical_of(np.array([None], dtype=object), np.zeros(0, np.int64))) == 0


def test_distinct_texts_are_sorted_whether_found_by_a_set_or_by_hashing() -> None:
    from casefund.records.frames import distinct_texts

    rng = np.random.default_rng(5)
    choices = np.array(["midpoint", "cms_8_minute", "whole_units"], dtype=object)
    for rows in (3, 40, 5000):
        values = choices[rng.integers(0, 2, rows)]
        assert distinct_texts(values) == sorted(set(values.tolist()))
    assert distinct_texts(np.array([], dtype=object)) == []

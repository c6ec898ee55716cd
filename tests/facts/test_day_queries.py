"""Lookups made once per distinct (participant, day) give every row the answer a lookup
per row gives."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from casefund.facts.index import DayQueries, keys, latest_on_or_before

pairs = st.lists(st.tuples(st.integers(0, 6), st.integers(-40, 40)), max_size=60)


@settings(max_examples=300, deadline=None)
@given(entries=pairs, rows=pairs)
def test_shared_lookups_match_one_lookup_per_row(
    entries: list[tuple[int, int]], rows: list[tuple[int, int]]
) -> None:
    sorted_keys = np.sort(
        keys(
            np.array([c for c, _ in entries], dtype=np.int64),
            np.array([d for _, d in entries], dtype=np.int64),
        )
    )
    codes = np.array([c for c, _ in rows], dtype=np.int64)
    days = np.array([d for _, d in rows], dtype=np.int64)
    shared = DayQueries.of(codes, days).latest_on_or_before(sorted_keys)
    assert shared.tolist() == latest_on_or_before(sorted_keys, codes, days).tolist()

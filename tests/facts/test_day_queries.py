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


spans_drawn = st.lists(
    st.tuples(st.integers(0, 6), st.integers(-40, 40), st.integers(-5, 30)), max_size=25
)


@settings(max_examples=300, deadline=None)
@given(spans=spans_drawn, rows=pairs, window=st.integers(0, 20))
def test_span_lookups_match_a_walk_over_every_span(
    spans: list[tuple[int, int, int]], rows: list[tuple[int, int]], window: int
) -> None:
    """Enrolled in [window start, day], and unbroken days up to the day, as a person would
    read them off the spans (merged where they touch); no spans at all included."""
    from casefund.facts.spans import Spans

    merged = Spans.build(
        np.array([c for c, _, _ in spans], dtype=np.int64),
        np.array([s for _, s, _ in spans], dtype=np.int64),
        np.array([s + length for _, s, length in spans], dtype=np.int64),
    )
    codes = np.array([c for c, _ in rows], dtype=np.int64)
    days = np.array([d for _, d in rows], dtype=np.int64)
    at = DayQueries.of(codes, days)
    windows = days - window
    covered = [
        (int(c), int(s), int(e))
        for c, s, e in zip(merged.codes, merged.starts, merged.ends, strict=True)
    ]
    active = merged.active(at, windows).tolist()
    unbroken = merged.continuous_days(at).tolist()
    for i, (code, day) in enumerate(rows):
        mine = [(s, e) for c, s, e in covered if c == code]
        assert active[i] == any(s <= day and e >= day - window for s, e in mine)
        inside = [s for s, e in mine if s <= day <= e]
        assert unbroken[i] == (day - inside[0] + 1 if inside else 0)

"""Activity ids that tie on participant and day are ranked as Python orders text."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from casefund.facts.activities import _dense_rank


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=6), min_size=1, max_size=40))
def test_dense_rank_is_the_sorted_factorization(texts: list[str]) -> None:
    """Any text — accents, characters beyond the first plane, lone surrogates (which Arrow
    cannot hold, and pandas then ranks) — and repeats, which share a rank."""
    values = np.array(texts, dtype=object)
    expected = pd.factorize(values, sort=True)[0]
    assert _dense_rank(values).tolist() == expected.tolist()


def test_text_arrow_cannot_hold_is_ranked_by_pandas() -> None:
    values = np.array(["b\ud800", "a", "b\ud800", "\U0001f600"], dtype=object)
    assert _dense_rank(values).tolist() == [1, 0, 1, 2]

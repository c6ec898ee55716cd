"""A decision a parameter chooses per row: the rows of each decision, however few or many."""

from __future__ import annotations

import numpy as np
import pytest

from casefund.engine.decide import _rows_by_decision

KINDS = ("require", "deny", "warn", "qualify")


@pytest.mark.parametrize("rows", [3, 5000])
@pytest.mark.parametrize(
    "choices", [["deny"], ["deny", "warn"], ["warn", "require", "qualify"], ["other"]]
)
def test_rows_of_each_decision_are_those_a_comparison_finds(rows: int, choices: list[str]) -> None:
    rng = np.random.default_rng(rows)
    decision = np.array(choices, dtype=object)[rng.integers(0, len(choices), rows)]
    got = _rows_by_decision(decision)
    for kind in KINDS:
        want = decision == kind
        if want.any():
            assert np.array_equal(got[kind], want)
        else:
            assert kind not in got or not got[kind].any()
    # The order of the kinds is the rule's order (require before deny: both deny rows).
    listed = [k for k in got if k in KINDS]
    assert listed == [k for k in KINDS if k in listed]

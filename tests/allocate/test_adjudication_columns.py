"""The adjudication's column reads: each activity column converted once, read-only, with the
same values the stages used to convert for themselves (blanks as the stage expects)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from casefund.engine.adjudication import Adjudication
from casefund.io.load import as_dataset
from casefund.synthetic import Shape, demo_contracts, generate


@pytest.fixture(scope="module")
def adjudication() -> Adjudication:
    tables = generate(Shape(participants=25, months=2, seed=9))
    return Adjudication.of(as_dataset(tables, demo_contracts(), {}))


def test_arrays_hold_the_columns_values_with_blanks_as_each_stage_read_them(
    adjudication: Adjudication,
) -> None:
    acts = adjudication.acts
    np.testing.assert_array_equal(adjudication.array("_day"), acts["_day"].to_numpy(np.int64))
    np.testing.assert_array_equal(
        adjudication.array("minutes"), acts["minutes"].to_numpy(dtype=np.int64, na_value=0)
    )
    np.testing.assert_array_equal(
        adjudication.array("quantity"), acts["quantity"].to_numpy(dtype=float, na_value=np.nan)
    )
    mode = adjudication.array("mode")
    assert mode.dtype == object
    assert list(mode) == acts["mode"].astype(object).fillna("").tolist()
    assert adjudication.days is adjudication.array("_day")  # converted once, then shared


def test_shared_arrays_cannot_be_written(adjudication: Adjudication) -> None:
    for name in ("_day", "_code", "minutes", "amount", "activity"):
        with pytest.raises(ValueError):
            adjudication.array(name)[:1] = 0
    codes, _ = adjudication.coded("participant_id")
    with pytest.raises(ValueError):
        codes[:1] = 0


def test_codes_give_back_the_column(adjudication: Adjudication) -> None:
    for name in ("participant_id", "_date_text", "activity", "staff_id"):
        codes, kinds = adjudication.coded(name)
        rebuilt = pd.Categorical.from_codes(codes, dtype=kinds)
        column = adjudication.acts[name]
        assert list(rebuilt.categories) == sorted(rebuilt.categories)
        assert [None if pd.isna(v) else v for v in rebuilt] == [
            None if pd.isna(v) else v for v in column.astype(object)
        ]

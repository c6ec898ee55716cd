"""The Python API's outputs are typed as a pandas user expects (issue 17): days are
datetimes, months periods, a blank cell is missing, and only casefund's own vocabularies
are categorical -- while ``table()`` and the files keep the text they always held."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import casefund
from casefund.evaluation import Evaluation
from casefund.reports.columns import CATEGORIES, KINDS, Kind

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "small_agency"


@pytest.fixture(scope="module")
def result() -> Evaluation:
    return casefund.evaluate(FIXTURE)


def test_days_are_datetimes_and_months_are_periods(result: Evaluation) -> None:
    lines = result.lines
    assert pd.api.types.is_datetime64_any_dtype(lines["service_date"])
    assert lines["service_date"].dt.day_name().iloc[0] == "Monday"  # 2024-03-04
    assert isinstance(lines["month"].dtype, pd.PeriodDtype)
    assert lines["month"].dt.year.iloc[0] == 2024
    assert (lines["month"] == lines["service_date"].dt.to_period("M")).all()


def test_a_blank_cell_is_missing_not_an_empty_string(result: Evaluation) -> None:
    lines, built = result.lines, result.table("lines")
    blank = (built["contract_id"].astype(str) == "").to_numpy()
    assert blank.any()  # an unbillable remainder has no contract
    assert lines["contract_id"].isna().to_numpy().tolist() == blank.tolist()
    assert not (lines["contract_id"].dropna() == "").any()


def test_only_casefund_vocabularies_are_categorical(result: Evaluation) -> None:
    for name in result.frames:
        frame = getattr(result, name)
        categorical = {
            str(c) for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)
        }
        assert categorical <= CATEGORIES.get(name, frozenset()), name
        for column in frame.columns:
            dtype = frame[column].dtype
            text = isinstance(dtype, pd.StringDtype)
            typed = text or isinstance(dtype, (pd.CategoricalDtype, pd.PeriodDtype))
            assert typed or dtype.kind in "biufMb", (name, column, dtype)


def test_typed_values_are_the_files_values(result: Evaluation) -> None:
    """Converting loses nothing: every declared day and month reads back as its text."""
    for name, kinds in KINDS.items():
        if name not in result.frames:
            continue
        built, frame = result.table(name), getattr(result, name)
        for column, kind in kinds.items():
            if column not in built or kind not in (Kind.DATE, Kind.MONTH):
                continue
            shape = "%Y-%m-%d" if kind is Kind.DATE else "%Y-%m"
            values = frame[column]
            as_text = values.dt.strftime(shape) if kind is Kind.DATE else values.astype(str)
            as_text = as_text.where(values.notna(), "")
            assert as_text.tolist() == built[column].astype(str).tolist(), (name, column)


def test_the_built_table_keeps_the_files_text(result: Evaluation) -> None:
    built = result.table("lines")
    assert built["service_date"].astype(str).str.match(r"^\d{4}-\d{2}-\d{2}$").all()
    with pytest.raises(KeyError, match="no output named 'line'"):
        result.table("line")


def test_typed_outputs_are_the_same_for_a_partitioned_run(result: Evaluation) -> None:
    parted = casefund.evaluate(FIXTURE, partitions=3)
    for name in ("lines", "denials", "eligibility", "claims"):
        pd.testing.assert_frame_equal(getattr(parted, name), getattr(result, name), obj=name)


def test_the_day_queries_are_typed_like_evaluate() -> None:
    """casefund.eligibility() and casefund.recertification() answer in the same types as
    the evaluation's outputs of those names."""
    frame = casefund.eligibility(FIXTURE, as_of="2024-03-31")
    assert pd.api.types.is_datetime64_any_dtype(frame["as_of"])
    assert isinstance(frame["month"].dtype, pd.PeriodDtype)
    assert isinstance(frame["program"].dtype, pd.CategoricalDtype)
    due = casefund.recertification(FIXTURE, as_of="2024-03-31")
    assert pd.api.types.is_datetime64_any_dtype(due["eligible_through"])

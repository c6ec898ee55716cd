"""Bad input: every refused row is named by table, row and field; nothing vanishes."""

from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import casefund
from casefund.errors import InputError
from casefund.io.load import load_dataset

PEOPLE = "participant_id,birth_date,hiv\np1,1980-01-01,Y\np2,1990-02-03,no\n"


def write(folder: Path, **files: str) -> Path:
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def test_refused_rows_name_table_row_field_and_problem(tmp_path: Path) -> None:
    data = write(
        tmp_path,
        **{
            "participants.csv": PEOPLE,
            "activities.csv": (
                "activity_id,participant_id,date,minutes,activity\n"
                "a1,p1,2024-02-01,30,assessment\n"
                "a2,p1,2024-02-30,30,assessment\n"
                "a3,p9,2024-02-01,30,assessment\n"
                "a4,p1,2024-02-01,-5,assessment\n"
                "a5,p1,2024-02-01,30,asessment\n"
                "a1,p2,2024-02-01,30,monitoring\n"
            ),
        },
    )
    data_set = load_dataset(data)
    rejects = data_set.rejects
    got = set(zip(rejects["row"], rejects["field"], strict=True)) - {(1, "activity_id")}
    assert got == {
        (2, "date"),
        (3, "participant_id"),
        (4, "minutes"),
        (5, "activity"),
        (6, "activity_id"),
    }
    assert "did you mean 'assessment'" in rejects.loc[rejects["row"] == 5, "problem"].iloc[0]
    assert "repeated on rows 1, 6" in rejects.loc[rejects["row"] == 6, "problem"].iloc[0]
    assert (rejects["table"] == "activities").all()
    assert data_set.activities.empty  # a1 is repeated, so both copies are refused


def test_every_input_row_is_accepted_or_rejected(tmp_path: Path) -> None:
    data = write(
        tmp_path,
        **{
            "participants.csv": PEOPLE + "p2,not-a-date,maybe\n",
            "activities.csv": "activity_id,participant_id,date,minutes,activity\n"
            "a1,p1,2024-02-01,30,assessment\n",
        },
    )
    data_set = load_dataset(data)
    refused_rows = data_set.rejects.query("table == 'participants'")["row"].nunique()
    assert len(data_set.participants) + refused_rows == 3
    fields = set(data_set.rejects.query("table == 'participants'")["field"])
    assert fields == {"birth_date", "hiv"}  # a row already refused is not also a duplicate


def test_missing_required_column_stops_with_file_and_column(tmp_path: Path) -> None:
    data = write(
        tmp_path,
        **{
            "participants.csv": PEOPLE,
            "activities.csv": "activity_id,participant_id,date,minutes\na1,p1,2024-02-01,30\n",
        },
    )
    with pytest.raises(InputError, match=r"activities\.csv.*'activity'"):
        load_dataset(data)


def test_booleans_accept_the_contract_spellings_and_blank_is_unknown() -> None:
    people = pd.DataFrame(
        {"participant_id": list("abcdefg"), "hiv": ["true", "Yes", "1", "Y", "no", "0", ""]}
    )
    loaded = load_dataset({"participants": people})
    assert loaded.participants["hiv"].tolist()[:6] == [True, True, True, True, False, False]
    assert pd.isna(loaded.participants["hiv"].iloc[6])


def test_start_and_end_give_date_and_minutes() -> None:
    people = pd.DataFrame({"participant_id": ["p1"]})
    acts = pd.DataFrame(
        {
            "activity_id": ["a1"],
            "participant_id": ["p1"],
            "start": ["2024-03-05T10:00"],
            "end": ["2024-03-05T10:50"],
            "activity": ["assessment"],
        }
    )
    loaded = load_dataset({"participants": people, "activities": acts})
    row = loaded.activities.iloc[0]
    assert int(row["minutes"]) == 50
    assert row["date"] == pd.Timestamp("2024-03-05")


def test_excel_day_serials_are_read_as_dates() -> None:
    people = pd.DataFrame({"participant_id": ["p1"], "birth_date": ["29221"]})
    loaded = load_dataset({"participants": people})
    assert loaded.participants["birth_date"].iloc[0] == pd.Timestamp("1980-01-01")


def test_bom_and_column_case_are_tolerated(tmp_path: Path) -> None:
    (tmp_path / "participants.csv").write_bytes("\ufeffParticipant_ID\np1\n".encode())
    assert load_dataset(tmp_path).participants["participant_id"].tolist() == ["p1"]


def test_unknown_contract_key_names_contract_and_key() -> None:
    with pytest.raises(InputError, match=r"contract 'c1'.*key 'ratee'"):
        casefund.evaluate(
            {"participants": pd.DataFrame({"participant_id": ["p1"]})},
            {
                "contracts": [
                    {"id": "c1", "payer": "X", "program": "tcm", "payment": "ffs_unit", "ratee": 3}
                ]
            },
        )


def test_rejected_activities_appear_as_rejected_lines_with_no_minutes(tmp_path: Path) -> None:
    data = write(
        tmp_path,
        **{
            "participants.csv": PEOPLE,
            "activities.csv": "activity_id,participant_id,date,minutes,activity\n"
            "a1,p1,2024-02-01,30,assessment\na2,p1,2024-02-01,30,nonsense\n",
        },
    )
    result = casefund.evaluate(data)
    rejected = result.lines.query("status == 'rejected'")
    assert rejected["activity_id"].tolist() == ["a2"]
    assert rejected["minutes"].sum() == 0
    accepted = result.lines.query("status != 'rejected'")
    assert accepted["minutes"].sum() == 30


def test_empty_table_without_optional_columns_loads_empty() -> None:
    # Regression: absent optional columns on an empty table once grew the table to one row.
    events = pd.DataFrame(columns=["participant_id", "date", "event"])
    loaded = load_dataset(
        {"participants": pd.DataFrame({"participant_id": ["p1"]}), "events": events}
    )
    assert loaded["events"].empty and loaded.rejects.empty


def test_repeated_ids_refuse_every_copy_whatever_the_order() -> None:
    people = pd.DataFrame({"participant_id": ["p1", "p2", "p1"]})
    loaded = load_dataset({"participants": people})
    assert loaded.participants["participant_id"].tolist() == ["p2"]
    assert loaded.rejects["row"].tolist() == [1, 3]


def test_huge_numbers_in_a_date_column_are_refused_not_a_crash() -> None:
    # Regression (found by fuzzing): a number far beyond any day serial overflowed timedelta.
    assessments = pd.DataFrame(
        {
            "participant_id": ["p1", "p1"],
            "date": [1.0, 106751992.0],
            "fact": ["homeless", "homeless"],
            "value": ["yes", "no"],
        }
    )
    loaded = load_dataset(
        {"participants": pd.DataFrame({"participant_id": ["p1"]}), "assessments": assessments}
    )
    # Day 1 is 1899-12-31, before 1900; the other is no date at all: both refused on 'date'.
    assert loaded["assessments"].empty
    assert loaded.rejects[["row", "field"]].values.tolist() == [[1, "date"], [2, "date"]]


def test_typed_records_validate_and_feed_evaluate() -> None:
    from pydantic import ValidationError

    from casefund.records.models import Activity, Participant

    with pytest.raises(ValidationError):
        Activity(activity_id="a1", participant_id="p1", date="2024-03-01", activity="referal")
    with pytest.raises(ValidationError):
        Activity(
            activity_id="a1",
            participant_id="p1",
            date="2024-03-01",
            activity="referral",
            minutes=-1,
        )
    result = casefund.evaluate(
        {
            "participants": [Participant(participant_id="p1", hiv=True)],
            "activities": [
                Activity(
                    activity_id="a1",
                    participant_id="p1",
                    date="2024-03-01",
                    minutes=30,
                    activity="referral",
                )
            ],
        },
        {"contracts": []},
    )
    assert result.lines["minutes"].sum() == 30 and result.rejects.empty


def _values(frame: pd.DataFrame, column: str) -> list[object]:
    return list(frame[column].astype(object).fillna("<missing>"))


def test_plain_record_types_exactly_as_the_batch_validator_or_defers_to_it() -> None:
    """The event path's fast typing of one record must never accept what the batch refuses,
    and must give the same values and dtypes where it accepts."""
    from casefund.io.record import plain_record
    from casefund.io.validate import validate_table
    from casefund.records.tables import TABLES
    from casefund.synthetic import Shape, generate

    spec = TABLES["activities"]
    records = generate(Shape(participants=15, months=2, seed=5, malformed_share=0.08))[
        "activities"
    ].to_dict("records")
    records += [
        {
            "activity_id": "x1",
            "participant_id": "P000001",
            "date": "2024-02-30",
            "minutes": "30",
            "activity": "assessment",
        },
        {
            "activity_id": "x2",
            "participant_id": "P000001",
            "date": "2024-02-03",
            "minutes": 2000,
            "activity": "assessment",
        },
        {
            "activity_id": "x3",
            "participant_id": " P000001 ",
            "date": "2024-02-03",
            "minutes": 15.0,
            "activity": " Assessment ",
        },
        {
            "activity_id": "x4",
            "participant_id": "P000001",
            "start": "2024-02-03T10:00",
            "end": "2024-02-03T10:40",
            "activity": "assessment",
        },
    ]
    typed_fast = 0
    for record in records:
        fast = plain_record(record, spec)
        batch = validate_table(pd.DataFrame([record]), spec, "posted").frame
        if fast is None:
            continue
        typed_fast += 1
        assert len(batch) == 1, record
        for column in batch.columns:
            assert str(fast[column].dtype) == str(batch[column].dtype), column
            assert _values(fast, column) == _values(batch, column), column
    assert typed_fast >= len(records) * 0.8  # the fast path is the common path


def test_a_plain_record_frozen_directly_is_the_frozen_plain_frame() -> None:
    """plain_frozen builds the arrays a live session keeps without the pandas frame; they
    must be those Frozen takes from plain_record's frame, description and arrays alike."""
    from casefund.io.frozen import Frozen
    from casefund.io.record import plain_frozen, plain_record
    from casefund.records.tables import TABLES
    from casefund.synthetic import Shape, generate

    spec = TABLES["activities"]
    records = generate(Shape(participants=15, months=2, seed=5, malformed_share=0.08))[
        "activities"
    ].to_dict("records")
    records += [  # blanks in every optional kind of column
        {"activity_id": "y1", "participant_id": "P000001", "date": "2024-02-03",
         "minutes": 20, "activity": "assessment", "mode": None, "quantity": None,
         "staff_role": "", "collateral_purpose": None, "amount": 12.5},
    ]  # fmt: skip
    compared = 0
    for record in records:
        direct = plain_frozen(record, spec)
        frame = plain_record(record, spec, row=None)
        assert (direct is None) == (frame is None), record
        if direct is None or frame is None:
            continue
        compared += 1
        through_pandas = Frozen(frame)
        assert direct.frozen.columns == through_pandas.columns
        for mine, theirs in zip(direct.frozen.leaves, through_pandas.leaves, strict=True):
            assert len(mine) == len(theirs)
            for a, b in zip(mine, theirs, strict=True):
                assert a.dtype == b.dtype and a.tolist() == b.tolist()
        pd.testing.assert_frame_equal(direct.frozen.thaw(), frame)
        assert direct.values["activity_id"] == frame["activity_id"].iloc[0]
    assert compared >= len(records) * 0.8


_MESSY = [
    "2024-03-15",
    " 2024-03-15 ",
    "2024-3-5",
    "45000",
    "45000.0",
    "1899-01-01",
    "2101-01-01",
    "not a date",
    "",
    "  ",
    "Phone",
    "phone ",
    "IN_PERSON",
    "in person",
    "yes",
    "N",
    "true",
    "0",
    "2",
    "P001",
    "p001",
    "ünïcode",
    "\ufeffP002",
    None,
]


@given(
    pool=st.lists(st.sampled_from(_MESSY), min_size=1, max_size=12, unique=True),
    picks=st.lists(st.integers(0, 11), min_size=1100, max_size=1300),
    arrow=st.booleans(),
)
@settings(max_examples=40, deadline=None)
def test_long_columns_parsed_by_distinct_value_equal_parsing_every_cell(
    pool: list[str | None], picks: list[int], arrow: bool
) -> None:
    """A long column is parsed once per distinct value and spread back: the typed values and
    every problem (mask and text) are those of parsing each cell."""
    from casefund.io.validate import _parse_cells, parse_column
    from casefund.records.tables import TABLES

    values = [pool[i % len(pool)] for i in picks]
    series = pd.Series(values, dtype="str" if arrow else object)
    specs = {c.name: c for t in ("activities", "participants") for c in TABLES[t].columns}
    for name in ("date", "start", "activity", "mode", "participant_id", "hiv"):
        by_value, problems = parse_column(series, specs[name])
        by_cell, expected = _parse_cells(series, specs[name])
        pd.testing.assert_series_equal(by_value, by_cell, obj=name)
        assert len(problems) == len(expected)
        for got, want in zip(problems, expected, strict=True):
            assert got.field == want.field
            assert got.mask.tolist() == want.mask.tolist()
            texts = [got.text] * len(series) if isinstance(got.text, str) else list(got.text)
            wanted = [want.text] * len(series) if isinstance(want.text, str) else list(want.text)
            assert [t for t, m in zip(texts, got.mask, strict=True) if m] == [
                t for t, m in zip(wanted, want.mask, strict=True) if m
            ]

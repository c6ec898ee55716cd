"""Hostile input: never a traceback; every row accepted or in rejects with its field."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import casefund
from casefund.errors import InputError
from casefund.records.tables import TABLES

junk = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.sampled_from(
        [
            "",
            " ",
            "2024-02-30",
            "45123",
            "1e309",
            "Y",
            "nan",
            "\ufeffx",
            "ü",
            "-5",
            "99999",
            "2024-03-15",
            "assessment",
            "p1",
            "referal",
        ]
    ),
)


@st.composite
def hostile_table(draw: st.DrawFn, table: str) -> pd.DataFrame:
    spec = TABLES[table]
    names = [c.name for c in spec.columns]
    columns = draw(
        st.lists(
            st.sampled_from([*names, "extra", "Activity"]), min_size=1, max_size=8, unique=True
        )
    )
    for required in spec.required:
        if draw(st.booleans()) and required not in columns:
            columns.append(required)
    rows = draw(st.integers(0, 6))
    return pd.DataFrame({c: [draw(junk) for _ in range(rows)] for c in columns})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(list(TABLES)), st.data())
def test_any_table_is_accepted_refused_or_a_clear_input_error(
    table: str, data: st.DataObject
) -> None:
    frame = data.draw(hostile_table(table))
    people = pd.DataFrame({"participant_id": ["p1", "p2"]})
    tables = (
        {"participants": people, table: frame}
        if table != "participants"
        else {"participants": frame}
    )
    try:
        result = casefund.evaluate(tables, {"contracts": []})
    except InputError as exc:
        assert table in str(exc) or "column" in str(exc)
        return
    assert result.dataset is not None
    refused = result.rejects.query("table == @table")
    assert len(result.dataset.tables[table]) + refused["row"].nunique() == len(frame)
    assert set(refused["field"]) <= set(frame.columns.str.lower()) | {
        c.name for c in TABLES[table].columns
    }


@settings(max_examples=40, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "id",
                "payer",
                "program",
                "payment",
                "rate",
                "caps",
                "priority",
                "covers",
                "effective",
                "bogus",
            ]
        ),
        junk,
        max_size=8,
    )
)
def test_any_contract_is_valid_or_a_clear_error_naming_contract_and_key(
    contract: dict[str, object],
) -> None:
    people = pd.DataFrame({"participant_id": ["p1"]})
    try:
        casefund.evaluate({"participants": people}, {"contracts": [contract]})
    except InputError as exc:
        assert "contract '" in str(exc) and "key '" in str(exc)


FLAG_CELLS = st.one_of(
    st.none(),
    st.sampled_from(
        ["yes", " Yes ", "Y", "n", "NO", "true", "False", "1", "0", "1.0", "0.0", "", " ", "t"]
    ),
    st.sampled_from(["maybe", "\u00a0y", "yes\x1f", "2", "nan", "ja", "\ufeffyes"]),
    st.text(max_size=4),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.integers(0, 200),  # six flags of 171 rows or more: the by-value parse
    cells=st.data(),
)
def test_flags_parsed_together_give_each_column_its_own_answer(
    rows: int, cells: st.DataObject
) -> None:
    """A table's yes/no columns are parsed laid end to end (one parse instead of two dozen);
    every cell must come out as parsing its column alone gives it, problems included."""
    import casefund.io.validate as validate

    spec = TABLES["participants"]
    flags = [c.name for c in spec.columns if c.kind == "bool"]
    assert len(flags) >= 2
    frame = pd.DataFrame(
        {
            "participant_id": [f"p{i}" for i in range(rows)],
            **{
                name: cells.draw(st.lists(FLAG_CELLS, min_size=rows, max_size=rows))
                for name in flags[:6]
            },
        },
        dtype=object,
    )
    together = validate.validate_table(frame, spec, "participants.csv")
    alone_parse = validate._parse_flags_together
    try:
        validate._parse_flags_together = lambda frame, spec: {}  # type: ignore[assignment]
        alone = validate.validate_table(frame, spec, "participants.csv")
    finally:
        validate._parse_flags_together = alone_parse
    pd.testing.assert_frame_equal(together.frame, alone.frame)
    pd.testing.assert_frame_equal(together.rejects, alone.rejects)
    pd.testing.assert_frame_equal(together.refused, alone.refused)

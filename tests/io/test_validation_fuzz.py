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

"""Cost-reimbursed Community Supports lines count units as their HCPCS code bills them (CMS
HCPCS Level II descriptors: S5170 "per meal", H0044 "per month", S9125 "per diem", T1019
"per 15 minutes"), never hours of staff time."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from casefund.allocate.service_units import minutes_per_unit, units_of_service

from conftest import act, evaluate, lines_for, span

CS = {
    "id": "cs",
    "payer": "MCP A",
    "program": "community_supports",
    "payment": "cost_reimbursement",
    "parameters": {"deposit_requires_navigation": False},
}
PERSON = [{"participant_id": "p1"}]
COVERAGE = [
    span("p1", "medi_cal", "2020-01-01", payer="mcp_a"),
    span("p1", "community_supports", "2020-01-01", payer="mcp_a"),
]


def coded(aid: str, date: str, minutes: int, code: str, **more: Any) -> dict[str, Any]:
    return act(aid, "p1", date, minutes, "administrative", procedure_code=code, **more)


def billed_units(acts: list[dict[str, Any]]) -> dict[str, float]:
    result = evaluate(PERSON, acts, [CS], COVERAGE)
    out = {}
    for a in acts:
        line = lines_for(result, a["activity_id"]).iloc[0]
        assert line["status"] == "billable", line["reasons"]
        out[a["activity_id"]] = float(line["units"])
    return out


def test_meals_are_counted_in_meals_recorded_or_one_a_delivery() -> None:
    units = billed_units(
        [
            coded("m1", "2024-03-01", 10, "S5170", modifiers="U6", quantity=2, amount=24),
            coded("m2", "2024-03-02", 10, "S5170", modifiers="U6", amount=12),
        ]
    )
    assert units == {"m1": 2.0, "m2": 1.0}  # not 10 minutes as 0.17 hours


def test_a_housing_deposit_is_one_unit_per_month_whatever_the_time_spent() -> None:
    units = billed_units([coded("d1", "2024-03-01", 45, "H0044", modifiers="U2", amount=1500)])
    assert units == {"d1": 1.0}


def test_per_diem_respite_is_one_unit_a_day_however_many_contacts() -> None:
    acts = [
        coded("r1", "2024-03-01", 60, "S9125", modifiers="U6", amount=200),
        coded("r2", "2024-03-01", 30, "S9125", modifiers="U6", amount=100),
        coded("r3", "2024-03-02", 60, "S9125", modifiers="U6", amount=200),
    ]
    assert billed_units(acts) == {"r1": 1.0, "r2": 0.0, "r3": 1.0}
    claims = evaluate(PERSON, acts, [CS], COVERAGE).claims
    assert claims.sort_values("service_date")["units"].tolist() == [1.0, 1.0]


def test_personal_care_counts_15_minute_units_by_the_midpoint() -> None:
    units = billed_units(
        [
            coded("c1", "2024-03-01", 23, "T1019", modifiers="U6", amount=40),
            coded("c2", "2024-03-02", 22, "T1019", modifiers="U6", amount=40),
        ]
    )
    assert units == {"c1": 2.0, "c2": 1.0}  # 23 minutes pass the 2nd unit's midpoint


def test_a_code_missing_from_the_unit_table_counts_one_unit_an_activity() -> None:
    # T2050 is in the Community Supports code map but not in the HCPCS file version read.
    units = billed_units([coded("t1", "2024-03-01", 50, "T2050", modifiers="U6", amount=80)])
    assert units == {"t1": 1.0}  # not 0.83 hours


@pytest.mark.parametrize(
    ("unit", "minutes"),
    [("per 15 minutes", 15), ("per hour", 60), ("per diem", None), ("per meal", None)],
)
def test_minutes_per_unit_reads_the_descriptor_words(unit: str, minutes: int | None) -> None:
    assert minutes_per_unit(unit) == minutes


def test_a_row_not_restated_and_a_recorded_quantity_keep_their_units() -> None:
    keys = {
        "contract": np.zeros(3, dtype=np.int64),
        "participant": np.zeros(3, dtype=np.int64),
        "day": np.array([1, 1, 1]),
        "month": np.zeros(3, dtype=np.int64),
        "code": np.array(["X:", "S9125:U6", "S9125:U6"], dtype=object),
    }
    out = units_of_service(
        np.array([0.5, 3.0, 0.25]),
        np.array(["", "per diem", "per diem"], dtype=object),
        np.array([30, 60, 15]),
        np.array([False, True, False]),
        keys,
    )
    assert out.tolist() == [0.5, 3.0, 1.0]

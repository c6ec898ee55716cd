"""Invariants that must hold for any data: conservation, order independence, determinism,
caps never exceeded, units monotone in minutes, eligibility monotone in qualifying facts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import casefund
from casefund.synthetic import Shape, demo_contracts, generate
from casefund.units.policies import day_units_to_activities, units_for_minutes

SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def datasets(draw: st.DrawFn) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    shape = Shape(
        participants=draw(st.integers(3, 25)),
        months=draw(st.integers(1, 3)),
        contacts_per_month=draw(st.floats(1.0, 12.0)),
        malformed_share=draw(st.sampled_from([0.0, 0.02, 0.1])),
        seed=draw(st.integers(0, 10_000)),
    )
    contracts = demo_contracts()
    for contract in contracts["contracts"]:
        if draw(st.booleans()):
            contract["caps"] = {
                **contract.get("caps", {}),
                "units_per_month": draw(st.integers(0, 12)),
            }
        if draw(st.booleans()):
            contract["caps"] = {
                **contract.get("caps", {}),
                "budget": draw(st.floats(0, 5000).map(lambda v: round(v, 2))),
            }
    return generate(shape), contracts


def accepted_minutes(tables: dict[str, pd.DataFrame], result: casefund.Evaluation) -> pd.Series:
    data = result.dataset
    assert data is not None
    acts = data.activities
    minutes = acts.set_index(acts["activity_id"].astype(str))["minutes"].astype(int)
    return minutes.sort_index()


@SETTINGS
@given(datasets())
def test_every_accepted_minute_is_in_lines_exactly_once(data: Any) -> None:
    tables, contracts = data
    result = casefund.evaluate(tables, contracts)
    expected = accepted_minutes(tables, result)
    lines = result.lines.query("status != 'rejected'")
    got = lines.groupby(lines["activity_id"].astype(str))["minutes"].sum().astype(int)
    got = got.sort_index()
    pd.testing.assert_series_equal(got, expected, check_names=False)
    assert (lines["minutes"] >= 0).all()
    # Every recorded dollar (a deposit, meals) is on the lines once: paid by a contract, or
    # carried by the activity's unbillable remainder.
    assert result.dataset is not None
    acts = result.dataset.activities
    recorded = acts.set_index(acts["activity_id"].astype(str))["amount"].astype(float).fillna(0.0)
    carried = lines.groupby(lines["activity_id"].astype(str))["pass_through"].sum()
    np.testing.assert_allclose(
        carried.reindex(recorded.index).fillna(0.0).to_numpy(), recorded.to_numpy(), atol=0.011
    )
    assert (lines["pass_through"] >= 0).all()
    # Time by function holds every accepted minute once, split three ways.
    functions = result.table("functions")
    assert int(functions["minutes"].sum()) == int(expected.sum())
    parts = functions[["billable_minutes", "bundled_minutes", "unbillable_minutes"]].sum(axis=1)
    assert (parts == functions["minutes"]).all()
    unpaid = lines.loc[lines["status"] != "billable", "pass_through"]
    assert (unpaid.groupby(lines["activity_id"].astype(str)).size() <= 1).all()
    # input rows = accepted + refused, for every table
    assert result.dataset is not None
    for name, count in result.dataset.input_rows.items():
        refused = result.rejects.query("table == @name")["row"].nunique()
        assert len(result.dataset.tables[name]) + refused == count, name


@SETTINGS
@given(datasets(), st.integers(0, 2**31 - 1))
def test_shuffled_inputs_give_identical_outputs(data: Any, seed: int) -> None:
    tables, contracts = data
    rng = np.random.default_rng(seed)
    shuffled = {
        name: frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
        for name, frame in tables.items()
    }
    first = casefund.evaluate(tables, contracts)
    second = casefund.evaluate(shuffled, contracts)
    names = ("lines", "claims", "eligibility", "breakdown", "admin_cap", "caseloads", "functions")
    for name in names:
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name), obj=name)


@settings(max_examples=5, deadline=None)
@given(datasets())
def test_the_same_inputs_always_give_the_same_outputs(data: Any) -> None:
    tables, contracts = data
    first, second = casefund.evaluate(tables, contracts), casefund.evaluate(tables, contracts)
    for name, frame in first.outputs().items():
        pd.testing.assert_frame_equal(frame, second.outputs()[name], obj=name)
    assert first.manifest() == second.manifest()


@SETTINGS
@given(datasets())
def test_caps_and_budgets_are_never_exceeded(data: Any) -> None:
    tables, contracts = data
    result = casefund.evaluate(tables, contracts)
    billed = result.lines.query("status == 'billable'")
    for contract in contracts["contracts"]:
        mine = billed.query("contract_id == @contract['id']")
        caps = contract.get("caps", {})
        if caps.get("units_per_month") is not None:
            per_month = mine.groupby(["participant_id", "month"])["units"].sum()
            assert (per_month <= caps["units_per_month"] + 1e-9).all()
        if caps.get("budget") is not None:
            assert mine["amount"].sum() <= caps["budget"] + 0.01
        if caps.get("amount_lifetime") is not None:
            assert (
                mine.groupby("participant_id")["amount"].sum() <= caps["amount_lifetime"] + 0.01
            ).all()


@given(
    st.lists(st.integers(0, 600), min_size=1, max_size=30),
    st.sampled_from(["whole_units", "cms_8_minute", "midpoint"]),
    st.sampled_from([15, 30, 60]),
)
def test_units_never_decrease_as_minutes_grow(minutes: list[int], rounding: str, unit: int) -> None:
    values = np.sort(np.array(minutes))
    units = units_for_minutes(values, unit, rounding)
    assert (np.diff(units) >= 0).all()
    assert (units * unit <= values + unit).all()  # never more than one unit beyond the time


@given(st.lists(st.integers(0, 120), min_size=1, max_size=8))
def test_a_days_units_are_all_handed_out_and_never_more(minutes: list[int]) -> None:
    m = np.array(minutes)
    day_units = units_for_minutes(np.array([m.sum()]), 15, "cms_8_minute")
    shares = day_units_to_activities(
        np.zeros(len(m), dtype=np.int64), m, np.arange(len(m)), day_units, 15
    )
    assert shares.sum() == day_units[0]


def _eligible(events: list[str], coverage: list[dict[str, str]]) -> bool:
    people = pd.DataFrame(
        [{"participant_id": "p1", "birth_date": "1980-01-01", "county": "Los Angeles"}]
    )
    ev = pd.DataFrame(
        [{"participant_id": "p1", "date": d, "event": "ed_visit"} for d in events],
        columns=["participant_id", "date", "event"],
    )
    cov = pd.DataFrame(
        [{"participant_id": "p1", "program": "medi_cal", "start_date": "2020-01-01"}, *coverage]
    )
    frame = casefund.eligibility(
        {"participants": people, "events": ev, "coverage": cov}, as_of="2024-06-30"
    )
    ecm = frame.query("program == 'ecm' and population == 'avoidable_utilization'")
    return bool(ecm["eligible"].iloc[0])


visit_days = st.lists(
    st.dates(
        min_value=pd.Timestamp("2023-10-01").date(), max_value=pd.Timestamp("2024-08-31").date()
    ).map(str),
    max_size=8,
)


@settings(max_examples=25, deadline=None)
@given(
    visit_days,
    st.dates(
        min_value=pd.Timestamp("2023-10-01").date(), max_value=pd.Timestamp("2024-08-31").date()
    ).map(str),
)
def test_adding_a_visit_never_removes_eligibility(days: list[str], extra: str) -> None:
    if _eligible(days, []):
        assert _eligible([*days, extra], [])


@settings(max_examples=15, deadline=None)
@given(visit_days, st.sampled_from(["hospice", "pace", "ccm", "cct", "hcbs_waiver_1915c"]))
def test_removing_an_excluded_program_never_reduces_eligibility(
    days: list[str], program: str
) -> None:
    excluded = [{"participant_id": "p1", "program": program, "start_date": "2024-01-01"}]
    assert _eligible(days, []) >= _eligible(days, excluded)

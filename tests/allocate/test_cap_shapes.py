"""Caps contracts could not state before (issue 12, finding 10): a rolling window of months
and a limit per episode (an authorization, a transition or a stay)."""

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from casefund.allocate.caps import rolling_cap
from casefund.facts.calendar import shift_months

from conftest import TCM_CONTRACT, act, evaluate, lines_for, span

GROCERIES = {
    "id": "food",
    "payer": "Food Fund",
    "program": "grant",
    "payment": "grant",
    "rate": 10.0,
    "unit_minutes": 15,
    "rounding": "whole_units",
    "covers": ["transportation"],
    "caps": {"units_per_rolling": {"limit": 4, "months": 3}},
}


def units_of(result: Any, activity_id: str) -> float:
    lines = lines_for(result, activity_id)
    return float(lines.loc[lines["status"] == "billable", "units"].sum())


def test_rolling_window_frees_room_as_earlier_services_leave_it() -> None:
    # 4 units in any 3 months: Jan and Feb fill it; March gets nothing; by April 10 January
    # has left the window (Jan 10 – Apr 10), so April and May are paid again.
    acts = [
        act(f"a{m}", "p1", f"2024-0{m}-{'05' if m < 4 else '10'}", 30, "transportation")
        for m in (1, 2, 3, 4, 5)
    ]
    result = evaluate([{"participant_id": "p1"}], acts, [GROCERIES])
    assert [units_of(result, f"a{m}") for m in (1, 2, 3, 4, 5)] == [2, 2, 0, 2, 2]
    march = lines_for(result, "a3").iloc[0]
    assert march["status"] == "unbillable" and "cap.units_per_rolling" in march["reasons"]


def test_episode_limit_restarts_with_each_recorded_span(tcm_member: Any) -> None:
    # Colorado's transition coordination is capped per transition (10 CCR 2505-10 §8.763.C:
    # 360 units per member per transition); here 4 units per recorded TCM span.
    people, _ = tcm_member
    coverage = [
        span("p1", "medi_cal", "2024-01-01", payer="mcp_a"),
        span("p1", "tcm", "2024-01-01", "2024-03-31", payer="county_bh"),
        span("p1", "tcm", "2024-04-01", "2024-12-31", payer="county_bh"),
    ]
    contract = {
        **TCM_CONTRACT,
        "rounding": "whole_units",
        "aggregate": "per_activity",
        "caps": {"units_per_episode": {"limit": 4, "program": "tcm"}},
    }
    acts = [
        act("a1", "p1", "2024-02-05", 30, "referral"),
        act("a2", "p1", "2024-03-05", 30, "referral"),
        act("a3", "p1", "2024-03-20", 30, "referral"),
        act("a4", "p1", "2024-04-02", 30, "referral"),
        act("a5", "p1", "2024-04-09", 30, "referral"),
    ]
    result = evaluate(people, acts, [contract], coverage)
    assert [units_of(result, f"a{i}") for i in range(1, 6)] == [2, 2, 0, 2, 2]
    assert "cap.units_per_episode" in lines_for(result, "a3").iloc[0]["reasons"]


def test_dollar_limit_per_authorization_span(tcm_member: Any) -> None:
    people = [{"participant_id": "p1"}]
    coverage = [
        span("p1", "medi_cal", "2024-01-01", payer="mcp_a"),
        span("p1", "community_supports", "2024-01-01", "2024-06-30", payer="mcp_a"),
        span("p1", "community_supports", "2024-07-01", "2024-12-31", payer="mcp_a"),
    ]
    cs = {
        "id": "cs",
        "payer": "MCP A",
        "program": "community_supports",
        "payment": "cost_reimbursement",
        "priority": 5,
        "caps": {"amount_per_episode": {"limit": 500, "program": "community_supports"}},
    }
    acts = [
        act("a1", "p1", "2024-02-01", 0, "medically_tailored_meals", amount=300),
        act("a2", "p1", "2024-03-01", 0, "medically_tailored_meals", amount=300),
        act("a3", "p1", "2024-08-01", 0, "medically_tailored_meals", amount=300),
    ]
    result = evaluate(people, acts, [cs], coverage)
    paid = [
        float(lines_for(result, a).query("status == 'billable'")["amount"].sum())
        for a in ("a1", "a2", "a3")
    ]
    assert paid == [300.0, 200.0, 300.0]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 400), st.integers(0, 5)),
        min_size=1,
        max_size=60,
    ),
    st.integers(1, 6),
    st.integers(1, 10),
)
def test_no_rolling_window_ever_holds_more_than_its_limit(
    rows: list[tuple[int, int, int]],
    months: int,
    limit: int,
) -> None:
    ordered = sorted(rows, key=lambda r: (r[1], r[0]))  # service order: day, participant
    participant = np.array([r[0] for r in ordered])
    day = np.array([19_700 + r[1] for r in ordered])
    asked = np.array([float(r[2]) for r in ordered])
    allowed = rolling_cap(asked, participant, day, months, float(limit))
    assert ((allowed >= 0) & (allowed <= asked)).all()
    for i in range(len(ordered)):
        window = (
            (participant == participant[i])
            & (day > shift_months(day[i : i + 1], -months)[0])
            & (day <= day[i])
        )
        assert allowed[window].sum() <= limit + 1e-9
    # Greedy in service order: a row is cut only when its window is full.
    for i in range(len(ordered)):
        if allowed[i] < asked[i]:
            window = (
                (participant == participant[i])
                & (day > shift_months(day[i : i + 1], -months)[0])
                & (np.arange(len(day)) <= i)
            )
            assert abs(allowed[window].sum() - limit) < 1e-9

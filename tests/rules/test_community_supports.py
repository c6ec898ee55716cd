"""Community Supports: (code, modifier) identification and per-service limits."""

from typing import Any

from conftest import act, evaluate, lines_for, span

CS = {
    "id": "cs",
    "payer": "MCP A",
    "program": "community_supports",
    "payment": "cost_reimbursement",
    "priority": 5,
}
PERSON = [{"participant_id": "p1"}]
COVERAGE = [
    span("p1", "medi_cal", "2020-01-01", payer="mcp_a"),
    span("p1", "community_supports", "2020-01-01", payer="mcp_a"),
]


def run(
    acts: list[dict[str, Any]],
    contract: dict[str, Any] = CS,
    coverage: list[dict[str, Any]] = COVERAGE,
) -> Any:
    return evaluate(PERSON, acts, [contract], coverage)


def test_same_code_means_different_services_under_different_modifiers() -> None:
    acts = [
        act(
            "a1",
            "p1",
            "2024-03-01",
            0,
            "administrative",
            procedure_code="H0044",
            modifiers="U3",
            amount=900,
        ),
        act(
            "a2",
            "p1",
            "2024-03-02",
            0,
            "administrative",
            procedure_code="H0044",
            modifiers="GQ;U2",
            amount=1500,
        ),
    ]
    result = run(acts, {**CS, "parameters": {"deposit_requires_navigation": False}})
    assert lines_for(result, "a1").iloc[0]["status"] == "billable"  # post-hospitalization
    assert lines_for(result, "a2").iloc[0]["status"] == "billable"  # deposit, U2 in slot 2
    code_only = [
        act("a3", "p1", "2024-03-03", 0, "administrative", procedure_code="H0044", amount=100)
    ]
    assert "cs.offered_service" in lines_for(run(code_only), "a3").iloc[0]["reasons"]


def test_housing_deposit_once_per_lifetime_and_twice_with_documentation() -> None:
    acts = [
        act("n1", "p1", "2024-01-05", 30, "housing_navigation", amount=0),
        act("a1", "p1", "2024-03-01", 0, "housing_deposit", amount=1500),
        act("a2", "p1", "2024-09-01", 0, "housing_deposit", amount=1500),
    ]
    once = run(acts)
    assert lines_for(once, "a1").iloc[0]["status"] == "billable"
    assert "cs.housing_deposit_lifetime" in lines_for(once, "a2").iloc[0]["reasons"]
    twice = run(acts, {**CS, "parameters": {"housing_deposits_per_lifetime": 2}})
    assert lines_for(twice, "a2").iloc[0]["status"] == "billable"


def test_nursing_facility_transition_needs_60_days_in_the_facility() -> None:
    def after_stay(days: int) -> str:
        end = {59: "2024-02-28", 60: "2024-02-29"}[days]
        coverage = [*COVERAGE, span("p1", "nursing_facility", "2024-01-01", end)]
        result = run(
            [act("a1", "p1", "2024-03-05", 60, "alf_transition", amount=2000)], coverage=coverage
        )
        return str(lines_for(result, "a1").iloc[0]["status"])

    assert after_stay(60) == "billable"
    assert after_stay(59) == "unbillable"


def test_transitional_rent_exists_only_from_july_2025() -> None:
    acts = [
        act("a1", "p1", "2025-06-30", 0, "transitional_rent", amount=1200),
        act("a2", "p1", "2025-07-01", 0, "transitional_rent", amount=1200),
    ]
    result = run(acts)
    assert "cs.offered_service" in lines_for(result, "a1").iloc[0]["reasons"]
    assert lines_for(result, "a2").iloc[0]["status"] == "billable"
    assert lines_for(result, "a2").iloc[0]["procedure_code"] == "H0044"


def test_payer_specific_meal_limits_apply_only_when_the_contract_sets_them() -> None:
    acts = [act("m1", "p1", "2024-03-01", 0, "medically_tailored_meals", quantity=3, amount=30)]
    assert lines_for(run(acts), "m1").iloc[0]["status"] == "billable"
    limited = {**CS, "parameters": {"meals_per_day": 2}}
    assert "cs.meals_per_day" in lines_for(run(acts, limited), "m1").iloc[0]["reasons"]


def test_unverified_respite_limit_is_off_until_enabled() -> None:
    acts = [
        act(f"r{i:02d}", "p1", f"2024-03-{i:02d}", 720, "respite", amount=100) for i in range(1, 30)
    ]
    assert set(run(acts).lines["status"]) == {"billable"}
    on = {**CS, "parameters": {"enable_unverified": ["respite_hours_per_year"]}}
    result = run(acts, on)
    # 336 hours = 28 twelve-hour days exactly: the 29th day goes over the limit.
    assert lines_for(result, "r28").iloc[0]["status"] == "billable"
    assert "cs.respite_hours_per_year" in lines_for(result, "r29").iloc[0]["reasons"]


def test_not_authorized_is_unbillable() -> None:
    result = run(
        [act("a1", "p1", "2024-03-01", 0, "housing_deposit", amount=100)], coverage=COVERAGE[:1]
    )
    assert "cs.authorized" in lines_for(result, "a1").iloc[0]["reasons"]


COVERAGE_2026 = [
    span("p1", "medi_cal", "2024-01-01", payer="mcp_a"),
    span("p1", "community_supports", "2024-01-01", payer="mcp_a"),
]


def coded(
    code: str, modifiers: str, activity: str = "medically_tailored_meals", date: str = "2026-02-02"
) -> Any:
    acts = [act("a1", "p1", date, 0, activity, procedure_code=code, modifiers=modifiers, amount=80)]
    return lines_for(run(acts, coverage=COVERAGE_2026), "a1").iloc[0]


def test_v1_3_pairs_are_known_from_january_2026() -> None:
    # DHCS coding guidance v1.3 (January 2026) additions, issue 12 finding 7.
    for code, modifiers, activity in [
        ("S9977", "U7", "medically_tailored_meals"),
        ("S9977", "U4", "medically_tailored_meals"),
        ("S9452", "U6", "medically_tailored_meals"),
        ("H0044", "U5", "community_transition"),
        ("T1016", "U8", "housing_navigation"),
    ]:
        line = coded(code, modifiers, activity)
        assert line["status"] == "billable", (code, modifiers, line["reasons"])
        assert (line["procedure_code"], line["modifiers"]) == (code, modifiers)


def test_a_v1_3_pair_before_the_guidance_lists_it_is_not_in_the_guidance() -> None:
    line = coded("S9977", "U7", date="2025-09-02")
    assert line["status"] == "unbillable"
    assert "cs.code_in_guidance" in line["reasons"]


def test_unknown_pair_does_not_override_the_activity_and_says_why() -> None:
    # Regression (issue 12, finding 7): H0044-U9 replaced the activity's service with none,
    # and the line said the plan does not offer it.
    line = coded("H0044", "U9", activity="medically_tailored_meals")
    reasons = line["reasons"].split(";")
    assert line["status"] == "unbillable"
    assert "cs.code_in_guidance" in reasons and "cs.offered_service" not in reasons


def test_a_code_table_change_does_not_reach_back_before_its_date() -> None:
    # Regression: community_support() read the code table implicitly, and the rule was
    # evaluated with the table's latest value, so a Transitional Rent pair (H0040-U1, from
    # 2025-07-01) recorded in 2024 was recognized.
    acts = [
        act(
            "a1",
            "p1",
            "2024-05-01",
            0,
            "transitional_rent",
            procedure_code="H0040",
            modifiers="U1",
            amount=900,
        ),
        act(
            "a2",
            "p1",
            "2025-08-01",
            0,
            "transitional_rent",
            procedure_code="H0040",
            modifiers="U1",
            amount=900,
        ),
    ]
    result = run(acts, coverage=COVERAGE_2026)
    early = lines_for(result, "a1").iloc[0]
    assert early["status"] == "unbillable" and "cs.code_in_guidance" in early["reasons"]
    assert lines_for(result, "a2").iloc[0]["status"] == "billable"


def test_a_recorded_pair_is_read_slot_by_slot_first_listed_slot_first() -> None:
    from casefund.facts.scope import pair_service

    table = {"H0044-U2": "housing_deposits", "H0044-U3": "post_hospitalization_housing"}
    assert pair_service(" h0044 ", "u3", table) == "post_hospitalization_housing"
    assert pair_service("H0044", "GT;U2,U3", table) == "housing_deposits"  # first listed slot
    assert pair_service("H0044", "GT U3", table) == "post_hospitalization_housing"
    assert pair_service("H0044", "", table) is None  # the code alone is never a service
    assert pair_service("H0044", "U1;U4", table) is None
    # Five slots; what follows the fifth separator stays in the fifth slot.
    assert pair_service("H0044", "A;B;C;D;U2", table) == "housing_deposits"
    assert pair_service("H0044", "A;B;C;D;E;U2", table) is None

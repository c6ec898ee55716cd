"""Community Supports: (code, modifier) identification and per-service limits."""

from typing import Any

from conftest import act, evaluate, lines_for, span

CS = {"id": "cs", "payer": "MCP A", "program": "community_supports",
      "payment": "cost_reimbursement", "priority": 5}
PERSON = [{"participant_id": "p1"}]
COVERAGE = [span("p1", "medi_cal", "2020-01-01", payer="mcp_a"),
            span("p1", "community_supports", "2020-01-01", payer="mcp_a")]


def run(acts: list[dict[str, Any]], contract: dict[str, Any] = CS,
        coverage: list[dict[str, Any]] = COVERAGE) -> Any:
    return evaluate(PERSON, acts, [contract], coverage)


def test_same_code_means_different_services_under_different_modifiers() -> None:
    acts = [act("a1", "p1", "2024-03-01", 0, "administrative", procedure_code="H0044",
                modifiers="U3", amount=900),
            act("a2", "p1", "2024-03-02", 0, "administrative", procedure_code="H0044",
                modifiers="GQ;U2", amount=1500)]
    result = run(acts, {**CS, "parameters": {"deposit_requires_navigation": False}})
    assert lines_for(result, "a1").iloc[0]["status"] == "billable"  # post-hospitalization
    assert lines_for(result, "a2").iloc[0]["status"] == "billable"  # deposit, U2 in slot 2
    code_only = [act("a3", "p1", "2024-03-03", 0, "administrative", procedure_code="H0044",
                     amount=100)]
    assert "cs.offered_service" in lines_for(run(code_only), "a3").iloc[0]["reasons"]


def test_housing_deposit_once_per_lifetime_and_twice_with_documentation() -> None:
    acts = [act("n1", "p1", "2024-01-05", 30, "housing_navigation", amount=0),
            act("a1", "p1", "2024-03-01", 0, "housing_deposit", amount=1500),
            act("a2", "p1", "2024-09-01", 0, "housing_deposit", amount=1500)]
    once = run(acts)
    assert lines_for(once, "a1").iloc[0]["status"] == "billable"
    assert "cs.housing_deposit_lifetime" in lines_for(once, "a2").iloc[0]["reasons"]
    twice = run(acts, {**CS, "parameters": {"housing_deposits_per_lifetime": 2}})
    assert lines_for(twice, "a2").iloc[0]["status"] == "billable"


def test_nursing_facility_transition_needs_60_days_in_the_facility() -> None:
    def after_stay(days: int) -> str:
        end = {59: "2024-02-28", 60: "2024-02-29"}[days]
        coverage = [*COVERAGE, span("p1", "nursing_facility", "2024-01-01", end)]
        result = run([act("a1", "p1", "2024-03-05", 60, "alf_transition", amount=2000)],
                     coverage=coverage)
        return str(lines_for(result, "a1").iloc[0]["status"])
    assert after_stay(60) == "billable"
    assert after_stay(59) == "unbillable"


def test_transitional_rent_exists_only_from_july_2025() -> None:
    acts = [act("a1", "p1", "2025-06-30", 0, "transitional_rent", amount=1200),
            act("a2", "p1", "2025-07-01", 0, "transitional_rent", amount=1200)]
    result = run(acts)
    assert "cs.offered_service" in lines_for(result, "a1").iloc[0]["reasons"]
    assert lines_for(result, "a2").iloc[0]["status"] == "billable"
    assert lines_for(result, "a2").iloc[0]["procedure_code"] == "H0044"


def test_payer_specific_meal_limits_apply_only_when_the_contract_sets_them() -> None:
    acts = [act("m1", "p1", "2024-03-01", 0, "medically_tailored_meals", quantity=3,
                amount=30)]
    assert lines_for(run(acts), "m1").iloc[0]["status"] == "billable"
    limited = {**CS, "parameters": {"meals_per_day": 2}}
    assert "cs.meals_per_day" in lines_for(run(acts, limited), "m1").iloc[0]["reasons"]


def test_unverified_respite_limit_is_off_until_enabled() -> None:
    acts = [act(f"r{i:02d}", "p1", f"2024-03-{i:02d}", 720, "respite", amount=100)
            for i in range(1, 30)]
    assert set(run(acts).lines["status"]) == {"billable"}
    on = {**CS, "parameters": {"enable_unverified": ["respite_hours_per_year"]}}
    result = run(acts, on)
    # 336 hours = 28 twelve-hour days exactly: the 29th day goes over the limit.
    assert lines_for(result, "r28").iloc[0]["status"] == "billable"
    assert "cs.respite_hours_per_year" in lines_for(result, "r29").iloc[0]["reasons"]


def test_not_authorized_is_unbillable() -> None:
    result = run([act("a1", "p1", "2024-03-01", 0, "housing_deposit", amount=100)],
                 coverage=COVERAGE[:1])
    assert "cs.authorized" in lines_for(result, "a1").iloc[0]["reasons"]

"""Medicaid targeted case management (42 U.S.C. 1396n(g)), one case per rule."""

from typing import Any

import pytest

from conftest import TCM_CONTRACT, act, evaluate, lines_for, span

Member = tuple[list[dict[str, Any]], list[dict[str, Any]]]


@pytest.mark.parametrize("component", ["assessment", "care_plan", "referral", "monitoring"])
def test_the_four_components_are_billable(tcm_member: Member, component: str) -> None:
    people, coverage = tcm_member
    result = evaluate(
        people, [act("a1", "p1", "2024-03-04", 30, component)], [TCM_CONTRACT], coverage
    )
    line = lines_for(result, "a1").iloc[0]
    assert (line["status"], line["units"], line["amount"]) == ("billable", 2, 60.0)
    assert line["procedure_code"] == "T1017"


@pytest.mark.parametrize(
    ("activity", "rule"),
    [
        ("transportation", "tcm.transportation_not_covered"),
        ("accompaniment", "tcm.accompaniment_not_covered"),
        ("resource_search", "tcm.resource_search_not_covered"),
        ("travel", "tcm.travel_not_billable"),
        ("direct_medical", "tcm.direct_service_not_covered"),
    ],
)
def test_excluded_activities_are_unbillable_with_their_rule(
    tcm_member: Member, activity: str, rule: str
) -> None:
    people, coverage = tcm_member
    result = evaluate(
        people, [act("a1", "p1", "2024-03-04", 45, activity)], [TCM_CONTRACT], coverage
    )
    line = lines_for(result, "a1").iloc[0]
    assert line["status"] == "unbillable"
    assert rule in line["reasons"].split(";")
    assert line["minutes"] == 45
    assert line["primary_reason"] == rule and line["primary_contract_id"] == "county_tcm"
    citation = result.reasons.set_index("rule_id").loc[rule, "citation"]
    assert "1396n" in citation or "CMS" in citation or "Community" in citation


def test_contact_for_another_persons_own_needs_is_not_billable(tcm_member: Member) -> None:
    people, coverage = tcm_member
    acts = [
        act("a1", "p1", "2024-03-04", 30, "referral", collateral_purpose="participant_care"),
        act("a2", "p1", "2024-03-05", 30, "referral", collateral_purpose="other_person_needs"),
    ]
    result = evaluate(people, acts, [TCM_CONTRACT], coverage)
    assert lines_for(result, "a1").iloc[0]["status"] == "billable"
    assert "tcm.collateral_for_participant" in lines_for(result, "a2").iloc[0]["reasons"]


def test_other_insurance_denies_by_default_and_warns_when_contract_says(
    tcm_member: Member,
) -> None:
    people, coverage = tcm_member
    coverage = [*coverage, span("p1", "other_insurance", "2024-01-01")]
    acts = [act("a1", "p1", "2024-03-04", 30, "referral")]
    denied = evaluate(people, acts, [TCM_CONTRACT], coverage)
    assert "tcm.third_party_liable" in lines_for(denied, "a1").iloc[0]["reasons"]
    warn = {**TCM_CONTRACT, "parameters": {"third_party_decision": "warn"}}
    warned = lines_for(evaluate(people, acts, [warn], coverage), "a1").iloc[0]
    assert warned["status"] == "billable" and "tcm.third_party_liable" in warned["reasons"]


def test_service_day_after_target_group_ends_is_unbillable(tcm_member: Member) -> None:
    people, coverage = tcm_member
    acts = [
        act("a1", "p1", "2024-12-31", 30, "referral"),
        act("a2", "p1", "2025-01-01", 30, "referral"),
    ]
    result = evaluate(people, acts, [TCM_CONTRACT], coverage)
    assert lines_for(result, "a1").iloc[0]["status"] == "billable"
    assert "tcm.in_target_group" in lines_for(result, "a2").iloc[0]["reasons"]


def test_not_on_medicaid_is_unbillable(tcm_member: Member) -> None:
    people, _ = tcm_member
    coverage = [span("p1", "tcm", "2024-01-01", payer="county_bh")]
    result = evaluate(
        people, [act("a1", "p1", "2024-03-04", 30, "referral")], [TCM_CONTRACT], coverage
    )
    assert "tcm.enrolled_in_medicaid" in lines_for(result, "a1").iloc[0]["reasons"]


def test_same_day_minutes_are_pooled_under_the_8_minute_rule(tcm_member: Member) -> None:
    people, coverage = tcm_member
    acts = [
        act("a1", "p1", "2024-03-04", 33, "referral"),
        act("a2", "p1", "2024-03-04", 7, "monitoring"),
    ]
    result = evaluate(people, acts, [TCM_CONTRACT], coverage)
    assert lines_for(result, "a1").iloc[0]["units"] == 2
    assert lines_for(result, "a2").iloc[0]["units"] == 1


def test_a_lone_seven_minute_call_earns_nothing(tcm_member: Member) -> None:
    people, coverage = tcm_member
    result = evaluate(
        people,
        [act("a1", "p1", "2024-03-04", 7, "monitoring", mode="phone")],
        [TCM_CONTRACT],
        coverage,
    )
    line = lines_for(result, "a1").iloc[0]
    assert line["status"] == "unbillable" and "units.below_minimum" in line["reasons"]

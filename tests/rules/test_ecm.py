"""CalAIM ECM populations of focus, exclusions and billing — at, under and over each line."""

from typing import Any

import pandas as pd
import pytest

import casefund

from conftest import act, evaluate, lines_for, span

ADULT = {"participant_id": "p1", "birth_date": "1980-06-15", "county": "Los Angeles"}
CHILD = {"participant_id": "p1", "birth_date": "2010-06-15", "county": "Los Angeles"}
MEDI_CAL = [span("p1", "medi_cal", "2020-01-01", payer="mcp_a")]


def populations(
    person: dict[str, Any],
    as_of: str,
    events: list[dict[str, Any]] | None = None,
    coverage: list[dict[str, Any]] | None = None,
    **kw: Any,
) -> dict[str, bool]:
    tables: dict[str, Any] = {
        "participants": pd.DataFrame([person]),
        "coverage": pd.DataFrame(coverage if coverage is not None else MEDI_CAL),
    }
    if events:
        tables["events"] = pd.DataFrame(events)
    frame = casefund.eligibility(tables, as_of=as_of, **kw)
    ecm = frame.loc[frame["program"] == "ecm"]
    return dict(zip(ecm["population"], ecm["eligible"], strict=True))


def visits(kind: str, *dates: str, **flags: Any) -> list[dict[str, Any]]:
    return [{"participant_id": "p1", "date": d, "event": kind, **flags} for d in dates]


ED_5 = ("2024-01-10", "2024-02-10", "2024-03-10", "2024-04-10", "2024-05-10")


def test_adult_with_5_ed_visits_in_6_months_is_a_high_utilizer() -> None:
    assert populations(ADULT, "2024-06-30", visits("ed_visit", *ED_5))["avoidable_utilization"]


def test_adult_with_4_ed_visits_is_not() -> None:
    assert not populations(ADULT, "2024-06-30", visits("ed_visit", *ED_5[1:]))[
        "avoidable_utilization"
    ]


def test_a_visit_exactly_six_months_before_does_not_count() -> None:
    dates = ("2023-12-30", *ED_5[1:])
    assert not populations(ADULT, "2024-06-30", visits("ed_visit", *dates))["avoidable_utilization"]
    dates = ("2023-12-31", *ED_5[1:])
    assert populations(ADULT, "2024-06-30", visits("ed_visit", *dates))["avoidable_utilization"]


def test_ed_visits_and_stays_are_never_added_together() -> None:
    events = visits("ed_visit", *ED_5[:4]) + visits("inpatient_stay", "2024-02-01", "2024-03-01")
    assert not populations(ADULT, "2024-06-30", events)["avoidable_utilization"]


def test_three_unplanned_stays_qualify_but_planned_ones_do_not() -> None:
    stays = visits("inpatient_stay", "2024-02-01", "2024-03-01") + visits("snf_stay", "2024-04-01")
    assert populations(ADULT, "2024-06-30", stays)["avoidable_utilization"]
    planned = visits("inpatient_stay", "2024-02-01", "2024-03-01") + visits(
        "snf_stay", "2024-04-01", planned="yes"
    )
    assert not populations(ADULT, "2024-06-30", planned)["avoidable_utilization"]


def test_child_threshold_is_3_ed_visits_in_12_months() -> None:
    events = visits("ed_visit", "2023-08-01", "2024-01-01", "2024-05-01")
    assert populations(CHILD, "2024-06-30", events)["avoidable_utilization"]
    assert not populations(CHILD, "2024-06-30", events[1:])["avoidable_utilization"]


def test_age_21_on_the_as_of_day_switches_to_adult_thresholds() -> None:
    turning = {**ADULT, "birth_date": "2003-06-30"}
    events = visits("ed_visit", "2024-01-10", "2024-03-10", "2024-05-10")
    assert populations(turning, "2024-06-29", events)["avoidable_utilization"]
    assert not populations(turning, "2024-06-30", events)["avoidable_utilization"]


def test_homeless_adult_needs_a_complex_need() -> None:
    person = {**ADULT, "homeless": "yes"}
    assert not populations(person, "2024-06-30")["homelessness"]
    assert populations({**person, "complex_need": "yes"}, "2024-06-30")["homelessness"]


def test_losing_housing_within_30_days_counts_but_31_does_not() -> None:
    person = {**ADULT, "complex_need": "yes", "homeless": "no"}
    assert populations({**person, "housing_loss_date": "2024-07-30"}, "2024-06-30")["homelessness"]
    assert not populations({**person, "housing_loss_date": "2024-07-31"}, "2024-06-30")[
        "homelessness"
    ]


def test_couch_surfing_child_is_homeless() -> None:
    assert populations({**CHILD, "couch_surfing": "yes"}, "2024-06-30")["homelessness"]


def test_adult_populations_start_at_the_countys_go_live() -> None:
    person = {**ADULT, "homeless": "yes", "complex_need": "yes", "county": "Fresno"}
    assert not populations(person, "2022-03-31")["homelessness"]
    assert populations(person, "2022-07-01")["homelessness"]
    assert populations({**person, "county": "Los Angeles"}, "2022-03-31")["homelessness"]


def test_children_populations_are_not_tested_before_july_2023() -> None:
    assert "ccs" not in populations(CHILD, "2023-06-30")
    assert "ccs" in populations(CHILD, "2023-07-01")


SMH = {**ADULT, "smhs_criteria_met": "yes", "lacks_food": "yes"}


def test_adult_smh_sud_needs_all_three_parts() -> None:
    assert not populations(SMH, "2024-06-30")["smh_sud"]
    assert populations({**SMH, "high_risk_overdose": "yes"}, "2024-06-30")["smh_sud"]
    assert not populations({**SMH, "high_risk_overdose": "yes", "lacks_food": "no"}, "2024-06-30")[
        "smh_sud"
    ]


def test_smh_sud_part_three_by_two_bh_ed_visits_in_12_months() -> None:
    events = visits("ed_visit", "2023-09-01", "2024-03-01", bh_related="yes")
    assert populations(SMH, "2024-06-30", events)["smh_sud"]
    assert not populations(SMH, "2024-06-30", events[:1])["smh_sud"]


def test_birth_equity_from_2024_for_black_aian_pi_pregnant_or_postpartum() -> None:
    person = {**ADULT, "race": "black", "pregnant": "yes"}
    assert "birth_equity" not in populations(person, "2023-12-31")
    assert populations(person, "2023-12-31")["pregnant_postpartum"]
    after = populations(person, "2024-01-01")
    assert after["birth_equity"] and "pregnant_postpartum" not in after
    assert not populations({**person, "race": "white"}, "2024-01-01")["birth_equity"]


def test_postpartum_is_twelve_months_from_delivery() -> None:
    person = {**ADULT, "race": "pacific_islander"}
    delivered = visits("delivery", "2023-07-01")
    assert populations(person, "2024-06-30", delivered)["birth_equity"]
    assert not populations(person, "2024-07-01", delivered)["birth_equity"]


def test_former_foster_youth_eligible_until_26() -> None:
    young = {**ADULT, "birth_date": "1998-07-01", "former_foster_youth": "yes"}
    assert populations(young, "2024-06-30")["child_welfare"]
    assert not populations(young, "2024-07-01")["child_welfare"]


def test_hospice_makes_every_population_ineligible() -> None:
    person = {**ADULT, "homeless": "yes", "complex_need": "yes"}
    coverage = [*MEDI_CAL, span("p1", "hospice", "2024-06-01")]
    result = populations(person, "2024-06-30", coverage=coverage)
    assert not any(result.values())


def test_no_medi_cal_plan_no_ecm() -> None:
    person = {**ADULT, "homeless": "yes", "complex_need": "yes"}
    assert not populations(person, "2024-06-30", coverage=[])["homelessness"]


def test_incarceration_population_is_off_until_its_unverified_window_is_enabled() -> None:
    person = {**ADULT, "sud": "yes"}
    released = visits("incarceration_release", "2024-03-01")
    assert populations(person, "2024-06-30", released)["incarceration_transition"] is False
    enabled = populations(
        person, "2024-06-30", released, enable_unverified=["incarceration_lookback_months"]
    )
    assert enabled["incarceration_transition"]


def test_facts_after_the_as_of_day_are_never_read() -> None:
    before = populations(ADULT, "2024-06-30", visits("ed_visit", *ED_5[1:]))
    later = populations(ADULT, "2024-06-30", visits("ed_visit", *ED_5[1:], "2024-07-01"))
    assert before == later


PLAN_A = {
    "id": "ecm_a",
    "payer": "MCP A",
    "program": "ecm",
    "payment": "pempm",
    "rate": 450.0,
    "priority": 10,
}
PLAN_B = {
    "id": "ecm_b",
    "payer": "MCP B",
    "program": "ecm",
    "payment": "ffs_unit",
    "rate": 25.0,
    "unit_minutes": 15,
    "rounding": "whole_units",
    "priority": 11,
}


def test_no_ecm_line_in_a_month_the_member_is_not_eligible() -> None:
    person = {**ADULT, "homeless": "yes", "complex_need": "yes"}
    coverage = [
        *MEDI_CAL,
        span("p1", "ecm", "2023-01-01", payer="mcp_a"),
        span("p1", "hospice", "2024-04-10", "2024-04-20"),
    ]
    acts = [
        act("a1", "p1", "2024-03-04", 30, "care_coordination"),
        act("a2", "p1", "2024-04-25", 30, "care_coordination"),
    ]
    result = evaluate([person], acts, [PLAN_A], coverage)
    assert lines_for(result, "a1").iloc[0]["status"] == "billable"
    assert "ecm.excluded.hospice" in lines_for(result, "a2").iloc[0]["reasons"]
    eligible = result.eligibility.query("program == 'ecm' and population == 'homelessness'")
    by_month = eligible.set_index(eligible["month"].astype(str))["eligible"].to_dict()
    assert by_month == {"2024-03": True, "2024-04": False}


def test_one_lead_care_manager_per_member_month() -> None:
    person = {**ADULT, "homeless": "yes", "complex_need": "yes"}
    coverage = [span("p1", "medi_cal", "2020-01-01"), span("p1", "ecm", "2023-01-01")]
    acts = [
        act("a1", "p1", "2024-03-04", 30, "care_coordination"),
        act("a2", "p1", "2024-03-04", 30, "transportation"),
    ]
    result = evaluate([person], acts, [PLAN_A, PLAN_B], coverage)
    assert set(result.lines.query("status != 'unbillable'")["contract_id"]) == {"ecm_a"}


@pytest.mark.parametrize(
    ("role", "mode", "activity", "code"),
    [
        ("non_clinical", "in_person", "care_coordination", ("G9012", "U2")),
        ("non_clinical", "phone", "care_coordination", ("G9012", "U2;GQ")),
        ("peer", "in_person", "outreach", ("G9012", "U8")),
        ("peer", "video", "outreach", ("G9012", "U8;GQ")),
        ("clinical", "in_person", "assessment", ("G9012", "U2")),
    ],
)
def test_ecm_coding_by_role_mode_and_outreach(
    role: str, mode: str, activity: str, code: tuple[str, str]
) -> None:
    person = {**ADULT, "homeless": "yes", "complex_need": "yes"}
    coverage = [*MEDI_CAL, span("p1", "ecm", "2023-01-01", payer="mcp_b")]
    plan_b = {**PLAN_B, "payer_id": "mcp_a"}
    coverage[1]["payer"] = "mcp_a"
    result = evaluate(
        [person],
        [act("a1", "p1", "2024-03-04", 30, activity, mode=mode, staff_role=role)],
        [plan_b],
        coverage,
    )
    line = lines_for(result, "a1").iloc[0]
    assert (line["procedure_code"], line["modifiers"]) == code


def test_outreach_cap_applies_only_when_the_contract_sets_it() -> None:
    person = {**ADULT, "homeless": "yes", "complex_need": "yes"}
    coverage = [*MEDI_CAL, span("p1", "ecm", "2023-01-01", payer="mcp_a")]
    plan = {
        **PLAN_B,
        "payer_id": "mcp_a",
        "parameters": {"outreach_attempt_cap": 2, "outreach_window_days": 90},
    }
    acts = [act(f"a{i}", "p1", f"2024-03-0{i}", 20, "outreach") for i in range(1, 5)]
    capped = evaluate([person], acts, [plan], coverage)
    statuses = capped.lines.set_index("activity_id")["status"].to_dict()
    assert statuses == {"a1": "billable", "a2": "billable", "a3": "unbillable", "a4": "unbillable"}
    open_ended = evaluate([person], acts, [{**PLAN_B, "payer_id": "mcp_a"}], coverage)
    assert set(open_ended.lines["status"]) == {"billable"}


def test_chw_services_only_warn_unless_the_contract_confirms_the_exclusion() -> None:
    # Regression (issue 12, finding 8): ecm.excluded.chw denied ECM by default although its
    # source was never read; unverified rules are off until a contract enables them.
    person = {
        "participant_id": "p1",
        "birth_date": "1980-01-01",
        "county": "Los Angeles",
        "homeless": "yes",
        "complex_need": "yes",
    }
    coverage = [
        span("p1", "medi_cal", "2024-01-01", payer="mcp_a"),
        span("p1", "ecm", "2024-01-01", payer="mcp_a"),
        span("p1", "chw", "2024-01-01"),
    ]
    plan = {"id": "ecm", "payer": "MCP A", "program": "ecm", "payment": "pempm", "rate": 450.0}
    acts = [act("a1", "p1", "2024-03-04", 30, "care_coordination")]
    warned = lines_for(evaluate([person], acts, [plan], coverage), "a1").iloc[0]
    assert warned["status"] == "billable" and "ecm.excluded.chw" in warned["reasons"]
    strict = {**plan, "parameters": {"chw_overlap_decision": "deny"}}
    denied = lines_for(evaluate([person], acts, [strict], coverage), "a1").iloc[0]
    assert denied["status"] == "unbillable" and "ecm.excluded.chw" in denied["reasons"]
    enabled = {**plan, "parameters": {"enable_unverified": ["chw_overlap_decision"]}}
    denied = lines_for(evaluate([person], acts, [enabled], coverage), "a1").iloc[0]
    assert denied["status"] == "unbillable"

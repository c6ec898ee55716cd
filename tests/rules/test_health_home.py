"""Medicaid Health Homes (SSA §1945, §1945A): eligibility, monthly gate, federal share."""

import datetime as dt
from typing import Any

import numpy as np
import pytest

from casefund.payers.fmap import enhanced_quarters, health_home_fmap
from casefund.rules.book import rule_book

from conftest import act, evaluate, lines_for, span

HH = {
    "id": "hh",
    "payer": "State HH",
    "payer_id": "state_hh",
    "program": "health_home",
    "payment": "monthly_case_rate",
    "rate": 98.0,
    "min_services_per_month": 2,
    "priority": 15,
    "parameters": {"regular_fmap": 0.5, "spa_effective": "2022-10-01"},
}
PERSON = {"participant_id": "p1", "chronic_condition_count": 2}
COVERAGE = [
    span("p1", "medi_cal", "2020-01-01"),
    span("p1", "health_home", "2020-01-01", payer="state_hh"),
]


def month(
    acts: list[dict[str, Any]],
    person: dict[str, Any] = PERSON,
    coverage: list[dict[str, Any]] = COVERAGE,
) -> Any:
    return evaluate([person], acts, [HH], coverage)


def test_two_services_in_a_month_earn_one_payment() -> None:
    result = month(
        [
            act("a1", "p1", "2024-03-01", 20, "care_coordination"),
            act("a2", "p1", "2024-03-15", 20, "health_promotion"),
            act("a3", "p1", "2024-03-20", 20, "referral"),
        ]
    )
    assert result.lines["status"].tolist() == ["billable", "bundled", "bundled"]
    assert result.lines["amount"].sum() == 98.0


def test_one_service_is_not_enough_in_maryland() -> None:
    result = month([act("a1", "p1", "2024-03-01", 20, "care_coordination")])
    assert "payment.month_not_engaged" in lines_for(result, "a1").iloc[0]["reasons"]


@pytest.mark.parametrize(
    ("person", "eligible"),
    [
        ({"chronic_condition_count": 2}, True),
        ({"chronic_condition_count": 1}, False),
        ({"chronic_condition_count": 1, "at_risk_second_chronic_condition": "yes"}, True),
        ({"chronic_condition_count": 0, "spmi": "yes"}, True),
    ],
)
def test_eligibility_groups(person: dict[str, Any], eligible: bool) -> None:
    acts = [
        act("a1", "p1", "2024-03-01", 20, "care_coordination"),
        act("a2", "p1", "2024-03-02", 20, "care_plan"),
    ]
    result = month(acts, {"participant_id": "p1", **person})
    assert (lines_for(result, "a1").iloc[0]["status"] == "billable") is eligible


def test_comparable_ecm_service_blocks_the_health_home() -> None:
    coverage = [*COVERAGE, span("p1", "ecm", "2024-01-01")]
    acts = [
        act("a1", "p1", "2024-03-01", 20, "care_coordination"),
        act("a2", "p1", "2024-03-02", 20, "care_plan"),
    ]
    result = month(acts, coverage=coverage)
    assert "hh.comparable_service" in lines_for(result, "a1").iloc[0]["reasons"]


def test_federal_share_is_90_percent_for_eight_quarters_then_regular() -> None:
    acts = [
        act("a1", "p1", "2024-09-01", 20, "care_coordination"),
        act("a2", "p1", "2024-09-02", 20, "care_plan"),
        act("a3", "p1", "2024-10-01", 20, "care_coordination"),
        act("a4", "p1", "2024-10-02", 20, "care_plan"),
    ]
    result = month(acts)
    paid = result.lines.query("status == 'billable'").set_index("activity_id")
    assert paid.loc["a1", "federal_share"] == pytest.approx(88.2)
    assert paid.loc["a3", "federal_share"] == pytest.approx(49.0)


def days(*isos: str) -> np.ndarray:
    return np.array([(dt.date.fromisoformat(d) - dt.date(1970, 1, 1)).days for d in isos])


def params(**more: Any) -> dict[str, Any]:
    base = rule_book().parameters["health_home"]
    values = {name: base.value(name, dt.date.max) for name in base.parameters}
    return {**values, "regular_fmap": 0.6, "spa_effective": "2019-01-01", **more}


def test_sud_focused_plan_gets_ten_quarters_only_when_asked() -> None:
    asked = params(sud_focused_spa_approved="2018-12-01", sud_extension_requested=True)
    assert enhanced_quarters(asked) == 10
    assert enhanced_quarters(params(sud_focused_spa_approved="2018-12-01")) == 8
    early = params(sud_focused_spa_approved="2018-09-30", sud_extension_requested=True)
    assert enhanced_quarters(early) == 8
    # Quarter 10 ends 2021-06-30 for a plan effective 2019-01-01.
    rates = health_home_fmap(days("2021-06-30", "2021-07-01"), asked)
    assert rates.tolist() == [0.9, 0.6]


def test_children_health_home_adds_15_points_for_2_quarters_never_above_90() -> None:
    kids = params(children_1945a=True, spa_effective="2023-01-01", regular_fmap=0.5)
    assert health_home_fmap(days("2023-06-30", "2023-07-01"), kids).tolist() == [0.65, 0.5]
    rich = params(children_1945a=True, spa_effective="2023-01-01", regular_fmap=0.8)
    assert health_home_fmap(days("2023-01-01"), rich).tolist() == [0.9]


TWO_SERVICES = [
    act("a1", "p1", "2024-03-01", 20, "care_coordination"),
    act("a2", "p1", "2024-03-02", 20, "care_plan"),
]


@pytest.mark.parametrize(
    ("person", "eligible"),
    [
        # §1945(h)(2): "being overweight, as evidenced by having a BMI over 25" is a chronic
        # condition, so BMI over 25 and a substance use disorder are two.
        ({"bmi_over_25": "yes", "sud": "yes"}, True),
        ({"bmi_over_25": "yes"}, False),
        ({"bmi_over_25": "yes", "at_risk_second_chronic_condition": "yes"}, True),
        ({"diabetes": "yes", "asthma": "yes"}, True),
        ({"smi": "yes", "heart_disease": "yes"}, True),
        # The larger of the recorded count and the flags: a flagged condition the count already
        # includes is never counted twice.
        ({"chronic_condition_count": 1, "bmi_over_25": "yes"}, False),
        ({"chronic_condition_count": 2, "bmi_over_25": "yes"}, True),
    ],
)
def test_bmi_over_25_and_the_other_named_conditions_count(
    person: dict[str, Any], eligible: bool
) -> None:
    # Regression (issue 12, finding 5): bmi_over_25 was accepted and ignored.
    result = month(TWO_SERVICES, {"participant_id": "p1", **person})
    assert (lines_for(result, "a1").iloc[0]["status"] == "billable") is eligible


CHILDREN = {
    **HH,
    "id": "kids_hh",
    "parameters": {"regular_fmap": 0.5, "spa_effective": "2024-01-01", "children_1945a": True},
}


def kids(person: dict[str, Any]) -> Any:
    return evaluate([{"participant_id": "p1", **person}], TWO_SERVICES, [CHILDREN], COVERAGE)


def test_a_21_year_old_is_not_billed_to_a_childrens_health_home() -> None:
    # Regression (issue 12, finding 4): §1945A serves children under 21 (1396w-4a(i)(1)); a
    # 21-year-old was billed and earned the enhanced match.
    result = kids({"birth_date": "2003-01-15", "chronic_3_organ_systems": "yes"})
    line = lines_for(result, "a1").iloc[0]
    assert line["status"] == "unbillable" and "eligibility.no_population" in line["reasons"]
    assert result.lines["federal_share"].isna().all()


def test_a_child_with_medically_complex_conditions_is_billed_with_the_1945a_match() -> None:
    result = kids({"birth_date": "2012-05-01", "chronic_3_organ_systems": "yes"})
    paid = lines_for(result, "a1").iloc[0]
    assert (paid["status"], paid["amount"]) == ("billable", 98.0)
    assert paid["federal_share"] == pytest.approx(98.0 * 0.65)  # 50% + 15 points, quarter 1


@pytest.mark.parametrize(
    ("person", "eligible"),
    [
        ({"birth_date": "2012-05-01", "life_limiting_illness": "yes"}, True),
        ({"birth_date": "2012-05-01", "rare_pediatric_disease": "yes"}, True),
        # Two chronic conditions make an adult health home member, not a medically complex child.
        ({"birth_date": "2012-05-01", "chronic_condition_count": 3}, False),
        ({"chronic_3_organ_systems": "yes"}, False),  # age unknown: not shown to be under 21
    ],
)
def test_childrens_health_home_population(person: dict[str, Any], eligible: bool) -> None:
    result = kids(person)
    assert (lines_for(result, "a1").iloc[0]["status"] == "billable") is eligible

"""Rules fail closed outside their rule set's dates, and parameters are read by service date.

Regression tests for issue 12, findings 1 and 2: a Ryan White contract dated 2019 once billed
a 2019 activity for a participant without HIV (no eligibility rule was in force yet, so none
denied), an ECM eligibility run before ECM began reported everyone eligible, and every
parameter was read as of the last day of time, so a dated change rewrote history.
"""

from typing import Any

import casefund

from conftest import TCM_CONTRACT, act, dated_change, evaluate, lines_for, span

RW_2019 = {
    "id": "rw",
    "payer": "Ryan White Part A",
    "payer_id": "rw_a",
    "program": "ryan_white_nmcm",
    "payment": "ffs_unit",
    "rate": 20.0,
    "unit_minutes": 15,
    "priority": 80,
    "effective": {"from": "2019-01-01", "to": "2024-12-31"},
    "parameters": {"income_limit_pct_fpl": 300, "service_areas": ["Houston HSDA"]},
}


def only_line(result: Any, activity_id: str) -> Any:
    lines = lines_for(result, activity_id)
    assert len(lines) == 1
    return lines.iloc[0]


def test_ryan_white_2019_activity_without_hiv_is_not_billed_before_the_rules_start() -> None:
    person = {
        "participant_id": "p1",
        "hiv": "no",
        "income_pct_fpl": 150,
        "service_area": "Houston HSDA",
    }
    coverage = [span("p1", "ryan_white", "2019-01-01", "2019-12-31", payer="rw_a")]
    result = evaluate(
        [person], [act("a1", "p1", "2019-06-03", 60, "referral")], [RW_2019], coverage
    )
    line = only_line(result, "a1")
    assert line["status"] == "unbillable"
    assert line["reasons"].split(";") == ["rw.not_in_force"]


def test_ryan_white_in_2019_is_refused_even_for_an_eligible_client() -> None:
    # PCN 13-02 governed 2019 (six-month recertification); it is not encoded, so the later
    # policy is not applied to it either.
    person = {
        "participant_id": "p1",
        "hiv": "yes",
        "income_pct_fpl": 150,
        "service_area": "Houston HSDA",
    }
    coverage = [
        span("p1", "ryan_white", "2019-01-01", "2019-12-31", payer="rw_a"),
        span("p1", "ryan_white", "2022-01-01", "2022-12-31", payer="rw_a"),
    ]
    acts = [
        act("a1", "p1", "2019-06-03", 60, "referral"),
        act("a2", "p1", "2022-06-03", 60, "referral"),
    ]
    result = evaluate([person], acts, [RW_2019], coverage)
    assert "rw.not_in_force" in only_line(result, "a1")["reasons"]
    assert only_line(result, "a2")["status"] == "billable"


def test_ecm_eligibility_before_ecm_began_reports_nobody_eligible() -> None:
    people = [
        {
            "participant_id": "p1",
            "birth_date": "1970-01-01",
            "county": "Los Angeles",
            "homeless": "yes",
            "complex_need": "yes",
        }
    ]
    tables = {"participants": casefund.evaluation.pd.DataFrame(people)}
    before = casefund.eligibility(tables, as_of="2021-12-31")
    ecm = before.loc[before["program"] == "ecm"]
    assert len(ecm) == 1 and not ecm["eligible"].any()
    assert ecm.iloc[0]["reasons"] == "ecm.not_in_force"
    assert ecm.iloc[0]["population"] == "all"


def test_ecm_contract_after_the_calaim_authority_ends_bills_nothing() -> None:
    people = [
        {
            "participant_id": "p1",
            "birth_date": "1970-01-01",
            "county": "Los Angeles",
            "homeless": "yes",
            "complex_need": "yes",
        }
    ]
    coverage = [
        span("p1", "medi_cal", "2026-01-01", payer="mcp_a"),
        span("p1", "ecm", "2026-01-01", payer="mcp_a"),
    ]
    ecm = {"id": "ecm", "payer": "MCP A", "program": "ecm", "payment": "pempm", "rate": 450.0}
    acts = [
        act("a1", "p1", "2026-12-15", 30, "care_coordination"),
        act("a2", "p1", "2027-01-05", 30, "care_coordination"),
    ]
    result = evaluate(people, acts, [ecm], coverage)
    assert only_line(result, "a1")["status"] == "billable"
    assert only_line(result, "a2")["reasons"].split(";") == ["ecm.not_in_force"]


def test_a_unit_length_and_a_code_that_change_mid_year_leave_earlier_days_alone(
    tcm_member: Any,
) -> None:
    people, coverage = tcm_member
    contract = {
        k: v for k, v in TCM_CONTRACT.items() if k not in ("unit_minutes", "rounding", "aggregate")
    }
    acts = [
        act("a1", "p1", "2024-06-28", 45, "referral"),
        act("a2", "p1", "2024-07-02", 45, "referral"),
    ]
    with (
        dated_change("tcm", "unit_minutes", "2024-07-01", 30),
        dated_change("tcm", "procedure_code", "2024-07-01", "T2023"),
    ):
        result = evaluate(people, acts, [contract], coverage)
    june, july = only_line(result, "a1"), only_line(result, "a2")
    assert (june["units"], june["amount"], june["procedure_code"]) == (3, 90.0, "T1017")
    assert (july["units"], july["amount"], july["procedure_code"]) == (1, 30.0, "T2023")


def test_a_switch_that_changes_mid_year_decides_each_day_by_its_own_value(
    tcm_member: Any,
) -> None:
    people, coverage = tcm_member
    coverage = [*coverage, span("p1", "other_insurance", "2024-01-01")]
    acts = [
        act("a1", "p1", "2024-06-28", 30, "referral"),
        act("a2", "p1", "2024-07-02", 30, "referral"),
    ]
    with dated_change("tcm", "third_party_decision", "2024-07-01", "warn"):
        result = evaluate(people, acts, [TCM_CONTRACT], coverage)
    june, july = only_line(result, "a1"), only_line(result, "a2")
    assert june["status"] == "unbillable" and "tcm.third_party_liable" in june["reasons"]
    assert july["status"] == "billable" and "tcm.third_party_liable" in july["reasons"]


def test_a_monthly_rate_that_changes_reads_the_month_it_pays_for(tcm_member: Any) -> None:
    people, coverage = tcm_member
    monthly = {**TCM_CONTRACT, "payment": "monthly_case_rate"}
    monthly.pop("rate")
    acts = [
        act("a1", "p1", "2024-06-28", 30, "referral"),
        act("a2", "p1", "2024-07-02", 30, "referral"),
    ]
    with dated_change("tcm", "min_services_per_month", "2024-07-01", 2):
        result = evaluate(people, acts, [{**monthly, "rate": 75.0}], coverage)
    assert only_line(result, "a1")["status"] == "billable"
    assert "payment.month_not_engaged" in only_line(result, "a2")["reasons"]

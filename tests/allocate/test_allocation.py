"""The waterfall: priority order, caps applied in service order, splits, monthly payments."""

from typing import Any

import pandas as pd

from conftest import TCM_CONTRACT, act, evaluate, lines_for, span

Member = tuple[list[dict[str, Any]], list[dict[str, Any]]]
GRANT = {
    "id": "city",
    "payer": "City",
    "program": "grant",
    "payment": "grant",
    "rate": 40.0,
    "priority": 90,
    "covers": ["referral", "transportation"],
}


def test_unit_cap_splits_the_activity_that_crosses_it(tcm_member: Member) -> None:
    people, coverage = tcm_member
    capped = {**TCM_CONTRACT, "caps": {"units_per_month": 3}}
    acts = [
        act("a1", "p1", "2024-03-04", 30, "referral"),
        act("a2", "p1", "2024-03-05", 30, "referral"),
        act("a3", "p1", "2024-03-06", 30, "referral"),
    ]
    result = evaluate(people, acts, [capped, GRANT], coverage)
    a2 = lines_for(result, "a2")
    assert a2["contract_id"].tolist() == ["county_tcm", "city"]
    assert a2["units"].tolist()[0] == 1 and a2["minutes"].tolist() == [15, 15]
    a3 = lines_for(result, "a3")
    assert a3["contract_id"].tolist() == ["city"]
    tcm_units = result.lines.query("contract_id == 'county_tcm'")["units"].sum()
    assert tcm_units == 3
    assert result.lines.groupby("activity_id")["minutes"].sum().tolist() == [30, 30, 30]


def test_cap_reason_is_kept_on_the_minutes_nobody_took(tcm_member: Member) -> None:
    people, coverage = tcm_member
    capped = {**TCM_CONTRACT, "caps": {"units_per_month": 2}}
    acts = [
        act("a1", "p1", "2024-03-04", 30, "referral"),
        act("a2", "p1", "2024-03-05", 30, "referral"),
    ]
    result = evaluate(people, acts, [capped], coverage)
    a2 = lines_for(result, "a2").iloc[0]
    assert a2["status"] == "unbillable" and "cap.units_per_month" in a2["reasons"]


def test_budget_is_spent_in_service_order_across_participants() -> None:
    people = [{"participant_id": p} for p in ("p1", "p2")]
    grant = {**GRANT, "caps": {"budget": 50.0}}
    acts = [
        act("a1", "p2", "2024-03-01", 60, "transportation"),
        act("a2", "p1", "2024-03-02", 60, "transportation"),
    ]
    result = evaluate(people, acts, [grant])
    assert lines_for(result, "a1").iloc[0]["amount"] == 40.0
    first = lines_for(result, "a2")
    assert first.iloc[0]["amount"] == 10.0 and first.iloc[0]["minutes"] == 15
    assert "cap.budget" in first.iloc[1]["reasons"]
    assert result.lines["amount"].sum() == 50.0


def test_payer_of_last_resort_only_gets_what_medicaid_left(tcm_member: Member) -> None:
    people, coverage = tcm_member
    acts = [
        act("a1", "p1", "2024-03-04", 30, "referral"),
        act("a2", "p1", "2024-03-05", 30, "transportation"),
    ]
    result = evaluate(people, acts, [GRANT, TCM_CONTRACT], coverage)
    assert lines_for(result, "a1")["contract_id"].tolist() == ["county_tcm"]
    assert lines_for(result, "a2")["contract_id"].tolist() == ["city"]


def test_contract_outside_its_dates_says_so(tcm_member: Member) -> None:
    people, coverage = tcm_member
    dated = {**TCM_CONTRACT, "effective": {"from": "2024-01-01", "to": "2024-06-30"}}
    acts = [act("a1", "p1", "2024-07-01", 30, "referral")]
    result = evaluate(people, acts, [dated], coverage)
    assert "contract.not_effective" in lines_for(result, "a1").iloc[0]["reasons"]


def test_activity_with_no_contract_at_all_says_so() -> None:
    result = evaluate(
        [{"participant_id": "p1"}], [act("a1", "p1", "2024-07-01", 30, "referral")], []
    )
    assert lines_for(result, "a1").iloc[0]["reasons"] == "allocation.no_contract"


def test_pempm_bills_the_month_once_and_bundles_the_rest() -> None:
    people = [
        {
            "participant_id": "p1",
            "birth_date": "1980-01-01",
            "homeless": "yes",
            "complex_need": "yes",
            "county": "Los Angeles",
        }
    ]
    coverage = [
        span("p1", "medi_cal", "2023-01-01", payer="mcp_a"),
        span("p1", "ecm", "2023-01-01", payer="mcp_a"),
    ]
    plan = {
        "id": "ecm_a",
        "payer": "MCP A",
        "program": "ecm",
        "payment": "pempm",
        "rate": 450.0,
        "min_services_per_month": 2,
        "priority": 10,
    }
    acts = [
        act("a1", "p1", "2024-03-04", 30, "care_coordination"),
        act("a2", "p1", "2024-03-20", 10, "monitoring", mode="phone"),
        act("a3", "p1", "2024-04-02", 25, "assessment"),
    ]
    result = evaluate(people, acts, [plan], coverage)
    assert lines_for(result, "a1").iloc[0][["status", "amount"]].tolist() == ["billable", 450.0]
    assert lines_for(result, "a2").iloc[0]["status"] == "bundled"
    april = lines_for(result, "a3").iloc[0]
    assert april["status"] == "unbillable" and "payment.month_not_engaged" in april["reasons"]
    claims = result.claims
    assert claims[["month", "amount"]].values.tolist() == [[pd.Period("2024-03", "M"), 450.0]]
    assert claims["service_date"].isna().tolist() == [True]  # a month's claim has no day


def test_encounter_contract_pays_one_encounter_per_day(tcm_member: Member) -> None:
    people, coverage = tcm_member
    encounter = {**TCM_CONTRACT, "payment": "ffs_encounter", "rate": 120.0, "rounding": "encounter"}
    acts = [
        act("a1", "p1", "2024-03-04", 20, "referral"),
        act("a2", "p1", "2024-03-04", 40, "monitoring"),
    ]
    result = evaluate(people, acts, [encounter], coverage)
    statuses = result.lines.set_index("activity_id")["status"].to_dict()
    assert statuses == {"a1": "billable", "a2": "bundled"}
    assert result.lines["amount"].sum() == 120.0


def test_cost_reimbursement_pays_the_recorded_amount_under_a_lifetime_cap() -> None:
    people = [{"participant_id": "p1"}]
    coverage = [
        span("p1", "medi_cal", "2023-01-01", payer="mcp_a"),
        span("p1", "community_supports", "2023-01-01", payer="mcp_a"),
    ]
    cs = {
        "id": "cs",
        "payer": "MCP A",
        "program": "community_supports",
        "payment": "cost_reimbursement",
        "caps": {"amount_lifetime": 5000},
        "priority": 5,
        "parameters": {"deposit_requires_navigation": False, "housing_deposits_per_lifetime": 2},
    }
    acts = [
        act("a1", "p1", "2024-03-04", 10, "housing_deposit", amount=3000),
        act("a2", "p1", "2024-05-04", 10, "housing_deposit", amount=3000),
    ]
    result = evaluate(people, acts, [cs], coverage)
    assert lines_for(result, "a1").iloc[0]["amount"] == 3000.0
    second = lines_for(result, "a2")
    assert second.iloc[0]["amount"] == 2000.0
    assert second.iloc[0]["procedure_code"] == "H0044" and second.iloc[0]["modifiers"] == "U2"
    assert "cap.amount_lifetime" in second.iloc[-1]["reasons"]


def test_rounding_never_carries_hours_over_a_unit_cap() -> None:
    # Regression (found by hypothesis): rounding each line's hours to the nearest hundredth
    # once let three lines sum to 1.01 against a cap of 1.
    grant = {**GRANT, "rate": 60.0, "caps": {"units_per_month": 1}}
    acts = [act(f"a{i}", "p1", f"2024-03-0{i}", 25, "transportation") for i in (1, 2, 3)]
    result = evaluate([{"participant_id": "p1"}], acts, [grant])
    billed = result.lines.query("status == 'billable'")
    assert billed["units"].sum() <= 1.0
    assert billed["units"].tolist() == [0.41, 0.41, 0.16]


def test_unit_contract_with_encounter_rounding_pays_one_per_day(tcm_member: Member) -> None:
    people, coverage = tcm_member
    contract = {**TCM_CONTRACT, "rounding": "encounter", "rate": 90.0}
    acts = [
        act("a1", "p1", "2024-03-04", 95, "referral"),
        act("a2", "p1", "2024-03-04", 20, "monitoring"),
    ]
    result = evaluate(people, acts, [contract], coverage)
    assert result.lines["units"].sum() == 1 and result.lines["amount"].sum() == 90.0


def test_an_email_is_not_an_encounter(tcm_member: Member) -> None:
    # Regression (issue 12, finding 6): a 10-minute e-mail paid a full encounter. 22 CCR
    # §51185(a): an encounter is a face-to-face contact, or a significant telephone contact
    # in lieu of one.
    people, coverage = tcm_member
    encounter = {**TCM_CONTRACT, "payment": "ffs_encounter", "rate": 120.0, "rounding": "encounter"}
    acts = [
        act("a1", "p1", "2024-03-04", 10, "referral", mode="email"),
        act("a2", "p1", "2024-03-05", 10, "referral", mode="email"),
        act("a3", "p1", "2024-03-05", 30, "monitoring", mode="in_person"),
    ]
    result = evaluate(people, acts, [encounter], coverage)
    lone = lines_for(result, "a1").iloc[0]
    assert lone["status"] == "unbillable" and "units.not_an_encounter" in lone["reasons"]
    assert lines_for(result, "a3").iloc[0]["status"] == "billable"
    assert lines_for(result, "a2").iloc[0]["status"] == "bundled"  # rides on the visit
    assert result.lines["amount"].sum() == 120.0


def test_calls_count_only_where_the_contract_counts_them(tcm_member: Member) -> None:
    people, coverage = tcm_member
    encounter = {**TCM_CONTRACT, "payment": "ffs_encounter", "rate": 120.0, "rounding": "encounter"}
    acts = [act("a1", "p1", "2024-03-04", 25, "referral", mode="phone")]
    by_default = evaluate(people, acts, [encounter], coverage)
    assert lines_for(by_default, "a1").iloc[0]["status"] == "unbillable"
    calls = {**encounter, "parameters": {"encounter_modes": ["in_person", "phone"]}}
    counted = evaluate(people, acts, [calls], coverage)
    assert lines_for(counted, "a1").iloc[0][["status", "amount"]].tolist() == ["billable", 120.0]


def test_unit_contract_rounding_by_encounter_counts_modes_too(tcm_member: Member) -> None:
    people, coverage = tcm_member
    contract = {**TCM_CONTRACT, "rounding": "encounter", "rate": 90.0}
    acts = [act("a1", "p1", "2024-03-04", 95, "referral", mode="text")]
    result = evaluate(people, acts, [contract], coverage)
    line = lines_for(result, "a1").iloc[0]
    assert line["status"] == "unbillable" and "units.not_an_encounter" in line["reasons"]

"""Ryan White NMCM: eligibility by service date, exclusions, payer of last resort."""

from typing import Any

from conftest import TCM_CONTRACT, act, evaluate, lines_for, span

RW = {
    "id": "rw",
    "payer": "Ryan White Part A",
    "payer_id": "rw_a",
    "program": "ryan_white_nmcm",
    "payment": "ffs_unit",
    "rate": 20.0,
    "unit_minutes": 15,
    "priority": 80,
    "parameters": {"income_limit_pct_fpl": 300, "service_areas": ["Houston HSDA"]},
}
PERSON = {
    "participant_id": "p1",
    "hiv": "yes",
    "income_pct_fpl": 150,
    "service_area": "Houston HSDA",
}
DETERMINATION = [span("p1", "ryan_white", "2024-01-15", "2025-01-14", payer="rw_a")]


def status(result: Any, activity_id: str) -> tuple[str, str]:
    line = lines_for(result, activity_id).iloc[0]
    return line["status"], line["reasons"]


def test_eligible_client_bills_15_minute_units() -> None:
    result = evaluate(
        [PERSON], [act("a1", "p1", "2024-03-01", 50, "referral", mode="phone")], [RW], DETERMINATION
    )
    line = lines_for(result, "a1").iloc[0]
    assert (line["status"], line["units"], line["amount"]) == ("billable", 3, 60.0)


def test_service_the_day_before_and_after_the_determination() -> None:
    acts = [
        act("a0", "p1", "2024-01-14", 30, "referral"),
        act("a1", "p1", "2024-01-15", 30, "referral"),
        act("a2", "p1", "2025-01-14", 30, "referral"),
        act("a3", "p1", "2025-01-15", 30, "referral"),
    ]
    result = evaluate([PERSON], acts, [{**RW, "effective": {}}], DETERMINATION)
    assert [status(result, a)[0] for a in ("a0", "a1", "a2", "a3")] == [
        "unbillable",
        "billable",
        "billable",
        "unbillable",
    ]
    assert "rw.current_determination" in status(result, "a3")[1]


def test_texas_six_month_self_attestation() -> None:
    texas = {**RW, "parameters": {**RW["parameters"], "recertification_days": 182}}
    acts = [
        act("a1", "p1", "2024-07-15", 30, "referral"),
        act("a2", "p1", "2024-07-16", 30, "referral"),
    ]
    result = evaluate([PERSON], acts, [texas], DETERMINATION)
    assert status(result, "a1")[0] == "billable"
    assert "rw.recertification_current" in status(result, "a2")[1]


def test_income_above_the_limit_or_unknown_fails() -> None:
    acts = [act("a1", "p1", "2024-03-01", 30, "referral")]
    assert (
        "rw.low_income"
        in status(evaluate([{**PERSON, "income_pct_fpl": 301}], acts, [RW], DETERMINATION), "a1")[1]
    )
    assert (
        status(evaluate([{**PERSON, "income_pct_fpl": 300}], acts, [RW], DETERMINATION), "a1")[0]
        == "billable"
    )
    unknown = {k: v for k, v in PERSON.items() if k != "income_pct_fpl"}
    assert "rw.low_income" in status(evaluate([unknown], acts, [RW], DETERMINATION), "a1")[1]


def test_no_income_limit_in_the_contract_means_no_billing() -> None:
    bare = {**RW, "parameters": {"service_areas": ["Houston HSDA"]}}
    result = evaluate(
        [PERSON], [act("a1", "p1", "2024-03-01", 30, "referral")], [bare], DETERMINATION
    )
    assert "rw.low_income" in status(result, "a1")[1]


def test_hiv_diagnosis_and_residency_are_required() -> None:
    acts = [act("a1", "p1", "2024-03-01", 30, "referral")]
    assert (
        "rw.hiv_diagnosis"
        in status(evaluate([{**PERSON, "hiv": "no"}], acts, [RW], DETERMINATION), "a1")[1]
    )
    moved = {**PERSON, "service_area": "Austin TGA"}
    assert (
        "rw.service_area_resident" in status(evaluate([moved], acts, [RW], DETERMINATION), "a1")[1]
    )


def test_medical_and_sud_treatment_are_never_billed() -> None:
    acts = [
        act("a1", "p1", "2024-03-01", 30, "direct_medical"),
        act("a2", "p1", "2024-03-01", 30, "sud_treatment"),
    ]
    result = evaluate([PERSON], acts, [RW], DETERMINATION)
    assert all("rw.no_medical_or_sud_treatment" in status(result, a)[1] for a in ("a1", "a2"))


def test_phone_and_video_count_like_face_to_face() -> None:
    acts = [
        act("a1", "p1", "2024-03-01", 30, "referral", mode="phone"),
        act("a2", "p1", "2024-03-02", 30, "referral", mode="video"),
    ]
    result = evaluate([PERSON], acts, [RW], DETERMINATION)
    assert {status(result, a)[0] for a in ("a1", "a2")} == {"billable"}


def test_medicaid_pays_first_and_ryan_white_never_pays_what_it_covers() -> None:
    coverage = [
        *DETERMINATION,
        span("p1", "medi_cal", "2024-01-01", payer="mcp_a"),
        span("p1", "tcm", "2024-01-01", payer="county_bh"),
    ]
    acts = [
        act("a1", "p1", "2024-03-01", 30, "referral"),
        act("a2", "p1", "2024-03-02", 30, "housing_navigation"),
    ]
    result = evaluate([PERSON], acts, [RW, TCM_CONTRACT], coverage)
    assert lines_for(result, "a1")["contract_id"].tolist() == ["county_tcm"]
    assert lines_for(result, "a2")["contract_id"].tolist() == ["rw"]
    capped_tcm = {**TCM_CONTRACT, "caps": {"units_per_month": 0}}
    result = evaluate([PERSON], acts[:1], [RW, capped_tcm], coverage)
    line = lines_for(result, "a1").iloc[0]
    assert line["status"] == "unbillable" and "rw.payer_of_last_resort" in line["reasons"]


def test_indian_health_service_coverage_does_not_block_ryan_white() -> None:
    coverage = [*DETERMINATION, span("p1", "ihs", "2024-01-01")]
    result = evaluate([PERSON], [act("a1", "p1", "2024-03-01", 30, "referral")], [RW], coverage)
    assert status(result, "a1")[0] == "billable"

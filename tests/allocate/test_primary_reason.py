"""Denials per contract and the one primary reason per unbillable line, in hand-built cases
across programs (see casefund/allocate/denials.py for the choice)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from conftest import TCM_CONTRACT, act, evaluate, lines_for, span

ECM = {
    "id": "mcp_a_ecm",
    "payer": "MCP A",
    "payer_id": "mcp_a",
    "program": "ecm",
    "payment": "pempm",
    "rate": 450.0,
    "priority": 10,
}
RW = {
    "id": "rw",
    "payer": "Ryan White Part A",
    "payer_id": "rw_a",
    "program": "ryan_white_nmcm",
    "payment": "ffs_unit",
    "rate": 20.0,
    "unit_minutes": 15,
    "rounding": "whole_units",
    "priority": 80,
    "parameters": {"income_limit_pct_fpl": 300, "service_areas": ["Houston HSDA"]},
}
GRANT = {
    "id": "city_grant",
    "payer": "City Fund",
    "program": "grant",
    "payment": "grant",
    "covers": ["transportation"],
    "priority": 90,
}
PERSON = {
    "participant_id": "p1",
    "birth_date": "1980-01-01",
    "county": "Los Angeles",
    "homeless": "yes",
    "complex_need": "yes",
    "hiv": "yes",
    "income_pct_fpl": 150,
    "service_area": "Houston HSDA",
}
IN_TCM = [
    span("p1", "medi_cal", "2024-01-01", payer="mcp_a"),
    span("p1", "tcm", "2024-01-01", "2024-12-31", payer="county_bh"),
]


def primary(result: Any, activity_id: str) -> tuple[str, str]:
    line = lines_for(result, activity_id)
    line = line.loc[line["status"] == "unbillable"].iloc[0]
    blank = pd.isna(line["primary_contract_id"])
    return ("" if blank else str(line["primary_contract_id"])), str(line["primary_reason"])


def test_the_contract_the_worker_recorded_is_the_one_that_explains() -> None:
    activity = act("a1", "p1", "2024-03-04", 30, "housing_navigation")
    contracts = [ECM, TCM_CONTRACT, RW]
    assert primary(evaluate([PERSON], [activity], contracts, IN_TCM), "a1") == (
        "county_tcm",
        "tcm.covered_component",
    )
    hinted = {**activity, "contract_id": "rw"}
    assert primary(evaluate([PERSON], [hinted], contracts, IN_TCM), "a1") == (
        "rw",
        "rw.current_determination",
    )


def test_an_enrolled_programs_substantive_refusal_beats_one_the_person_never_had() -> None:
    """In TCM, never in ECM: transportation is refused by TCM for what it is, which is what
    a biller acts on; ECM's 'not authorized' is noise."""
    result = evaluate(
        [PERSON], [act("a1", "p1", "2024-03-04", 45, "transportation")], [ECM, TCM_CONTRACT], IN_TCM
    )
    assert primary(result, "a1") == ("county_tcm", "tcm.transportation_not_covered")
    denials = result.denials
    assert set(denials["contract_id"].astype(str)) == {"mcp_a_ecm", "county_tcm"}
    assert denials["primary"].sum() == 1


def test_a_lapsed_enrollment_is_named_before_a_grant_that_does_not_cover_the_work() -> None:
    """ECM authorized January to February; care coordination in April. The lapse is
    fixable (re-authorize) and worth the month's PEMPM; the grant never covered it."""
    coverage = [
        span("p1", "medi_cal", "2024-01-01", payer="mcp_a"),
        span("p1", "ecm", "2024-01-01", "2024-02-29", payer="mcp_a"),
    ]
    result = evaluate(
        [PERSON], [act("a1", "p1", "2024-04-10", 60, "care_coordination")], [ECM, GRANT], coverage
    )
    assert primary(result, "a1") == ("mcp_a_ecm", "ecm.authorized_with_plan")
    row = result.recoverable.iloc[0]
    assert (row["class"], row["contract_id"], row["estimated_amount"]) == (
        "fixable",
        "mcp_a_ecm",
        450.0,
    )
    assert "ECM authorization" in row["what_to_fix"]


def test_a_grants_refusal_beats_programs_the_person_never_had() -> None:
    result = evaluate(
        [PERSON],
        [act("a1", "p1", "2024-04-10", 60, "care_coordination")],
        [ECM, TCM_CONTRACT, GRANT],
        [],
    )
    assert primary(result, "a1") == ("city_grant", "grant.covered_activity")
    assert result.recoverable.iloc[0]["class"] == "not_billable"


def test_a_person_in_no_program_is_told_so_by_the_first_program_and_all_are_named() -> None:
    result = evaluate(
        [PERSON], [act("a1", "p1", "2024-04-10", 60, "care_coordination")], [ECM, TCM_CONTRACT], []
    )
    assert primary(result, "a1") == ("mcp_a_ecm", "ecm.authorized_with_plan")
    explained = result.explain("a1")
    assert explained.not_enrolled_in == ["ecm", "tcm"]
    assert "not enrolled on the service date in: ecm, tcm" in explained.to_text()


def test_a_cap_reached_at_an_enrolled_program_is_the_reason() -> None:
    capped = {**TCM_CONTRACT, "caps": {"units_per_month": 2}}
    acts = [
        act("a1", "p1", "2024-03-04", 30, "referral"),
        act("a2", "p1", "2024-03-05", 30, "referral"),
    ]
    result = evaluate([PERSON], acts, [ECM, capped], IN_TCM)
    assert primary(result, "a2") == ("county_tcm", "cap.units_per_month")
    refused = result.denials.loc[
        (result.denials["activity_id"] == "a2")
        & (result.denials["rule_id"] == "cap.units_per_month")
    ]
    assert refused["minutes"].tolist() == [30]


def test_a_contract_not_in_effect_explains_only_when_nothing_else_does() -> None:
    later = {**TCM_CONTRACT, "effective": {"from": "2024-06-01"}}
    result = evaluate(
        [PERSON], [act("a1", "p1", "2024-03-04", 30, "referral")], [ECM, later], IN_TCM
    )
    assert primary(result, "a1") == ("mcp_a_ecm", "ecm.authorized_with_plan")
    only = evaluate([PERSON], [act("a1", "p1", "2024-03-04", 30, "referral")], [later], IN_TCM)
    assert primary(only, "a1") == ("county_tcm", "contract.not_effective")


def test_a_fact_not_known_makes_a_refusal_fixable() -> None:
    unknown_status = {k: v for k, v in PERSON.items() if k != "hiv"}
    determination = [span("p1", "ryan_white", "2024-01-15", "2025-01-14", payer="rw_a")]
    result = evaluate(
        [unknown_status], [act("a1", "p1", "2024-03-01", 45, "referral")], [RW], determination
    )
    assert primary(result, "a1") == ("rw", "rw.hiv_diagnosis")
    denial = result.denials.loc[result.denials["primary"]].iloc[0]
    assert bool(denial["unknown_fact"])
    row = result.recoverable.iloc[0]
    assert row["class"] == "fixable" and "hiv" in row["what_to_fix"]
    assert row["estimated_amount"] == 60.0  # three whole 15-minute units at $20
    known = evaluate(
        [{**PERSON, "hiv": "no"}],
        [act("a1", "p1", "2024-03-01", 45, "referral")],
        [RW],
        determination,
    )
    assert known.recoverable.iloc[0]["class"] == "not_billable"


def test_an_activity_no_contract_could_try_says_so() -> None:
    result = evaluate([PERSON], [act("a1", "p1", "2024-03-04", 30, "referral")], [], IN_TCM)
    assert primary(result, "a1") == ("", "allocation.no_contract")
    assert result.denials.empty


def test_payer_of_last_resort_leaves_the_medicaid_refusal_on_record() -> None:
    """Billed to Ryan White after TCM refused: the line is billable, and denials still say
    which contract refused it first and why."""
    coverage = [span("p1", "ryan_white", "2024-01-15", "2025-01-14", payer="rw_a")]
    result = evaluate(
        [PERSON], [act("a1", "p1", "2024-03-01", 45, "referral")], [TCM_CONTRACT, RW], coverage
    )
    lines = lines_for(result, "a1")
    assert lines["status"].tolist() == ["billable"]
    assert lines["primary_reason"].isna().tolist() == [True]  # a billed line has no refusal
    refused = result.denials.loc[result.denials["contract_id"] == "county_tcm"]
    assert "tcm.enrolled_in_medicaid" in set(refused["rule_id"].astype(str))
    assert not refused["primary"].any()


@pytest.mark.parametrize("seed", [3, 11])
def test_every_unbillable_line_has_a_primary_denial_of_its_contract(seed: int) -> None:
    import casefund
    from casefund.synthetic import Shape, demo_contracts, generate

    result = casefund.evaluate(
        generate(Shape(participants=40, months=3, seed=seed)), demo_contracts()
    )
    lines = result.lines
    unbillable = lines.loc[lines["status"] == "unbillable"]
    marked = result.denials.loc[result.denials["primary"]]
    assert len(marked) == len(unbillable)
    chosen = marked.set_index("activity_id")
    assert chosen.index.is_unique
    at = chosen.loc[unbillable["activity_id"]]
    assert (
        unbillable["primary_contract_id"].astype(str).to_numpy()
        == at["contract_id"].astype(str).to_numpy()
    ).all()
    assert (
        unbillable["primary_reason"].astype(str).to_numpy() == at["rule_id"].astype(str).to_numpy()
    ).all()
    # Catalog covers every id the run used; recoverable adds up to the unbillable minutes.
    used = set(marked["rule_id"].astype(str)) | set(result.denials["rule_id"].astype(str))
    used |= {i for r in lines["reasons"].astype(str) for i in r.split(";") if i}
    assert used <= set(result.reasons["rule_id"])
    assert result.recoverable["minutes"].sum() == unbillable["minutes"].sum()
    assert pd.Series(result.recoverable["class"]).isin(["fixable", "not_billable"]).all()


def test_regression_replacing_unbillable_reasons_past_a_small_code_width() -> None:
    """Bug: an unbillable line's reasons were swapped in through the categorical's own code
    array, int8 when it has few categories, which overflowed once more were added."""
    import numpy as np

    from casefund.allocate.lines import _replace_rows

    few = pd.Categorical([f"c{i}" for i in range(120)])  # int8 codes
    assert few.codes.dtype == np.int8
    wide = _replace_rows(few, np.arange(120), pd.Categorical([f"d{i}" for i in range(120)]))
    assert list(wide) == [f"d{i}" for i in range(120)]

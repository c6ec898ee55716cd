"""Caseloads against program models (LEAD/Co-LEAD brief: ICM ≤ 20, ACT ≤ 15, ACT
time-limited) and time by TIP 27 case-management function."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

import casefund
from casefund.cli import app
from casefund.errors import InputError
from casefund.reports.caseloads import caseload_warnings
from casefund.rules.book import rule_book

from conftest import act

runner = CliRunner()
GRANT = {
    "id": "city_grant",
    "payer": "City",
    "program": "grant",
    "payment": "grant",
    "covers": ["monitoring", "advocacy"],
    "rate": 60.0,
    "unit_minutes": 60,
    "rounding": "whole_units",
    "priority": 90,
}


def _people(n: int) -> list[dict[str, Any]]:
    return [{"participant_id": f"p{i:02d}", "birth_date": "1980-01-01"} for i in range(n)]


def _evaluate(
    n: int,
    staff: list[dict[str, Any]],
    assignments: list[dict[str, Any]] | None = None,
    models: dict[str, Any] | None = None,
    activities: list[dict[str, Any]] | None = None,
) -> casefund.Evaluation:
    people = _people(n)
    acts = activities or [
        act(f"a{i:02d}", p["participant_id"], "2024-03-05", 30, "monitoring", staff_id="s1")
        for i, p in enumerate(people)
    ]
    tables: dict[str, Any] = {
        "participants": pd.DataFrame(people),
        "activities": pd.DataFrame(acts),
        "staff": pd.DataFrame(staff),
    }
    if assignments is not None:
        tables["assignments"] = pd.DataFrame(assignments)
    contracts: dict[str, Any] = {"contracts": [GRANT]}
    if models:
        contracts["program_models"] = models
    return casefund.evaluate(tables, contracts)


def _assigned(pids: list[str], staff_id: str, start: str, end: str = "") -> list[dict[str, Any]]:
    return [
        {"participant_id": p, "staff_id": staff_id, "start_date": start, "end_date": end}
        for p in pids
    ]


def test_an_icm_case_manager_with_21_participants_is_one_over_the_briefs_20() -> None:
    """LEAD's ICM: 'small (20 or fewer) caseloads' — 21 is over by one, 20 is within."""
    staff = [{"staff_id": "s1", "fte": 1.0, "program_model": "icm", "team": "LEAD"}]
    over = _evaluate(21, staff).caseloads.iloc[0]
    assert (over["participants"], over["caseload_max"], over["over_by"]) == (21, 20, 1.0)
    assert bool(over["over_limit"]) and over["basis"] == "served"
    within = _evaluate(20, staff).caseloads.iloc[0]
    assert not bool(within["over_limit"]) and within["over_by"] == 0.0


def test_an_act_limit_is_15_and_scales_with_fte() -> None:
    """Co-LEAD's ACT: 15 or fewer; a half-time case manager is over at 8 (limit 7.5)."""
    staff = [{"staff_id": "s1", "fte": 0.5, "program_model": "act"}]
    row = _evaluate(8, staff).caseloads.iloc[0]
    assert row["caseload_max"] == 15 and row["limit_for_fte"] == 7.5
    assert row["participants_per_fte"] == 16.0 and bool(row["over_limit"])
    assert row["time_limited"]  # ACT is time-delimited (brief, Table 1)


def test_assignments_decide_who_is_carried_not_who_was_served() -> None:
    staff = [
        {"staff_id": "s1", "program_model": "icm"},
        {"staff_id": "s2", "program_model": "icm"},
    ]
    pids = [p["participant_id"] for p in _people(4)]
    assignments = _assigned(pids[:3], "s2", "2024-01-01") + _assigned(
        pids[3:], "s2", "2024-01-01", "2024-02-29"
    )
    frame = _evaluate(4, staff, assignments).caseloads
    # s1 served everyone in March but carries no one; s2's fourth assignment ended in Feb.
    assert frame["staff_id"].tolist() == ["s2"]
    assert frame["participants"].tolist() == [3] and frame["basis"].tolist() == ["assigned"]


def test_a_participant_carried_past_the_agencys_act_span_is_counted_and_warned() -> None:
    staff = [{"staff_id": "s1", "program_model": "act"}]
    pids = [p["participant_id"] for p in _people(2)]
    assignments = _assigned(pids[:1], "s1", "2023-10-15") + _assigned(pids[1:], "s1", "2024-02-01")
    evaluation = _evaluate(2, staff, assignments, models={"act": {"max_months": 6}})
    row = evaluation.caseloads.iloc[0]
    # October to March is the sixth month (within); the span ends there, so no one is past
    # it yet in March — an assignment from September would be.
    assert row["past_span"] == 0
    earlier = _assigned(pids[:1], "s1", "2023-09-30") + _assigned(pids[1:], "s1", "2024-02-01")
    evaluation = _evaluate(2, staff, earlier, models={"act": {"max_months": 6}})
    row = evaluation.caseloads.iloc[0]
    assert row["past_span"] == 1 and row["max_months"] == 6
    assert "contracts.yaml" in row["model_source"]
    warned = caseload_warnings(evaluation.table("caseloads"))
    assert warned == [
        "caseload: s1 (act, time-limited to 6 months) carries 1 participant past the span "
        "in 2024-03"
    ]


def test_without_a_span_act_reports_no_one_past_it() -> None:
    """The brief names no ACT span: casefund lends none (conservative reading)."""
    staff = [{"staff_id": "s1", "program_model": "act"}]
    assignments = _assigned(["p00"], "s1", "2020-01-01")
    row = _evaluate(1, staff, assignments).caseloads.iloc[0]
    assert row["past_span"] == 0 and pd.isna(row["max_months"])


def test_an_agency_model_from_its_service_standard() -> None:
    models = {"nmcm": {"caseload_max": 2, "source": "our NMCM service standard §4"}}
    staff = [{"staff_id": "s1", "program_model": "nmcm"}]
    row = _evaluate(3, staff, models=models).caseloads.iloc[0]
    assert (row["caseload_max"], row["over_by"]) == (2, 1.0)
    assert row["model_source"] == "contracts.yaml (our NMCM service standard §4)"


def test_a_staff_row_naming_an_unknown_model_is_refused_with_its_field() -> None:
    staff = [{"staff_id": "s1", "program_model": "icn"}]
    evaluation = _evaluate(1, staff)
    rejects = evaluation.rejects
    row = rejects.loc[rejects["table"] == "staff"].iloc[0]
    assert row["field"] == "program_model"
    assert row["problem"] == (
        "unknown program_model 'icn' — did you mean 'icm'? (use one of act, icm, or "
        "define it under program_models: in contracts.yaml)"
    )


def test_an_assignment_to_a_case_manager_not_in_staff_is_refused() -> None:
    staff = [{"staff_id": "s1", "program_model": "icm"}]
    assignments = _assigned(["p00"], "s9", "2024-01-01")
    evaluation = _evaluate(1, staff, assignments)
    row = evaluation.rejects.loc[evaluation.rejects["table"] == "assignments"].iloc[0]
    assert row["field"] == "staff_id" and "s9" in row["problem"]


@pytest.mark.parametrize(
    ("models", "message"),
    [
        ({"nmcm": {"source": "x"}}, "key 'caseload_max' is required"),
        ({"act": {"max_month": 6}}, "did you mean 'max_months'"),
        ({"Bad Id": {"caseload_max": 3}}, "lower-case letters"),
        ({"act": {"caseload_max": 0}}, "caseload_max"),
        ({"act": 6}, "expected a mapping"),
    ],
)
def test_program_models_in_contracts_yaml_are_validated(
    models: dict[str, Any], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        _evaluate(1, [{"staff_id": "s1"}], models=models)


def test_the_demo_plants_an_over_limit_case_manager_and_warns(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "warning: caseload: S02 (icm, limit 20 at 1 FTE) carries 23 participants" in (
        result.output
    )
    assert "past the span" in result.output
    caseloads = pd.read_csv(tmp_path / "demo" / "caseloads.csv")
    assert set(caseloads.loc[caseloads["over_limit"], "staff_id"]) == {"S02"}
    functions = pd.read_csv(tmp_path / "demo" / "functions.csv")
    assert {"engagement", "assessment", "advocacy", "disengagement"} <= set(functions["function"])
    # The city diversion grant covers advocacy; nothing covers disengagement.
    advocacy = functions.loc[functions["function"] == "advocacy"]
    grant = advocacy.loc[advocacy["contract_id"] == "city_diversion_grant"]
    assert grant["billable_minutes"].sum() > 0
    disengagement = functions.loc[functions["function"] == "disengagement"]
    assert disengagement["billable_minutes"].sum() == 0


def test_every_activity_code_has_exactly_one_function() -> None:
    from casefund.records.vocabulary import VOCABULARY

    parameter = rule_book().parameters["program_models"].parameters["case_management_function"]
    for entry in parameter.values:
        listed = [code for codes in entry.value.values() for code in codes]
        assert sorted(listed) == sorted(VOCABULARY["activity"])


def test_time_by_function_splits_minutes_by_what_became_of_them() -> None:
    staff = [{"staff_id": "s1"}]
    activities = [
        act("a1", "p00", "2024-03-05", 60, "advocacy", staff_id="s1"),
        act("a2", "p00", "2024-03-06", 45, "disengagement", staff_id="s1"),
        act("a3", "p00", "2024-03-07", 30, "monitoring", staff_id="s1"),
    ]
    frame = _evaluate(1, staff, activities=activities).table("functions")
    by = frame.set_index("function")
    # The grant covers advocacy (60 minutes: one hour-unit) and monitoring (30 minutes, under
    # a whole hour-unit: unbillable), not disengagement.
    assert by.loc["advocacy", ["minutes", "billable_minutes"]].tolist() == [60, 60]
    assert by.loc["advocacy", "share_billable"] == 1.0
    assert by.loc["disengagement", ["minutes", "unbillable_minutes"]].tolist() == [45, 45]
    # Unbillable minutes belong to the contract that refused them as their primary one.
    assert by.loc["disengagement", "contract_id"] == "city_grant"
    assert by.loc["disengagement", "share_billable"] == 0.0
    assert by.loc["monitoring", "contract_id"] == "city_grant"
    assert by.loc["monitoring", "share_billable"] == 0.0
    assert int(frame["minutes"].sum()) == 135  # every accepted minute once


def test_advocacy_is_not_a_tcm_covered_component(tcm_member: Any) -> None:
    """42 U.S.C. 1396n(g)(2)(A)(ii) names assessment, care planning, referral and monitoring;
    advocacy is not among them (conservative reading: bill it as referral when it is one)."""
    from conftest import TCM_CONTRACT, evaluate, lines_for

    people, coverage = tcm_member
    evaluation = evaluate(
        people,
        [
            act("a1", "p1", "2024-03-05", 30, "advocacy"),
            act("a2", "p1", "2024-03-06", 30, "referral"),
        ],
        [TCM_CONTRACT],
        coverage,
    )
    assert lines_for(evaluation, "a1")["status"].tolist() == ["unbillable"]
    assert lines_for(evaluation, "a2")["status"].tolist() == ["billable"]


def test_the_spans_shipped_are_the_briefs(tmp_path: Path) -> None:
    import datetime as dt

    from casefund.payers.program_models import program_models

    models = program_models(rule_book().parameters["program_models"], {}, dt.date(2024, 1, 1))
    assert (models["icm"].caseload_max, models["icm"].time_limited) == (20, False)
    assert (models["act"].caseload_max, models["act"].time_limited) == (15, True)
    assert models["act"].availability_24h and not models["icm"].availability_24h
    assert models["act"].max_months is None


def test_regression_an_assignment_ending_before_it_starts_is_refused() -> None:
    staff = [{"staff_id": "s1", "program_model": "icm"}]
    assignments = _assigned(["p00"], "s1", "2024-03-01", "2024-02-01")
    evaluation = _evaluate(1, staff, assignments)
    row = evaluation.rejects.loc[evaluation.rejects["table"] == "assignments"].iloc[0]
    assert (row["field"], row["problem"]) == ("end_date", "end_date is before start_date")
    # Nothing is carried, so the caseload falls back to who was served, and says so.
    assert evaluation.caseloads["basis"].tolist() == ["served"]


def test_the_cli_refuses_a_broken_assignments_file_row_and_names_it(tmp_path: Path) -> None:
    import shutil

    data = tmp_path / "data"
    shutil.copytree(Path(__file__).resolve().parents[2] / "fixtures" / "small_agency", data)
    (data / "assignments.csv").write_text(
        "participant_id,staff_id,start_date,end_date\np-hiv,S01,2024-13-01,\n"
    )
    result = runner.invoke(app, ["evaluate", "--data", str(data), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    rejects = pd.read_csv(tmp_path / "o" / "rejects.csv")
    row = rejects.loc[rejects["table"] == "assignments"].iloc[0]
    assert (row["row"], row["field"]) == (1, "start_date")


def test_the_funding_mix_report_warns_of_overloads_too(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    report = tmp_path / "mix.xlsx"
    result = runner.invoke(
        app,
        ["report", "funding-mix", "--data", str(tmp_path / "demo" / "input"), "--out", str(report)],
    )
    assert result.exit_code == 0, result.output
    assert "warning: caseload: S02 (icm, limit 20 at 1 FTE)" in result.output
    assert "(every case manager: 'caseloads by model' in mix.xlsx)" in result.output

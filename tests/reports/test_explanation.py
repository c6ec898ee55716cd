"""Explanations fit for an audit: structured, stamped, complete on request, the same from a
written folder as from memory, and valid against the published JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

import casefund
from casefund.cli import app
from casefund.reports.explanation import Explanation, explain_records, explanation_schema
from casefund.reports.output_folder import read_activity

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "fixtures" / "small_agency"
SCHEMA = ROOT / "docs" / "schemas" / "explanation.schema.json"
runner = CliRunner()


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[casefund.Evaluation, Path]:
    out = tmp_path_factory.mktemp("out")
    evaluation = casefund.evaluate(FIXTURE)
    evaluation.write(out)
    return evaluation, out


def test_the_published_schema_is_the_models_own() -> None:
    assert json.loads(SCHEMA.read_text()) == explanation_schema(), (
        "docs/schemas/explanation.schema.json is stale: run casefund schema --out docs/schemas"
    )


def test_every_activity_explains_the_same_from_a_folder_as_from_memory(
    written: tuple[casefund.Evaluation, Path],
) -> None:
    evaluation, out = written
    schema = json.loads(SCHEMA.read_text())
    for activity_id in evaluation.lines["activity_id"].astype(str).unique():
        in_memory = evaluation.explain(activity_id)
        from_folder = explain_records(read_activity(out, activity_id))
        assert from_folder.to_dict() == in_memory.to_dict(), activity_id
        jsonschema.validate(in_memory.to_dict(), schema)
        assert in_memory.casefund_version == casefund.__version__
        assert in_memory.rules_hash == evaluation.rules_hash


def test_a_refused_activity_names_each_contracts_rules_and_the_values_they_read(
    written: tuple[casefund.Evaluation, Path],
) -> None:
    evaluation, _ = written
    explained = evaluation.explain("a-transport")
    assert isinstance(explained, Explanation)
    tcm = next(c for c in explained.contracts if c.contract_id == "county_tcm")
    assert tcm.decision == "refused" and tcm.minutes_refused == 50
    assert {r.rule_id for r in tcm.rules} >= {"tcm.transportation_not_covered"}
    assert all(r.citation for r in tcm.rules)
    grant = next(c for c in explained.contracts if c.contract_id == "city_grant")
    assert grant.decision == "billed"
    covers = next(p for p in grant.parameters if p.name == "covers")
    assert covers.source == "contract city_grant" and "transportation" in covers.value


def test_regression_a_contract_override_is_shown_where_it_decided(
    written: tuple[casefund.Evaluation, Path],
) -> None:
    """Bug: explain showed the bundled parameter value where the contract's own decided."""
    evaluation, _ = written
    billed = evaluation.lines.loc[evaluation.lines["contract_id"] == "rw_nmcm", "activity_id"]
    explained = evaluation.explain(str(billed.iloc[0]))
    rw = next(c for c in explained.contracts if c.contract_id == "rw_nmcm")
    rate = next(p for p in rw.parameters if p.name == "rate")
    assert (rate.value, rate.source) == (22.0, "contract rw_nmcm")
    aggregate = next(p for p in rw.parameters if p.name == "aggregate")
    assert aggregate.source == "payers/parameters/ryan_white_nmcm.yaml"
    assert aggregate.effective_from == "2021-10-19"


def test_regression_no_none_in_the_text_and_nothing_hidden_with_full(
    written: tuple[casefund.Evaluation, Path],
) -> None:
    """Bug: explain printed 'grant at None' and hid reasons behind '… 8 more lines'."""
    evaluation, _ = written
    for activity_id in evaluation.lines["activity_id"].astype(str).unique():
        short = evaluation.explain(activity_id).to_text()
        full = evaluation.explain(activity_id).to_text(full=True)
        assert "None" not in full and "more lines" not in full
        assert len(short.splitlines()) <= 20
        assert all(
            line in full.splitlines() for line in short.splitlines() if "more lines" not in line
        )


def test_the_command_explains_from_a_folder_as_text_and_json(
    written: tuple[casefund.Evaluation, Path],
) -> None:
    _, out = written
    text = runner.invoke(app, ["explain", "--from", str(out), "a-transport", "--full"])
    assert text.exit_code == 0, text.output
    assert "tcm.transportation_not_covered" in text.output and "source:" in text.output
    as_json = runner.invoke(app, ["explain", "--from", str(out), "a-transport", "--json"])
    assert as_json.exit_code == 0
    jsonschema.validate(json.loads(as_json.output), json.loads(SCHEMA.read_text()))


@pytest.mark.parametrize("where", ["--from", "--data"])
def test_a_missing_activity_is_an_error_naming_it(
    written: tuple[casefund.Evaluation, Path], where: str
) -> None:
    _, out = written
    folder = out if where == "--from" else FIXTURE
    result = runner.invoke(app, ["explain", where, str(folder), "no-such-activity"])
    assert result.exit_code == 2
    assert "no-such-activity" in result.output
    assert "Traceback" not in result.output


def test_a_folder_that_is_not_an_evaluation_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["explain", "--from", str(tmp_path), "a1"])
    assert result.exit_code == 2 and "manifest.json" in result.output
    both = runner.invoke(app, ["explain", "--from", str(tmp_path), "--data", str(FIXTURE), "a1"])
    assert both.exit_code == 2


def test_an_id_that_a_spreadsheet_would_run_is_found_as_written(tmp_path: Path) -> None:
    """Ids are written with the formula guard and CSV quoting; the folder reader searches
    for them exactly as written."""
    from conftest import act, span

    people = [{"participant_id": "p1", "birth_date": "1980-01-01"}]
    coverage = [
        span("p1", "medi_cal", "2024-01-01", payer="mcp_a"),
        span("p1", "tcm", "2024-01-01", "2024-12-31", payer="county_bh"),
    ]
    tcm = {
        "id": "county_tcm",
        "payer": "County BH",
        "payer_id": "county_bh",
        "program": "tcm",
        "payment": "ffs_unit",
        "rate": 30.0,
        "unit_minutes": 15,
        "rounding": "whole_units",
    }
    import pandas as pd

    hostile = ['=HYPERLINK("x"),a', 'a"b,c', "plain"]
    acts = [act(aid, "p1", "2024-03-04", 30, "referral") for aid in hostile]
    evaluation = casefund.evaluate(
        {
            "participants": pd.DataFrame(people),
            "activities": pd.DataFrame(acts),
            "coverage": pd.DataFrame(coverage),
        },
        {"contracts": [tcm]},
    )
    evaluation.write(tmp_path / "out")
    for aid in hostile:
        records = read_activity(tmp_path / "out", aid)
        assert len(records.lines) == 1, aid

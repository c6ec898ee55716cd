"""De-identified outputs leak no identifiers; audit re-runs reproduce byte for byte."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

import casefund
from casefund.cli import app
from casefund.reports.privacy import deidentified
from casefund.synthetic import Shape, demo_contracts, generate, write_dataset

runner = CliRunner()
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "small_agency"


def test_deidentified_files_hold_no_ids_and_no_dates_below_month(tmp_path: Path) -> None:
    data = write_dataset(generate(Shape(participants=60, months=3, seed=5)), demo_contracts(),
                         tmp_path / "in")
    out = tmp_path / "out"
    result = runner.invoke(app, ["evaluate", "--data", str(data), "--out", str(out),
                                 "--deidentify", "--recipient", "county"])
    assert result.exit_code == 0, result.output
    ids = set(pd.read_csv(data / "participants.csv", dtype=str)["participant_id"])
    ids |= set(pd.read_csv(data / "activities.csv", dtype=str)["activity_id"])
    births = set(pd.read_csv(data / "participants.csv", dtype=str)["birth_date"].dropna())
    written = sorted(p.name for p in out.iterdir())
    assert written == ["eligibility_summary.csv", "manifest.json", "summary.csv"]
    for path in out.iterdir():
        text = path.read_text()
        assert not any(i in text for i in ids), path.name
        assert not any(b in text for b in births if b), path.name
        assert not re.search(r"\d{4}-\d{2}-\d{2}", text), path.name


def test_small_cells_are_suppressed_with_a_complementary_cell() -> None:
    tables = generate(Shape(participants=40, months=2, seed=9))
    summary = deidentified(casefund.evaluate(tables, demo_contracts()))["summary"]
    hidden = summary.loc[summary["suppressed"]]
    assert hidden[["participants", "minutes", "amount"]].isna().all().all()
    shown = summary.loc[~summary["suppressed"]]
    assert (shown["participants"] >= 11).all()
    per_group = summary.groupby(["month", "contract_id"], dropna=False)["suppressed"].sum()
    sizes = summary.groupby(["month", "contract_id"], dropna=False).size()
    # No group leaves exactly one hidden cell beside visible ones (it could be subtracted out).
    assert not ((per_group == 1) & (sizes > 1)).any()


def _sud_lines(recipient: str | None, consents: list[dict[str, str]]) -> int:
    people = pd.DataFrame([{"participant_id": f"p{i}"} for i in range(12)])
    acts = pd.DataFrame([{"activity_id": f"a{i}", "participant_id": f"p{i}",
                          "date": "2024-03-04", "minutes": 30, "activity": "sud_treatment"}
                         for i in range(12)])
    result = casefund.evaluate({"participants": people, "activities": acts,
                                "consents": pd.DataFrame(consents, columns=[
                                    "participant_id", "recipient", "scope", "start_date",
                                    "end_date"])}, {"contracts": []})
    summary = deidentified(result, recipient)["summary"]
    return int(summary["activities"].fillna(0).sum())


def test_part2_records_are_withheld_without_the_recipients_consent() -> None:
    assert _sud_lines("county", []) == 0
    everyone = [{"participant_id": f"p{i}", "recipient": "county", "scope": "sud",
                 "start_date": "2024-01-01", "end_date": "2024-12-31"} for i in range(12)]
    assert _sud_lines("county", everyone) == 12
    assert _sud_lines("state", everyone) == 0
    expired = [{**c, "end_date": "2024-02-29"} for c in everyone]
    assert _sud_lines("county", expired) == 0


def test_verify_reports_identical_then_catches_a_changed_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert runner.invoke(app, ["evaluate", "--data", str(FIXTURE), "--out", str(out)]
                         ).exit_code == 0
    same = runner.invoke(app, ["verify", str(out), "--data", str(FIXTURE)])
    assert same.exit_code == 0, same.output
    assert "lines.csv" in same.output and "differs" not in same.output
    (out / "claims.csv").write_text((out / "claims.csv").read_text().replace("63.0", "64.0"))
    changed = runner.invoke(app, ["verify", str(out), "--data", str(FIXTURE)])
    assert changed.exit_code == 1 and "claims.csv" in changed.output
    data = tmp_path / "data"
    shutil.copytree(FIXTURE, data)
    (data / "staff.csv").write_text("staff_id,hourly_cost,fte\nS01,50,1\n")
    moved = runner.invoke(app, ["verify", str(out), "--data", str(data)])
    assert moved.exit_code == 1 and "input staff" in moved.output

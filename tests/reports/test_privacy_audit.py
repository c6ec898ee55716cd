"""De-identified outputs leak no identifiers; audit re-runs reproduce byte for byte."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import casefund
from casefund.cli import app
from casefund.reports.privacy import deidentified
from casefund.synthetic import Shape, demo_contracts, generate, write_dataset

runner = CliRunner()
FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "small_agency"


def test_deidentified_files_hold_no_ids_and_no_dates_below_month(tmp_path: Path) -> None:
    data = write_dataset(
        generate(Shape(participants=60, months=3, seed=5)), demo_contracts(), tmp_path / "in"
    )
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "evaluate",
            "--data",
            str(data),
            "--out",
            str(out),
            "--deidentify",
            "--recipient",
            "county",
        ],
    )
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


def _attack(summary: pd.DataFrame, value: str = "minutes") -> list[str]:
    """Every hidden cell an outsider can work out from the published table: by subtracting
    the visible cells of a line from its visible total, and by solving all the lines of a
    contract together (a hidden cell is recovered exactly when adding 'this cell' to the
    system's rows does not raise its rank). Written independently of casefund's own check."""
    found = []
    for _contract, block in summary.groupby("contract_id", dropna=False):
        block = block.reset_index(drop=True)
        equations = []  # (cells, total) index lists
        for i, row in block.iterrows():
            for key, other in (("month", "status"), ("status", "month")):
                if row[key] != "all":
                    continue
                parts = block.index[(block[key] != "all") & (block[other] == row[other])]
                equations.append((list(parts), i))
        hidden = list(block.index[block["suppressed"]])
        for parts, total in equations:  # one unknown in a line: subtract
            unknown = [c for c in [*parts, total] if c in hidden]
            if len(unknown) == 1:
                found.append(f"{_contract}: row {unknown[0]} by subtraction")
        if not hidden:
            continue
        column = {c: j for j, c in enumerate(hidden)}
        rows = []
        for parts, total in equations:
            row = np.zeros(len(hidden))
            for c in parts:
                if c in column:
                    row[column[c]] += 1
            if total in column:
                row[column[total]] -= 1
            rows.append(row)
        system = np.array(rows) if rows else np.zeros((0, len(hidden)))
        rank = np.linalg.matrix_rank(system) if len(system) else 0
        for cell, j in column.items():
            unit = np.zeros((1, len(hidden)))
            unit[0, j] = 1
            if np.linalg.matrix_rank(np.vstack([system, unit])) == rank:
                found.append(f"{_contract}: row {cell} by solving the lines")
    return found


def test_no_hidden_cell_can_be_recovered_from_the_published_totals() -> None:
    # Regression (issue 13): complementary suppression covered month × contract only, so a
    # hidden month was the year's total minus the visible months.
    for seed in (9, 21, 33):
        tables = generate(Shape(participants=60, months=6, seed=seed))
        summary = deidentified(casefund.evaluate(tables, demo_contracts()))["summary"]
        hidden = summary.loc[summary["suppressed"]]
        assert len(hidden) > 0
        assert hidden[["participants", "minutes", "amount"]].isna().all().all()
        shown = summary.loc[~summary["suppressed"]]
        assert (shown["participants"] >= 11).all()
        assert _attack(summary) == []


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 2), st.integers(1, 30)),
        min_size=1,
        max_size=30,
        unique_by=lambda t: (t[0], t[1]),
    )
)
def test_protected_tables_never_give_a_hidden_cell_away(cells: list[tuple[int, int, int]]) -> None:
    from casefund.reports.suppression import ALL, protect

    interior = pd.DataFrame(
        [
            {
                "contract_id": "c",
                "month": f"m{m}",
                "status": f"s{s}",
                "participants": p,
                "minutes": 7 * p + m,
            }
            for m, s, p in cells
        ]
    )
    parts = [interior]
    for key in ("month", "status"):
        other = "status" if key == "month" else "month"
        total = interior.groupby(other, as_index=False).agg(
            participants=("participants", "sum"), minutes=("minutes", "sum")
        )
        parts.append(total.assign(contract_id="c", **{key: ALL}))
    parts.append(
        pd.DataFrame(
            [
                {
                    "contract_id": "c",
                    "month": ALL,
                    "status": ALL,
                    "participants": interior["participants"].sum(),
                    "minutes": interior["minutes"].sum(),
                }
            ]
        )
    )
    table = pd.concat(parts, ignore_index=True)
    hidden = protect(
        table,
        "participants",
        11,
        ["contract_id", "month", "status"],
        ["month", "status"],
        "contract_id",
    )
    published = table.assign(suppressed=hidden)
    assert (published.loc[~hidden, "participants"] >= 11).all()
    assert _attack(published) == []


def test_a_deidentified_run_prints_only_deidentified_totals(tmp_path: Path) -> None:
    data = write_dataset(
        generate(Shape(participants=40, months=2, seed=9)), demo_contracts(), tmp_path / "in"
    )
    identified = runner.invoke(
        app, ["evaluate", "--data", str(data), "--out", str(tmp_path / "id")]
    )
    breakdown = pd.read_csv(tmp_path / "id" / "breakdown.csv")
    public = runner.invoke(
        app, ["evaluate", "--data", str(data), "--out", str(tmp_path / "pub"), "--deidentify"]
    )
    assert identified.exit_code == public.exit_code == 0
    small = breakdown.loc[breakdown["activities"] < 11, "minutes"]
    assert len(small) and "hidden" in public.output
    for minutes in small:
        assert f" {minutes:,} " not in public.output


def _sud_lines(recipient: str | None, consents: list[dict[str, str]]) -> int:
    people = pd.DataFrame([{"participant_id": f"p{i}"} for i in range(12)])
    acts = pd.DataFrame(
        [
            {
                "activity_id": f"a{i}",
                "participant_id": f"p{i}",
                "date": "2024-03-04",
                "minutes": 30,
                "activity": "sud_treatment",
            }
            for i in range(12)
        ]
    )
    result = casefund.evaluate(
        {
            "participants": people,
            "activities": acts,
            "consents": pd.DataFrame(
                consents, columns=["participant_id", "recipient", "scope", "start_date", "end_date"]
            ),
        },
        {"contracts": []},
    )
    summary = deidentified(result, recipient)["summary"]
    cells = summary.loc[(summary["month"] != "all") & (summary["status"] != "all")]
    return int(cells["activities"].fillna(0).sum())


def test_part2_records_are_withheld_without_the_recipients_consent() -> None:
    assert _sud_lines("county", []) == 0
    everyone = [
        {
            "participant_id": f"p{i}",
            "recipient": "county",
            "scope": "sud",
            "start_date": "2024-01-01",
            "end_date": "2024-12-31",
        }
        for i in range(12)
    ]
    assert _sud_lines("county", everyone) == 12
    assert _sud_lines("state", everyone) == 0
    expired = [{**c, "end_date": "2024-02-29"} for c in everyone]
    assert _sud_lines("county", expired) == 0


def test_verify_reports_identical_then_catches_a_changed_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert (
        runner.invoke(app, ["evaluate", "--data", str(FIXTURE), "--out", str(out)]).exit_code == 0
    )
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


def test_verify_covers_the_workbook_and_deidentified_and_eligibility_folders(
    tmp_path: Path,
) -> None:
    # Regression (issue 13): verify checked only the CSVs (a changed casefund.xlsx passed)
    # and could not verify a de-identified folder.
    import openpyxl

    full = tmp_path / "full"
    assert (
        runner.invoke(
            app, ["evaluate", "--data", str(FIXTURE), "--out", str(full), "--xlsx"]
        ).exit_code
        == 0
    )
    assert runner.invoke(app, ["verify", str(full), "--data", str(FIXTURE)]).exit_code == 0
    book = openpyxl.load_workbook(full / "casefund.xlsx")
    book["lines"]["J2"] = 999
    book.save(full / "casefund.xlsx")
    changed = runner.invoke(app, ["verify", str(full), "--data", str(FIXTURE)])
    assert changed.exit_code == 1 and "casefund.xlsx    differs" in changed.output
    public = tmp_path / "public"
    assert (
        runner.invoke(
            app,
            [
                "evaluate",
                "--data",
                str(FIXTURE),
                "--out",
                str(public),
                "--deidentify",
                "--recipient",
                "county",
            ],
        ).exit_code
        == 0
    )
    checked = runner.invoke(app, ["verify", str(public), "--data", str(FIXTURE)])
    assert checked.exit_code == 0 and "summary.csv" in checked.output
    (public / "notes.txt").write_text("added later")
    extra = runner.invoke(app, ["verify", str(public), "--data", str(FIXTURE)])
    assert extra.exit_code == 1 and "notes.txt" in extra.output
    due = tmp_path / "due"
    assert (
        runner.invoke(
            app, ["eligibility", "--data", str(FIXTURE), "--as-of", "2024-06-30", "--out", str(due)]
        ).exit_code
        == 0
    )
    again = runner.invoke(app, ["verify", str(due), "--data", str(FIXTURE)])
    assert again.exit_code == 0 and "recertification.csv" in again.output

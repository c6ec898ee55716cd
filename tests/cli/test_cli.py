"""End-to-end: the CLI on the bundled example and on a fixture folder, read back from files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from casefund.cli import app

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "small_agency"
runner = CliRunner()


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    result = runner.invoke(app, ["demo", "--out", str(out), "--participants", "40"])
    assert result.exit_code == 0, result.output
    return out


def test_demo_writes_every_output_with_provenance(demo_out: Path) -> None:
    for name in ("lines", "claims", "eligibility", "breakdown", "admin_cap", "rejects"):
        frame = pd.read_csv(demo_out / f"{name}.csv", keep_default_na=False)
        assert {"casefund_version", "rules_hash"} <= set(frame.columns), name
    manifest = json.loads((demo_out / "manifest.json").read_text())
    assert manifest["rules_hash"] and manifest["inputs"]["activities"]


def test_demo_conserves_every_accepted_minute(demo_out: Path) -> None:
    lines = pd.read_csv(demo_out / "lines.csv", keep_default_na=False)
    acts = pd.read_csv(demo_out / "input" / "activities.csv", dtype=str, keep_default_na=False)
    rejects = pd.read_csv(demo_out / "rejects.csv", keep_default_na=False)
    refused_rows = set(rejects.query("table == 'activities'")["row"])
    acts["row"] = range(1, len(acts) + 1)
    accepted = acts.loc[~acts["row"].isin(refused_rows)]
    accepted_minutes = accepted.set_index("activity_id")["minutes"].astype(int).sort_index()
    got = lines.query("status != 'rejected'").groupby("activity_id")["minutes"].sum()
    pd.testing.assert_series_equal(
        got.sort_index().astype(int), accepted_minutes, check_names=False
    )
    assert set(lines["status"]) <= {"billable", "bundled", "unbillable", "rejected"}


def test_demo_bills_every_program(demo_out: Path) -> None:
    lines = pd.read_csv(demo_out / "lines.csv", keep_default_na=False)
    billed = set(lines.query("status == 'billable'")["program"])
    assert {"ecm", "tcm", "ryan_white_nmcm", "grant", "health_home", "community_supports"} <= billed


def test_explain_answers_for_a_demo_activity_in_at_most_20_lines(demo_out: Path) -> None:
    lines = pd.read_csv(demo_out / "lines.csv", keep_default_na=False)
    for wanted in ("billable", "unbillable"):
        activity = lines.loc[lines["status"] == wanted, "activity_id"].iloc[0]
        result = runner.invoke(app, ["explain", activity, "--data", str(demo_out / "input")])
        assert result.exit_code == 0, result.output
        text = result.output.strip().splitlines()
        assert 2 <= len(text) <= 20
        assert activity in text[0] and "source:" in result.output


def test_evaluate_on_fixture_folder(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["evaluate", "--data", str(FIXTURE), "--out", str(tmp_path), "--xlsx"]
    )
    assert result.exit_code == 0, result.output
    lines = pd.read_csv(tmp_path / "lines.csv", keep_default_na=False)
    by_id = lines.groupby("activity_id")["status"].agg(lambda s: ";".join(sorted(s)))
    assert by_id["a-tcm-referral"] == "billable"
    assert by_id["a-transport"] == "billable"  # the grant pays what TCM may not
    assert (tmp_path / "casefund.xlsx").exists()


def test_eligibility_command(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["eligibility", "--data", str(FIXTURE), "--as-of", "2024-06-30", "--out", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(tmp_path / "eligibility.csv", keep_default_na=False)
    ecm = frame.query("participant_id == 'p-homeless' and program == 'ecm'")
    assert ecm.set_index("population").loc["homelessness", "eligible"]


def test_bad_contracts_file_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(FIXTURE, data)
    (data / "contracts.yaml").write_text(
        "contracts:\n  - {id: x, payer: X, program: tcm, payment: ffs_unit, rat: 3}\n"
    )
    result = runner.invoke(app, ["evaluate", "--data", str(data), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "contract 'x'" in result.output and "rat" in result.output
    assert "Traceback" not in result.output


def test_bad_as_of_date_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["eligibility", "--data", str(FIXTURE), "--as-of", "June", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2 and "--as-of" in result.output


def test_rules_commands() -> None:
    assert runner.invoke(app, ["rules", "check"]).exit_code == 0
    listed = runner.invoke(app, ["rules", "list", "--program", "tcm"])
    assert "tcm.covered_component" in listed.output
    shown = runner.invoke(app, ["rules", "show", "rw.payer_of_last_resort"])
    assert "300ff-15" in shown.output
    missing = runner.invoke(app, ["rules", "show", "rw.payer_of_last_resrt"])
    assert missing.exit_code == 2 and "did you mean" in missing.output


def test_schema_command(tmp_path: Path) -> None:
    result = runner.invoke(app, ["schema", "--out", str(tmp_path)])
    assert result.exit_code == 0
    activities = json.loads((tmp_path / "activities.schema.json").read_text())
    assert "assessment" in activities["properties"]["activity"]["enum"]
    assert "activity" in activities["required"]
    assert (tmp_path / "contracts.schema.json").exists()


def test_partitioned_run_writes_the_same_files_byte_for_byte(
    demo_out: Path, tmp_path: Path
) -> None:
    """`--partitions` validates inside each partition (bounded memory); outputs and manifest
    must still be exactly those of one pass."""
    pytest.importorskip("dask")
    single, parted = tmp_path / "single", tmp_path / "parted"
    in_process, holding_none = tmp_path / "in_process", tmp_path / "holding_none"
    dask_files = tmp_path / "dask_files"
    for out, extra in (
        (single, []),
        (parted, ["--partitions", "3"]),
        (in_process, ["--partitions", "2", "--workers", "1"]),
        (holding_none, ["--partitions", "2", "--workers", "1", "--hold-mb", "0"]),
        (dask_files, ["--partitions", "3", "--hold-mb", "0"]),
    ):
        result = runner.invoke(
            app, ["evaluate", "--data", str(demo_out / "input"), "--out", str(out), *extra]
        )
        assert result.exit_code == 0, result.output
    written = sorted(p.name for p in single.iterdir())
    assert written == sorted(p.name for p in parted.iterdir())
    for name in written:
        for other in (parted, in_process, holding_none, dask_files):
            assert (single / name).read_bytes() == (other / name).read_bytes(), name


@pytest.mark.parametrize(
    "extra",
    [
        ["--hold-mb", "5"],
        ["--partitions", "2", "--workers", "1", "--hold-mb", "-1"],
    ],
)
def test_hold_mb_without_partitions_is_refused(
    demo_out: Path, tmp_path: Path, extra: list[str]
) -> None:
    """`--hold-mb` means something only for partitioned runs: without partitions it is
    refused (exit 2), not silently ignored; so is a negative amount."""
    result = runner.invoke(
        app, ["evaluate", "--data", str(demo_out / "input"), "--out", str(tmp_path / "o"), *extra]
    )
    assert result.exit_code == 2, result.output
    assert "hold-mb" in result.output


def test_partitioned_deidentified_report_is_the_same(demo_out: Path, tmp_path: Path) -> None:
    """De-identification reads consents from the partitions' combined tables."""
    outs = []
    for extra in ([], ["--partitions", "3", "--workers", "1"]):
        out = tmp_path / f"d{len(outs)}"
        result = runner.invoke(
            app,
            [
                "evaluate",
                "--data",
                str(demo_out / "input"),
                "--out",
                str(out),
                "--deidentify",
                "--recipient",
                "county",
                *extra,
            ],
        )
        assert result.exit_code == 0, result.output
        outs.append(out)
    names = sorted(p.name for p in outs[0].iterdir())
    assert names == sorted(p.name for p in outs[1].iterdir())
    for name in names:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name

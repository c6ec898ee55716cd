"""``casefund evaluate --format parquet``: the same outputs, columns and values as the CSV
files, reproducible, and explainable from the folder."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from casefund.cli import app
from casefund.reports.csv_text import write_frame

runner = CliRunner()


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("formats")
    demo = root / "demo"
    result = runner.invoke(app, ["demo", "--out", str(demo), "--participants", "30"])
    assert result.exit_code == 0, result.output
    parquet = root / "parquet"
    args = ["evaluate", "--data", str(demo / "input"), "--out", str(parquet)]
    result = runner.invoke(app, [*args, "--format", "parquet"])
    assert result.exit_code == 0, result.output
    assert "rejects.parquet" in result.output
    return demo / "input", demo, parquet


def test_every_output_holds_the_csv_values(folders: tuple[Path, Path, Path]) -> None:
    _, csv_folder, parquet_folder = folders
    manifest = json.loads((parquet_folder / "manifest.json").read_text())
    assert manifest["format"] == "parquet"
    csv_names = {p.stem for p in csv_folder.glob("*.csv")}
    assert {p.stem for p in parquet_folder.glob("*.parquet")} == csv_names
    for name in sorted(csv_names):
        text = io.BytesIO()
        write_frame(pq.read_table(parquet_folder / f"{name}.parquet").to_pandas(), text)
        assert text.getvalue() == (csv_folder / f"{name}.csv").read_bytes(), name


def test_categories_stay_dictionary_encoded(folders: tuple[Path, Path, Path]) -> None:
    schema = pq.read_schema(folders[2] / "denials.parquet")
    assert str(schema.field("rule_id").type).startswith("dictionary")


def test_explain_from_a_parquet_folder_matches_the_csv_folder(
    folders: tuple[Path, Path, Path],
) -> None:
    _, csv_folder, parquet_folder = folders
    lines = pd.read_csv(csv_folder / "lines.csv", keep_default_na=False)
    for status in ("billable", "unbillable"):
        activity = lines.loc[lines["status"] == status, "activity_id"].iloc[0]
        answers = [
            runner.invoke(app, ["explain", "--from", str(folder), activity, "--json"])
            for folder in (csv_folder, parquet_folder)
        ]
        assert answers[0].exit_code == answers[1].exit_code == 0
        assert answers[0].output == answers[1].output


def test_a_parquet_folder_verifies(folders: tuple[Path, Path, Path]) -> None:
    data, _, parquet_folder = folders
    result = runner.invoke(app, ["verify", str(parquet_folder), "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert "lines.parquet" in result.output and "differs" not in result.output


def test_an_unknown_format_is_refused(tmp_path: Path, folders: tuple[Path, Path, Path]) -> None:
    args = ["evaluate", "--data", str(folders[0]), "--out", str(tmp_path / "o")]
    result = runner.invoke(app, [*args, "--format", "xml"])
    assert result.exit_code == 2 and "--format" in result.output
    result = runner.invoke(app, [*args, "--format", "parquet", "--deidentify"])
    assert result.exit_code == 2 and "CSV" in result.output


@pytest.mark.parametrize("form", ["csv", "parquet"])
def test_a_partitioned_folder_verifies_against_one_pass(
    tmp_path: Path, folders: tuple[Path, Path, Path], form: str
) -> None:
    """A partitioned run writes its denials from the partitions' files a day at a time
    (Parquet: a row group per day); `verify` remakes it in one pass and finds it the same."""
    data = folders[0]
    out = tmp_path / "parted"
    args = ["evaluate", "--data", str(data), "--out", str(out), "--partitions", "3"]
    result = runner.invoke(app, [*args, "--format", form])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["verify", str(out), "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert f"denials.{form}" in result.output and "differs" not in result.output

"""A partitioned run leaves each partition's denials in its own file: the driver never
gathers them (regression: at ten million activities it held 130 million denial rows two or
three times over, 16 GB), yet every output is the single pass's, byte for byte."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

import casefund
from casefund.errors import InputError
from casefund.reports.stored import StoredTable
from casefund.scaleout import evaluate_raw
from casefund.synthetic import Shape, demo_contracts, generate


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return generate(Shape(participants=45, months=4, seed=33, malformed_share=0.02))


def _stored(evaluation: casefund.Evaluation) -> StoredTable:
    table = evaluation.frames["denials"]
    assert isinstance(table, StoredTable)
    return table


def test_regression_partition_denials_are_stored_not_gathered(
    tables: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    whole = casefund.evaluate(tables, demo_contracts())
    parted = evaluate_raw(tables, demo_contracts(), 4, spill=tmp_path)
    stored = _stored(parted)
    assert len(stored) == len(whole.denials) > 0
    assert len(stored.pieces) == 4
    pd.testing.assert_frame_equal(
        whole.denials.astype(object), parted.denials.astype(object), check_dtype=False
    )
    # The folder holds only the pieces while the result lives; it goes with the result.
    (run,) = list(tmp_path.iterdir())
    assert sorted(p.name for p in run.rglob("*") if p.is_file()) == ["denials.arrow"] * 4
    del parted, stored
    gc.collect()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("form", ["csv", "parquet"])
def test_written_outputs_are_the_single_pass_files(
    tables: dict[str, pd.DataFrame], tmp_path: Path, form: str
) -> None:
    one, many = tmp_path / "one", tmp_path / "many"
    casefund.evaluate(tables, demo_contracts()).write(one, form=form)
    evaluate_raw(tables, demo_contracts(), 3).write(many, form=form)
    names = sorted(p.name for p in one.iterdir())
    assert names == sorted(p.name for p in many.iterdir())
    for name in names:
        if form == "parquet" and name.endswith(".parquet"):
            left = pd.read_parquet(one / name).astype(object)
            right = pd.read_parquet(many / name).astype(object)
            pd.testing.assert_frame_equal(left, right, obj=name)
        elif name == "manifest.json":
            assert json.loads((one / name).read_text()) == json.loads((many / name).read_text())
        else:
            assert (one / name).read_bytes() == (many / name).read_bytes(), name


def test_explain_and_reasons_read_the_stored_denials(tables: dict[str, pd.DataFrame]) -> None:
    whole = casefund.evaluate(tables, demo_contracts())
    parted = evaluate_raw(tables, demo_contracts(), 3)
    _stored(parted)
    unbillable = whole.lines.query("status == 'unbillable'")["activity_id"].astype(str)
    for activity in unbillable.iloc[:: max(len(unbillable) // 5, 1)]:
        assert parted.explain(activity) == whole.explain(activity)
    assert set(parted.reasons["rule_id"]) == set(whole.reasons["rule_id"])


def test_an_empty_run_stores_a_header_only(tmp_path: Path) -> None:
    tables = generate(Shape(participants=3, months=1, seed=2))
    tables["activities"] = tables["activities"].iloc[0:0]
    parted = evaluate_raw(tables, demo_contracts(), 2)
    assert len(parted.frames["denials"]) == 0
    parted.write(tmp_path / "out")
    header = (tmp_path / "out" / "denials.csv").read_text().splitlines()
    assert len(header) == 1 and header[0].startswith("activity_id,contract_id,rule_id")


def test_a_piece_changed_after_the_run_is_refused(
    tables: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    parted = evaluate_raw(tables, demo_contracts(), 2)
    piece = _stored(parted).pieces[0]
    with pa.ipc.open_file(pa.memory_map(str(piece.path))) as reader:
        first = reader.get_batch(0)
        schema = reader.schema
    piece.path.unlink()
    with pa.OSFile(str(piece.path), "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
        writer.write_batch(first.slice(0, 1))  # one batch of one row: cut short
    with pytest.raises(InputError, match="refusing a partial or replaced file"):
        parted.write(tmp_path / "out")


def test_a_partitioned_workbook_is_the_single_pass_workbook(
    tables: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    """The workbook gathers the stored denials into their sheet: the same bytes."""
    pytest.importorskip("openpyxl")
    one, many = tmp_path / "one", tmp_path / "many"
    casefund.evaluate(tables, demo_contracts()).write(one, xlsx=True)
    evaluate_raw(tables, demo_contracts(), 3).write(many, xlsx=True)
    assert (one / "casefund.xlsx").read_bytes() == (many / "casefund.xlsx").read_bytes()

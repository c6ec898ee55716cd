"""The manifest's input hashes: a file's bytes as read (so an audit can tell it is the very
file), a DataFrame's accepted rows; the same for one pass and for partitions."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

import casefund
from casefund.io.load import load_dataset
from casefund.scaleout import evaluate_raw
from casefund.synthetic import Shape, demo_contracts, generate, write_dataset


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tables = generate(Shape(participants=25, months=3, seed=5))
    return write_dataset(tables, demo_contracts(), tmp_path_factory.mktemp("digests") / "in")


def test_a_file_is_hashed_from_its_bytes(folder: Path) -> None:
    data = load_dataset(folder)
    for name in ("participants", "activities", "coverage"):
        expected = hashlib.sha256((folder / f"{name}.csv").read_bytes()).hexdigest()[:16]
        assert data.digests[name] == expected
    hashes = casefund.evaluate(data).input_hashes
    assert hashes["activities"] == data.digests["activities"]


@pytest.mark.parametrize("spill", [True, False])
def test_partitions_record_the_same_hashes(folder: Path, spill: bool) -> None:
    whole = casefund.evaluate(folder)
    assert evaluate_raw(folder, None, 3, spill=spill).input_hashes == whole.input_hashes


def test_a_reformatted_file_with_the_same_rows_is_told_apart(folder: Path, tmp_path: Path) -> None:
    """The accepted rows are equal, the file is not: verify must say it is not the input."""
    copy = tmp_path / "in"
    copy.mkdir()
    for path in folder.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    activities = (copy / "activities.csv").read_text()
    (copy / "activities.csv").write_text(activities.replace("\n", "\r\n"))
    before = casefund.evaluate(folder).input_hashes
    after = casefund.evaluate(copy).input_hashes
    assert after["activities"] != before["activities"]
    assert after["participants"] == before["participants"]


def test_frames_given_in_python_are_hashed_by_their_rows(folder: Path) -> None:
    tables = {
        p.stem: pd.read_csv(p, dtype=str, keep_default_na=False) for p in folder.glob("*.csv")
    }
    one = casefund.evaluate(tables, demo_contracts()).input_hashes
    two = casefund.evaluate({k: v.copy() for k, v in tables.items()}, demo_contracts()).input_hashes
    assert one == two
    assert one["activities"] != load_dataset(folder).digests["activities"]


def test_frames_given_in_python_are_hashed_only_when_the_hashes_are_read(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hashing a table's rows costs about a second at a million activities: an evaluation
    that is never written nor asked for its manifest does not pay for it, and one that is
    gets the same hashes as before, taken once."""
    from casefund.io import hashes as hashes_module

    tables = {
        p.stem: pd.read_csv(p, dtype=str, keep_default_na=False) for p in folder.glob("*.csv")
    }
    expected = hashes_module.input_hashes(load_dataset(tables, demo_contracts()))
    taken: list[int] = []
    real = hashes_module.rows_hash

    def counted(frame: pd.DataFrame) -> str:
        taken.append(len(frame))
        return real(frame)

    monkeypatch.setattr(hashes_module, "rows_hash", counted)
    evaluation = casefund.evaluate(tables, demo_contracts())
    assert taken == []
    assert evaluation.manifest()["inputs"] == expected
    hashed = len(taken)
    assert hashed > 0
    assert dict(evaluation.input_hashes) == expected
    assert len(taken) == hashed  # taken once

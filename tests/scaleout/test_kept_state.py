"""What a partition keeps between stages: data formats only, read back exactly, sealed."""

from __future__ import annotations

import secrets
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casefund.engine.adjudication import Adjudication
from casefund.engine.decide import Decisions
from casefund.scaleout import raw_partitions
from casefund.scaleout.kept import KeptStateError, keep, load_kept
from casefund.synthetic import Shape, demo_contracts, generate, write_dataset


def _same_frame(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Equal values and the very same dtypes (string storage and categories included)."""
    assert list(left.columns) == list(right.columns)
    for column in left.columns:
        a, b = left[column], right[column]
        assert a.dtype == b.dtype, column
        assert repr(a.dtype) == repr(b.dtype), column
        if isinstance(a.dtype, pd.CategoricalDtype):
            assert a.cat.categories.dtype == b.cat.categories.dtype, column
            assert a.cat.categories.tolist() == b.cat.categories.tolist(), column
    pd.testing.assert_frame_equal(left, right, check_exact=True)


def _same_decisions(left: Decisions, right: Decisions) -> None:
    assert [r for r, _ in left.denied] == [r for r, _ in right.denied]
    for (_, a), (_, b) in zip(left.denied, right.denied, strict=True):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype
    assert left.unknown.keys() == right.unknown.keys()
    for key in left.unknown:
        np.testing.assert_array_equal(left.unknown[key], right.unknown[key])
    assert [r for r, _ in left.warned] == [r for r, _ in right.warned]
    assert left.qualified.keys() == right.qualified.keys()
    for key, (population, tested, met) in left.qualified.items():
        assert right.qualified[key][0] == population
        np.testing.assert_array_equal(right.qualified[key][1], tested)
        np.testing.assert_array_equal(right.qualified[key][2], met)
    assert left.skipped == right.skipped


@pytest.fixture(scope="module")
def validated(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, object]:
    """A validated partition of a messy dataset (refused rows in most tables), and its
    adjudication with every contract's decisions made."""
    from casefund.allocate.waterfall import allocate, contract_order
    from casefund.rules.book import rule_book

    folder = tmp_path_factory.mktemp("data")
    tables = generate(Shape(participants=40, months=4, seed=5, malformed_share=0.05))
    write_dataset(tables, demo_contracts(), folder)
    parts, _ = raw_partitions(folder, None, 2, tmp_path_factory.mktemp("spill"))
    data = parts[0].load()
    adjudication = Adjudication.of(data)
    allocate(adjudication, contract_order(data.contracts), rule_book(), log_denials=False)
    assert adjudication.decisions  # every contract decided
    return data, adjudication


def test_kept_tables_and_decisions_read_back_exactly(validated, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data, adjudication = validated
    tables = {**data.tables, **{f"refused {k}": v for k, v in data.refused.items()}}
    assert any(len(v) == 0 for v in tables.values())  # empty tables keep their categories too
    seal = secrets.token_bytes(32)
    keep(tmp_path / "kept", seal, tables, adjudication.decisions)
    back, decisions, _paused = load_kept(tmp_path / "kept", seal)
    assert back.keys() == tables.keys()
    for name, frame in tables.items():
        _same_frame(frame.reset_index(drop=True), back[name])
    assert decisions.keys() == adjudication.decisions.keys()
    for key, (per_activity, per_month) in adjudication.decisions.items():
        _same_decisions(per_activity, decisions[key][0])
        _same_decisions(per_month, decisions[key][1])


def test_the_rebuilt_adjudication_is_the_original(validated, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from casefund.io.load import Dataset

    data, adjudication = validated
    seal = secrets.token_bytes(32)
    keep(tmp_path / "kept", seal, dict(data.tables), {})
    tables, _, _ = load_kept(tmp_path / "kept", seal)
    rebuilt = Adjudication.of(
        Dataset(tables, data.contracts, data.rejects, refused=dict(data.refused))
    )
    _same_frame(adjudication.acts, rebuilt.acts)
    np.testing.assert_array_equal(adjudication.hourly_cost, rebuilt.hourly_cost)
    np.testing.assert_array_equal(adjudication.months.as_of, rebuilt.months.as_of)


@settings(max_examples=25, deadline=None)
@given(where=st.floats(0.0, 1.0, exclude_max=True), bit=st.integers(0, 7))
def test_any_changed_byte_is_refused_before_parsing(
    tmp_path_factory: pytest.TempPathFactory, where: float, bit: int
) -> None:
    path = tmp_path_factory.mktemp("kept") / "kept"
    seal = secrets.token_bytes(32)
    frame = pd.DataFrame({"id": pd.array(["a", None, "c"], dtype="string[python]")})
    keep(
        path, seal, {"t": frame}, {"k": (Decisions(denied=[("r", np.ones(3, bool))]), Decisions())}
    )
    blob = bytearray(path.read_bytes())
    blob[int(where * len(blob))] ^= 1 << bit
    path.write_bytes(bytes(blob))
    with pytest.raises(KeptStateError, match="refusing to read it"):
        load_kept(path, seal)


def test_a_cut_or_foreign_file_is_refused(tmp_path: Path) -> None:
    seal = secrets.token_bytes(32)
    keep(tmp_path / "kept", seal, {"t": pd.DataFrame({"n": [1, 2]})}, {})
    whole = (tmp_path / "kept").read_bytes()
    (tmp_path / "kept").write_bytes(whole[: len(whole) - 5])
    with pytest.raises(KeptStateError):
        load_kept(tmp_path / "kept", seal)
    (tmp_path / "kept").write_bytes(whole)
    with pytest.raises(KeptStateError):  # another run's key
        load_kept(tmp_path / "kept", secrets.token_bytes(32))
    (tmp_path / "tiny").write_bytes(b"x")
    with pytest.raises(KeptStateError):
        load_kept(tmp_path / "tiny", seal)


def test_a_column_of_python_objects_is_not_kept(tmp_path: Path) -> None:
    frame = pd.DataFrame({"odd": pd.Series([object(), object()], dtype=object)})
    with pytest.raises((TypeError, ValueError)):
        keep(tmp_path / "kept", secrets.token_bytes(32), {"t": frame}, {})


def test_a_kept_file_is_never_written_through_a_link(tmp_path: Path) -> None:
    (tmp_path / "kept").symlink_to(tmp_path / "victim")
    keep(tmp_path / "kept", secrets.token_bytes(32), {"t": pd.DataFrame({"n": [1]})}, {})
    assert not (tmp_path / "victim").exists()
    assert not (tmp_path / "kept").is_symlink()

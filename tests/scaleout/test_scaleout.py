"""Partitioned and Dask evaluation give exactly the single-pass result, budgets included."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import casefund
from casefund.io.load import load_dataset
from casefund.scaleout import evaluate_partitioned
from casefund.synthetic import Shape, demo_contracts, generate, write_dataset

OUTPUTS = (
    "lines",
    "denials",
    "reasons",
    "claims",
    "eligibility",
    "breakdown",
    "admin_cap",
    "caseloads",
    "functions",
)


def same(a: casefund.Evaluation, b: casefund.Evaluation) -> None:
    for name in OUTPUTS:
        left = getattr(a, name).astype(object).reset_index(drop=True)
        right = getattr(b, name).astype(object).reset_index(drop=True)
        pd.testing.assert_frame_equal(left, right, obj=name)


@pytest.fixture(scope="module")
def dataset() -> casefund.Dataset:
    contracts = demo_contracts()
    for contract in contracts["contracts"]:
        if contract["id"] == "foundation_grant":
            contract["caps"]["budget"] = 2500.0  # binds early: several passes are needed
        if contract["id"] == "rw_part_a_nmcm":
            contract["caps"]["budget"] = 1500.0
    return load_dataset(generate(Shape(participants=60, months=6, seed=8)), contracts)


@pytest.mark.parametrize("holding", [True, False], ids=["held", "rebuilt"])
@pytest.mark.parametrize("parts", [2, 5])
def test_partitions_reproduce_the_single_pass(
    dataset: casefund.Dataset, parts: int, holding: bool
) -> None:
    """Whether partitions hold their adjudication between stages or start each over."""
    from casefund.scaleout import run_locally

    whole = casefund.evaluate(dataset)
    budgets = (
        whole.lines.query("status == 'billable'")
        .groupby("contract_id", observed=True)["amount"]
        .sum()
    )
    assert budgets["foundation_grant"] == pytest.approx(2500.0, abs=0.01)  # it does bind
    same(whole, evaluate_partitioned(dataset, parts, run_locally if holding else kept_nowhere))


def test_dask_on_a_local_cluster_matches_pandas(dataset: casefund.Dataset) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        result = casefund.evaluate(
            dataset, backend="dask", partitions=4, scheduler=cluster.scheduler_address
        )
    same(casefund.evaluate(dataset), result)


def _messy_tables() -> dict[str, pd.DataFrame]:
    """Generated tables with bad rows, a repeated id across two participants (one copy also
    bad in another field, one pair both good) and padded ids, as exports arrive."""
    tables = generate(Shape(participants=40, months=4, seed=21, malformed_share=0.03))
    acts = tables["activities"].astype(str).copy()
    acts.loc[5, "activity_id"] = acts.loc[400, "activity_id"]  # both copies otherwise good
    acts.loc[9, "activity_id"] = acts.loc[410, "activity_id"]
    acts.loc[9, "minutes"] = "abc"  # this copy is refused for its minutes: the other stays
    acts.loc[11, "participant_id"] = "  " + acts.loc[11, "participant_id"] + " "
    tables["activities"] = acts
    return tables


@pytest.mark.parametrize("parts", [1, 3, 7])
def test_raw_partitions_reproduce_the_single_pass(parts: int) -> None:
    from casefund.scaleout import evaluate_raw

    tables = _messy_tables()
    contracts = demo_contracts()
    whole = casefund.evaluate(tables, contracts)
    streamed = evaluate_raw(tables, contracts, parts)
    same(whole, streamed)
    pd.testing.assert_frame_equal(
        whole.rejects.reset_index(drop=True), streamed.rejects.reset_index(drop=True)
    )
    assert streamed.input_hashes == whole.input_hashes
    repeated = set(whole.rejects.query("table == 'activities' and field == 'activity_id'")["row"])
    assert {6, 401} <= repeated  # the good pair: both copies refused (1-based rows)
    assert 411 not in repeated and 10 not in repeated  # the other pair keeps its good copy


def test_raw_partitions_on_dask_processes_match() -> None:
    pytest.importorskip("dask")
    from casefund.scaleout import dask_runner, evaluate_raw

    tables = _messy_tables()
    contracts = demo_contracts()
    same(
        casefund.evaluate(tables, contracts),
        evaluate_raw(tables, contracts, 3, dask_runner(workers=2)),
    )


def test_spilled_held_and_mixed_object_partitions_agree(tmp_path: Path) -> None:
    """Partitions spilled to Arrow files, held in memory, or (a DataFrame of mixed Python
    objects that Arrow cannot type) kept in memory despite spilling: all one answer."""
    from casefund.scaleout import evaluate_raw

    tables = _messy_tables()
    mixed = tables["activities"].astype(object).copy()
    mixed.loc[::7, "minutes"] = pd.to_numeric(mixed.loc[::7, "minutes"], errors="coerce")
    tables["activities"] = mixed
    contracts = demo_contracts()
    whole = casefund.evaluate(tables, contracts)
    for spill in (True, False, tmp_path):
        same(whole, evaluate_raw(tables, contracts, 3, spill=spill))
    assert list(tmp_path.iterdir()) == []  # the run's private folder is gone with it


def test_files_planted_in_a_shared_spill_folder_are_never_read(tmp_path: Path) -> None:
    # Regression (issue 13): Arrow spill files carried no MAC, so rows planted in a
    # pre-existing spill folder were billed.
    from casefund.scaleout import evaluate_raw

    tables = _messy_tables()
    contracts = demo_contracts()
    whole = casefund.evaluate(tables, contracts)
    planted = tmp_path / "part-0000"
    planted.mkdir()
    extra = tables["participants"].assign(participant_id="INTRUDER")
    extra.assign(_row=1).to_feather(planted / "participants.arrow")
    (planted / "adjudication.kept").symlink_to(tmp_path / "victim.txt")
    same(whole, evaluate_raw(tables, contracts, 3, spill=tmp_path))
    assert not (tmp_path / "victim.txt").exists()


def test_a_worker_that_cannot_read_its_rows_fails_loudly(tmp_path: Path) -> None:
    # Regression (issue 13): a Dask worker without the spill folder evaluated "no rows".
    from casefund.scaleout import raw_partitions, run_part
    from casefund.scaleout.parts import PartitionError

    tables = _messy_tables()
    data = tmp_path / "data"
    write_dataset(tables, demo_contracts(), data)
    parts, _ = raw_partitions(data, None, 2, tmp_path / "spill")
    victim = next(p for p in parts if p.spilled.get("activities"))
    (victim.folder / "activities.arrow").unlink()
    with pytest.raises(PartitionError, match="cannot read the partition's activities rows"):
        run_part(victim, {})


def test_a_spill_file_is_never_written_through_a_link(tmp_path: Path) -> None:
    from casefund.io.own_files import create_new

    (tmp_path / "link").symlink_to(tmp_path / "target")
    with pytest.raises(OSError):
        create_new(tmp_path / "link")
    assert not (tmp_path / "target").exists()


def _count_loads_and_decisions(
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[list[object], list[int]]:
    """Lists that grow with each partition validated and each rule decision made."""
    import casefund.engine.adjudication as adjudication
    from casefund.scaleout import RawPart

    validated: list[object] = []
    decided: list[int] = []
    load, decide = RawPart.load, adjudication.decide

    def counted_load(part: RawPart) -> casefund.Dataset:
        validated.append(part)
        return load(part)

    def counted_decide(*args, **kwargs):  # type: ignore[no-untyped-def]
        decided.append(1)
        return decide(*args, **kwargs)

    monkeypatch.setattr(RawPart, "load", counted_load)
    monkeypatch.setattr(adjudication, "decide", counted_decide)
    return validated, decided


def kept_nowhere(tasks):  # type: ignore[no-untyped-def]
    """Partitions run locally holding nothing in memory (as on Dask)."""
    from casefund.scaleout import run_locally

    return run_locally(tasks, hold_bytes=0)


def _tight_budgets() -> dict[str, object]:
    contracts = demo_contracts()
    for contract in contracts["contracts"]:
        if contract["id"] == "foundation_grant":
            contract["caps"]["budget"] = 2500.0
        if contract["id"] == "rw_part_a_nmcm":
            contract["caps"]["budget"] = 900.0
    return contracts


def test_budget_passes_pay_from_the_kept_adjudication(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a spill folder, each partition validates its rows and makes its rule decisions
    once; the passes that settle binding budgets rebuild the adjudication from what it kept
    (validated tables and decisions) and pay from it, and the answer is still the single
    pass's. Without one, every pass starts over: same answer. (Nothing held in memory
    here: ``hold_bytes=0``, as on Dask.)"""
    from casefund.scaleout import evaluate_raw, run_locally

    tables = _messy_tables()
    contracts = _tight_budgets()
    whole = casefund.evaluate(tables, contracts)
    paid = (
        whole.lines.query("status == 'billable'")
        .groupby("contract_id", observed=True)["amount"]
        .sum()
    )
    assert paid["foundation_grant"] == pytest.approx(2500.0, abs=0.01)  # both budgets bind
    assert 900.0 - 22.0 < paid["rw_part_a_nmcm"] <= 900.0  # whole $22 units: 880 of 900
    validated, decided = _count_loads_and_decisions(monkeypatch)
    kept, before = [], []

    def watching(tasks):  # type: ignore[no-untyped-def]
        kept.append(len(list(tmp_path.glob("casefund-run-*/part-*/adjudication.kept"))))
        before.append((len(validated), len(decided)))
        return run_locally(tasks, hold_bytes=0)

    same(whole, evaluate_raw(tables, contracts, 3, watching, spill=tmp_path))
    assert len(validated) == 3  # once per partition: the two budget passes validated nothing
    assert kept == [0, 3, 3]  # kept in the run's own folder after the first pass
    first_pass = before[1][1]
    assert first_pass > 0 and len(decided) == first_pass  # no rule decided again
    validated.clear()
    decided.clear()
    same(whole, evaluate_raw(tables, contracts, 3, kept_nowhere, spill=False))
    assert len(validated) == 9  # nowhere to keep it: three passes of three partitions
    assert len(decided) == 3 * first_pass
    validated.clear()
    decided.clear()
    same(whole, evaluate_raw(tables, contracts, 3, spill=False))
    assert len(validated) == 3  # run locally, held in memory: no folder needed
    assert len(decided) == first_pass


def test_an_adjudication_not_sealed_by_this_run_is_refused(tmp_path: Path) -> None:
    """A kept file changed between passes (or left by another run, or cut short) is refused
    before any of it is parsed."""
    from casefund.scaleout import evaluate_raw, run_locally
    from casefund.scaleout.kept import KeptStateError

    passes = []

    def tampering(tasks):  # type: ignore[no-untyped-def]
        if passes:  # after the first pass: flip one byte of one partition's kept file
            target = next(tmp_path.glob("casefund-run-*/part-0001/adjudication.kept"))
            blob = bytearray(target.read_bytes())
            blob[len(blob) // 2] ^= 1
            target.write_bytes(bytes(blob))
        passes.append(len(tasks))
        return run_locally(tasks, hold_bytes=0)

    with pytest.raises(KeptStateError, match="refusing to read it"):
        evaluate_raw(_messy_tables(), _tight_budgets(), 3, tampering, spill=tmp_path)
    assert passes == [3, 3]  # the first budget pass stopped at the changed file


def test_partitions_run_in_this_process_hold_their_adjudication_between_stages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run locally, partitions hold what they decided in memory between stages: no kept
    file is written, nothing is validated or decided twice, the answer is the single
    pass's, and nothing is left held once the lines are built."""
    from casefund.scaleout import evaluate_raw, run_locally

    tables = _messy_tables()
    contracts = _tight_budgets()
    whole = casefund.evaluate(tables, contracts)
    validated, decided = _count_loads_and_decisions(monkeypatch)
    kept: list[int] = []
    parts: list[list[Any]] = []

    def watching(tasks):  # type: ignore[no-untyped-def]
        kept.append(len(list(tmp_path.glob("casefund-run-*/part-*/adjudication.kept"))))
        parts.append([task[0] for task in tasks])
        return run_locally(tasks)

    same(whole, evaluate_raw(tables, contracts, 3, watching, spill=tmp_path))
    assert len(parts) == 3  # the first stage, a budget pass, the lines
    assert all(later is first for later, first in zip(parts[1], parts[0], strict=True))
    assert kept == [0, 0, 0]  # held, not written
    assert len(validated) == 3
    first = decided.copy()
    validated.clear()
    decided.clear()
    same(whole, evaluate_raw(tables, contracts, 3, spill=tmp_path))
    assert len(validated) == 3 and len(decided) == len(first)
    assert all(part.held is None for part in parts[0])  # released with the lines


def test_holding_stops_at_its_bound_and_the_rest_keep_their_files(tmp_path: Path) -> None:
    """Each partition may hold an equal share of the bound: with a share that fits only the
    smallest partition's state, that one holds it in memory and the others keep their
    sealed files; the answer is the same either way."""
    import pickle

    from casefund.scaleout import evaluate_raw, run_locally

    tables = _messy_tables()
    contracts = _tight_budgets()
    whole = casefund.evaluate(tables, contracts)
    sizes: list[int] = []
    files: list[int] = []

    def probing(tasks):  # type: ignore[no-untyped-def]
        results = run_locally(tasks)
        if not sizes:  # each partition's estimate, all held under the default bound
            sizes.extend(t[0].held.size for t in tasks if t[0].held is not None)
        return results

    same(whole, evaluate_raw(tables, contracts, 3, probing, spill=tmp_path))
    assert len(sizes) == 3 and len(set(sizes)) > 1  # all held; not all the same size
    share = min(sizes)  # the same partitions give the same estimates
    holders = [size <= share for size in sizes]

    def bounded(tasks):  # type: ignore[no-untyped-def]
        results = run_locally(tasks, hold_bytes=share * len(tasks))
        if tasks[0][2] == "evaluate":
            assert [t[0].held is not None for t in tasks] == holders
            held = next(t[0] for t in tasks if t[0].held is not None)
            assert pickle.loads(pickle.dumps(held)).held is None  # never travels
            files.append(len(list(tmp_path.glob("casefund-run-*/part-*/adjudication.kept"))))
        return results

    same(whole, evaluate_raw(tables, contracts, 3, bounded, spill=tmp_path))
    assert files == [3 - sum(holders)]  # the others kept their state in their files


def test_more_partitions_than_participants_leaves_empty_ones_harmless() -> None:
    from casefund.scaleout import evaluate_raw

    tables = generate(Shape(participants=6, months=2, seed=2, malformed_share=0.02))
    contracts = demo_contracts()
    same(casefund.evaluate(tables, contracts), evaluate_raw(tables, contracts, 12))


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_files_dealt_in_batches_reproduce_the_single_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    """Input files are read in batches (here of 97 rows) straight into partition files; a
    repeated id whose copies sit in different batches and partitions is still refused."""
    import casefund.scaleout.files
    from casefund.scaleout import evaluate_raw

    monkeypatch.setattr(casefund.scaleout.files, "BATCH_ROWS", 97)
    tables = _messy_tables()
    for name, frame in tables.items():
        if suffix == "csv":
            frame.to_csv(tmp_path / f"{name}.csv", index=False)
        else:
            frame.astype(str).to_parquet(tmp_path / f"{name}.parquet", index=False)
    contracts = demo_contracts()
    whole = casefund.evaluate(tmp_path, contracts)
    streamed = evaluate_raw(tmp_path, contracts, 4)
    same(whole, streamed)
    pd.testing.assert_frame_equal(
        whole.rejects.reset_index(drop=True), streamed.rejects.reset_index(drop=True)
    )
    assert streamed.input_hashes == whole.input_hashes
    assert {6, 401} <= set(
        streamed.rejects.query("table == 'activities' and field == 'activity_id'")["row"]
    )


@given(
    st.lists(
        st.tuples(st.integers(0, 2**40), st.integers(0, 3), st.integers(0, 2**40)),
        min_size=1,
        max_size=60,
    )
)
@settings(max_examples=60, deadline=None)
def test_packed_sort_order_is_a_stable_lexsort(rows: list[tuple[int, int, int]]) -> None:
    """Keys of 41 + 2 + 41 bits do not fit one int64: the packed key is re-ranked before
    the last key is folded in, and the order is still exactly a stable lexsort."""
    from casefund.scaleout.combine import _sort_order

    keys = [np.array(column, dtype=np.int64) for column in zip(*rows, strict=True)]
    expected = np.lexsort(tuple(reversed(keys)))
    assert _sort_order(iter(keys)).tolist() == expected.tolist()


def test_a_partition_leaves_arrows_default_pool_as_it_found_it() -> None:
    """Partitions allocate Arrow memory from the C heap (so freed memory can be returned),
    then put back whatever pool the caller had."""
    pa = pytest.importorskip("pyarrow")
    from casefund.scaleout import evaluate_raw

    before = pa.default_memory_pool().backend_name
    tables = generate(Shape(participants=8, months=2, seed=3))
    contracts = _tight_budgets()
    same(casefund.evaluate(tables, contracts), evaluate_raw(tables, contracts, 2))
    assert pa.default_memory_pool().backend_name == before


def test_regression_a_library_run_leaves_the_callers_process_as_it_was() -> None:
    """Bug: evaluating partitions set glibc's mmap threshold and trimmed the heap in the
    caller's process and switched Arrow's default memory pool while partitions ran. Those
    are process-wide; only an opt-in bootstrap (the casefund command, a worker plugin)
    changes them now. Run in a fresh interpreter: the CLI tests tune their own process."""
    script = """
import pyarrow as pa
import casefund
from casefund.scaleout import worker
from casefund.synthetic import Shape, demo_contracts, generate
before = pa.default_memory_pool().backend_name
casefund.evaluate(generate(Shape(participants=20, months=2, seed=3)), demo_contracts(),
                  partitions=3)
print(before == pa.default_memory_pool().backend_name, worker._state["tuned"])
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["True", "False"]


@pytest.mark.parametrize("partitions", [1, 2, 3])
def test_regression_a_misspelt_table_name_is_refused_however_many_partitions(
    partitions: int,
) -> None:
    """Bug: the partitioned reader had its own copy of table-name handling and ignored a
    misspelt table with two partitions (one pass refused it)."""
    tables = {
        "participants": pd.DataFrame({"participant_id": ["p1"]}),
        "activites": pd.DataFrame({"activity_id": ["a1"]}),
    }
    with pytest.raises(casefund.InputError, match=r"unknown table.*did you mean 'activities'"):
        casefund.evaluate(tables, partitions=partitions)


# Differential property: any partitioning of any agency, under any budgets, gives the single
# pass's outputs, whether partitions hold their state between stages, keep it in their
# files or start every stage over.

BUDGETED = ("rw_part_a_nmcm", "city_diversion_grant", "foundation_grant")
# Budgets from "binds on the first days" to "never binds" for a small agency.
budget = st.one_of(st.none(), st.sampled_from([0.0, 45.0, 300.0, 1250.5, 4000.0, 1e7]))


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 10_000),
    participants=st.integers(1, 14),
    months=st.integers(1, 3),
    budgets=st.tuples(budget, budget, budget),
    parts=st.integers(1, 5),
    keeping=st.sampled_from(["held", "files", "nowhere"]),
)
def test_any_partitioning_under_any_budgets_is_the_single_pass(
    tmp_path: Path,
    seed: int,
    participants: int,
    months: int,
    budgets: tuple[float | None, ...],
    parts: int,
    keeping: str,
) -> None:
    tables = generate(
        Shape(participants=participants, months=months, seed=seed, malformed_share=0.02)
    )
    contracts: dict[str, Any] = demo_contracts()
    for contract in contracts["contracts"]:
        if contract["id"] in BUDGETED:
            contract["caps"]["budget"] = budgets[BUDGETED.index(contract["id"])]
    from casefund.scaleout import evaluate_raw, run_locally

    hold_bytes = 1 << 30 if keeping == "held" else 0

    def runner(tasks: Any, progress: Any = None) -> Any:
        return run_locally(tasks, progress, hold_bytes=hold_bytes)

    spill: bool | Path = False if keeping == "nowhere" else tmp_path
    same(
        casefund.evaluate(tables, contracts),
        evaluate_raw(tables, contracts, parts, runner, spill=spill),
    )


def test_regression_partitions_do_not_hash_rows_the_driver_hashed_as_files(
    tmp_path: Path,
) -> None:
    # Bug (session 16): the partitions dealt from files were built without the tables the
    # driver had already hashed from their bytes, so every partition hashed every table's
    # rows again (about 5 % of a partition's first stage) for a hash nobody read.
    from casefund.scaleout import evaluate_raw, raw_partitions, run_part

    data = tmp_path / "data"
    write_dataset(_messy_tables(), demo_contracts(), data)
    parts, shared = raw_partitions(data, None, 2, tmp_path / "spill")
    hashed_as_files = set(shared.digests)
    assert {"participants", "activities", "coverage"} <= hashed_as_files
    for part in parts:
        assert not hashed_as_files & set(part.hash_rows)
        assert not hashed_as_files & set(run_part(part, {}).row_hashes)
    assert evaluate_raw(data, None, 2).input_hashes == casefund.evaluate(data).input_hashes


@pytest.mark.parametrize("hold_bytes", [1 << 30, 0], ids=["held-on-workers", "kept-in-files"])
def test_one_dask_cluster_serves_every_stage_of_a_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hold_bytes: int
) -> None:
    """One local cluster serves all of a run's stages (Dask's process scheduler would start,
    and import casefund in, a fresh set of processes for each) and is closed when the run
    ends; partitions leave their adjudication on their workers between stages (no kept
    file). With nothing to hold, each stage runs on processes of its own and partitions
    keep their files. Either way: the single pass's answer."""
    distributed = pytest.importorskip("distributed")
    from casefund.scaleout import dask_runner, evaluate_raw

    started: list[Any] = []

    class Counted(distributed.LocalCluster):  # type: ignore[misc,name-defined]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(distributed, "LocalCluster", Counted)
    kept: list[int] = []
    inner = dask_runner(workers=2, hold_bytes=hold_bytes)

    def counting(tasks):  # type: ignore[no-untyped-def]
        kept.append(len(list(tmp_path.glob("casefund-run-*/part-*/adjudication.kept"))))
        return inner(tasks)

    counting.run_session = inner.run_session  # type: ignore[attr-defined]
    tables = _messy_tables()
    contracts = _tight_budgets()
    whole = casefund.evaluate(tables, contracts)
    same(whole, evaluate_raw(tables, contracts, 3, counting, spill=tmp_path))
    assert len(kept) == 3
    if not hold_bytes:  # nothing may be held: each stage on processes of its own
        assert started == [] and kept == [0, 3, 3]
        return
    assert len(started) == 1 and kept == [0, 0, 0]  # three stages, one cluster, no files
    assert started[0].status.name == "closed"  # closed with the run

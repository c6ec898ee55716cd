"""Evaluating by participant partitions (locally or on Dask), identical to one pass.

Everything casefund decides is per participant except contract budgets, settled exactly
in priority order from the budgeted contracts' payments (:mod:`casefund.scaleout.budgets`):
a settling stage re-runs only the payer waterfall over the adjudication each partition
kept, and lines and denials are built once at the end. Partitions come
from a dataset already in memory (:func:`evaluate_partitioned`) or straight from the raw
input tables (:func:`evaluate_raw`), validated inside each partition so that no process
holds the whole typed input: that is what bounds memory at tens of millions of activities.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from casefund.errors import InputError
from casefund.evaluation import Evaluation, check_dataset
from casefund.io.hashes import InputHashes, contracts_hash, input_hashes
from casefund.io.load import INPUT_ORDER, Dataset
from casefund.io.sources import TableSource
from casefund.io.validate import ROW
from casefund.records.contracts import Contract
from casefund.records.progress import ProgressCallback, tell
from casefund.records.tables import TABLES
from casefund.reports.stored import StoredTable, keep_folder
from casefund.scaleout.budgets import run_with_budgets
from casefund.scaleout.combine import combine, combined_hash
from casefund.scaleout.parts import (
    PER_PARTICIPANT,
    SHARED,
    LoadedPart,
    Part,
    PartResult,
    RawPart,
    partition,
    run_part,
)
from casefund.scaleout.raw_tables import raw_partitions
from casefund.scaleout.runners import Runner, dask_runner, run_locally

__all__ = [
    "LoadedPart",
    "Part",
    "PartResult",
    "RawPart",
    "Runner",
    "dask_runner",
    "evaluate_partitioned",
    "evaluate_raw",
    "partition",
    "raw_partitions",
    "run_locally",
    "run_part",
]


def evaluate_partitioned(
    data: Dataset,
    parts: int,
    runner: Runner = run_locally,
    as_of: dt.date | None = None,
    progress: ProgressCallback | None = None,
) -> Evaluation:
    """The single-pass result for an already validated dataset, partition by partition
    (``progress``: told as each partition of each pass finishes)."""
    check_dataset(data)
    results = run_with_budgets(partition(data, parts), data.contracts, runner, progress)
    tell(progress, "outputs", 0, None)
    return combine(data, results, InputHashes(data), as_of)


def evaluate_raw(
    tables: Mapping[str, TableSource | None] | str | Path,
    contracts: str | Path | list[Contract] | dict[str, Any] | None = None,
    parts: int = 8,
    runner: Runner = run_locally,
    spill: bool | str | Path = True,
    as_of: dt.date | None = None,
    progress: ProgressCallback | None = None,
) -> Evaluation:
    """The single-pass result for raw input tables, never holding the whole typed input
    (``progress``: told as each partition of each pass finishes).

    ``spill=True`` writes the partitions' raw rows to a temporary folder (a path: to a
    fresh private folder made inside that one, which remote Dask workers must be able to
    read; ``False``: they travel with the tasks). The folder also keeps, between stages,
    each partition's validated rows and rule decisions (Arrow and NumPy data, never a
    pickle: :mod:`casefund.scaleout.kept`) sealed with an HMAC under a key that travels only
    with the partition: a file anyone else changed or left there is refused unread. Each
    partition writes its denials there too (most of a run's rows): the result's
    ``denials`` is then read from those files a day at a time, and the folder is removed
    once the result is gone (with ``spill=False`` they are gathered in memory).
    """
    if spill is False:
        return _evaluate_raw(tables, contracts, parts, runner, None, as_of, progress)
    # Every run writes into a fresh folder of its own (mode 0700), made inside the given
    # one: files planted in a shared spill folder beforehand are never read, and nothing of
    # another run is overwritten. It is removed when the run ends.
    root = None if spill is True else Path(spill)
    if root is not None and not root.is_dir():
        raise InputError(f"{root}: the spill folder does not exist (or is not a folder)")
    folder = Path(tempfile.mkdtemp(prefix="casefund-run-", dir=root))
    stored: list[StoredTable] = []
    try:
        evaluation = _evaluate_raw(tables, contracts, parts, runner, folder, as_of, progress)
        stored = [t for t in evaluation.frames.values() if isinstance(t, StoredTable)]
        if stored:  # the partitions' denials stay in their files, owned by the result
            keep_folder(stored, folder)
        return evaluation
    finally:
        if not stored:
            shutil.rmtree(folder, ignore_errors=True)


def _evaluate_raw(
    tables: Mapping[str, TableSource | None] | str | Path,
    contracts: str | Path | list[Contract] | dict[str, Any] | None,
    parts: int,
    runner: Runner,
    spill: str | Path | None,
    as_of: dt.date | None = None,
    progress: ProgressCallback | None = None,
) -> Evaluation:
    tell(progress, "reading and dealing partitions", 0, None)
    pieces, shared = raw_partitions(tables, contracts, max(parts, 1), spill)
    check_dataset(shared)
    results = run_with_budgets(pieces, shared.contracts, runner, progress)
    tell(progress, "outputs", 0, None)
    small = {
        name: pd.concat([r.tables[name] for r in results], ignore_index=True)
        .sort_values(ROW, kind="stable")
        .reset_index(drop=True)
        for name in PER_PARTICIPANT
        if name != "activities"
    }
    # The activities themselves stay in the partitions; the lines carry what reports need.
    small["activities"] = pd.DataFrame(columns=[c.name for c in TABLES["activities"].columns])
    rejects = pd.concat([shared.rejects, *[r.rejects for r in results]], ignore_index=True)
    order = {name: i for i, name in enumerate(INPUT_ORDER)}
    rejects = (
        rejects.assign(_t=rejects["table"].map(order))
        .sort_values(["_t", "row", "field"], kind="stable")
        .drop(columns="_t")
        .reset_index(drop=True)
    )
    data = Dataset(
        {**shared.tables, **small},
        shared.contracts,
        rejects,
        shared.sources,
        shared.input_rows,
        {},
        shared.notices,
        shared.digests,
        shared.program_models,
    )
    hashes = {
        name: shared.digests.get(name) or combined_hash(results, name) for name in PER_PARTICIPANT
    }
    hashes.update({name: h for name, h in input_hashes(shared).items() if name in SHARED})
    hashes["contracts"] = contracts_hash(shared.contracts)
    return combine(data, results, {n: hashes[n] for n in [*INPUT_ORDER, "contracts"]}, as_of)

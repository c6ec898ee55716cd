"""The public ``casefund.evaluate``: one pass, or participant partitions run one after
another or as Dask tasks, with identical results."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from casefund.evaluation import Evaluation
from casefund.evaluation import evaluate as evaluate_one_pass
from casefund.io.load import Dataset
from casefund.io.sources import TableSource
from casefund.records.contracts import Contract
from casefund.records.progress import ProgressCallback
from casefund.scaleout import dask_runner, evaluate_partitioned, evaluate_raw, run_locally

BACKENDS = ("pandas", "dask")


def evaluate(
    data: str | Path | Mapping[str, TableSource | None] | Dataset | None = None,
    contracts: str | Path | list[Contract] | dict[str, Any] | None = None,
    *,
    backend: str = "pandas",
    partitions: int = 1,
    scheduler: str | None = None,
    as_of: dt.date | str | None = None,
    progress: ProgressCallback | None = None,
    **tables: TableSource | None,
) -> Evaluation:
    """Evaluate activities against the bundled rules and the user's contracts.

    ``data`` is a folder of CSV/Parquet/XLSX files, a mapping of table name to source, or an
    already loaded :class:`Dataset`; tables may also be passed by keyword
    (``activities=df``). Bad rows never raise: they are in ``rejects``.
    ``partitions`` > 1 evaluates participant partitions one after another (bounded memory);
    ``backend="dask"`` runs them as Dask tasks (``scheduler``: a distributed scheduler
    address). Results are identical to one pass. ``as_of`` is the day recertification is
    judged on (default: the last service date). ``progress`` is called with a
    :class:`~casefund.records.progress.ProgressEvent` as each stage begins and, with
    partitions, as each partition of each pass finishes (``event.stage``, ``event.done`` of
    ``event.total``); nothing is printed.
    """
    day = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    if backend not in BACKENDS:
        raise ValueError(f"backend must be 'pandas' or 'dask', not {backend!r}")
    if backend == "pandas" and partitions <= 1:
        return evaluate_one_pass(data, contracts, as_of=day, progress=progress, **tables)
    runner = dask_runner(scheduler) if backend == "dask" else run_locally
    if isinstance(data, Dataset):
        return evaluate_partitioned(data, max(partitions, 1), runner, as_of=day, progress=progress)
    # Raw tables are validated inside each partition: the whole typed input is never held.
    raw = (
        {**data, **tables}
        if isinstance(data, Mapping)
        else (data if data is not None else dict(tables))
    )
    return evaluate_raw(raw, contracts, max(partitions, 1), runner, as_of=day, progress=progress)

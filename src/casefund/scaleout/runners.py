"""Where partitions run: one after another in this process, or as Dask tasks."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, Protocol

from casefund.scaleout.parts import (
    Budgets,
    HoldsBetweenStages,
    Part,
    PartResult,
    Stage,
    run_part,
)
from casefund.scaleout.worker import release_memory, tune_partition_process, worker_plugin

# A task: a partition, its budget shares, and the stage to run (see run_part).
Task = tuple[Part, Budgets, Stage]
# Told the number of a pass's partitions finished so far, as each finishes.
PartsDone = Callable[[int], None]
# What a run in this process may hold in memory between stages (estimated; see
# casefund.scaleout.parts.held_size): past it, partitions keep their state in their files.
HOLD_BYTES = 1_000_000_000


class Runner(Protocol):
    """Runs a pass's tasks and returns their results in order. A runner used with progress
    also takes ``progress`` (the built-in ones do); without progress it is called with the
    tasks alone. A runner may also have ``run_session()``, a context manager entered around
    every stage of one run (the Dask runner keeps its worker processes in it)."""

    def __call__(
        self, tasks: Sequence[Task], /, progress: PartsDone | None = None
    ) -> list[PartResult]: ...


def run_locally(
    tasks: Sequence[Task], progress: PartsDone | None = None, hold_bytes: int = HOLD_BYTES
) -> list[PartResult]:
    """One partition after another in this process: memory holds one partition at a time,
    plus what partitions hold between stages (and what the last one freed is returned
    before the results are combined).

    Every stage of a run comes back here with the same partitions, so a partition may hold
    its adjudication in memory instead of writing it to its folder and rebuilding it in each
    later stage: partitions hold it, in order, while the estimated total stays within
    ``hold_bytes``; the others keep their files (0: none holds, as on Dask)."""
    results = []
    holding = sum(
        t[0].held.size for t in tasks if isinstance(t[0], HoldsBetweenStages) and t[0].held
    )
    for part, budgets, stage in tasks:
        room = max(hold_bytes - holding, 0) if stage == "evaluate" else 0
        results.append(run_part(part, budgets, stage, room))
        held = part.held if isinstance(part, HoldsBetweenStages) else None
        if room and held is not None:
            holding += held.size
        if progress is not None:
            progress(len(results))
    release_memory()
    return results


def dask_runner(
    scheduler: str | None = None, workers: int | None = None, tune_workers: bool = False
) -> Runner:
    """Partitions as Dask tasks: on a distributed scheduler, or local worker processes.
    ``tune_workers`` tunes each worker process's allocator for partitions (see
    :mod:`casefund.scaleout.worker`); the workers are then changed for their lifetime."""
    return DaskRunner(scheduler, workers, tune_workers)


class DaskRunner:
    """Runs each stage's tasks on Dask. On local worker processes, one set of processes
    serves every stage of a run (:meth:`run_session`): Dask's process scheduler would
    otherwise start, and import casefund in, a fresh set for each stage."""

    def __init__(self, scheduler: str | None, workers: int | None, tune_workers: bool) -> None:
        self.scheduler = scheduler
        self.workers = workers
        self.tune_workers = tune_workers
        self._pool: Executor | None = None
        self._sessions = 0

    @contextmanager
    def run_session(self) -> Iterator[None]:
        """The worker processes every stage of one run shares, shut down when it ends (a
        distributed scheduler's workers are the cluster's own: nothing to start)."""
        if self.scheduler:
            yield
            return
        if self._pool is None:
            from dask import config

            context = multiprocessing.get_context(config.get("multiprocessing.context", "spawn"))
            self._pool = ProcessPoolExecutor(
                self.workers or os.cpu_count(),
                mp_context=context,
                initializer=tune_partition_process if self.tune_workers else None,
            )
        self._sessions += 1
        try:
            yield
        finally:
            self._sessions -= 1
            if not self._sessions and self._pool is not None:
                self._pool.shutdown()
                self._pool = None

    def __call__(
        self, tasks: Sequence[Task], progress: PartsDone | None = None
    ) -> list[PartResult]:
        from dask.base import compute
        from dask.delayed import delayed

        graph = [delayed(run_part)(*task) for task in tasks]
        if self.scheduler:
            from distributed import Client, as_completed

            with Client(self.scheduler) as client:  # type: ignore[no-untyped-call]
                if self.tune_workers:
                    client.register_plugin(worker_plugin())
                futures = client.compute(graph)
                for done, _ in enumerate(as_completed(futures), start=1):  # type: ignore[no-untyped-call]
                    if progress is not None:
                        progress(done)
                return list(client.gather(futures))
        with _counting(graph, progress):
            if self._pool is not None:  # inside a run: its processes
                return list(compute(*graph, scheduler="processes", pool=self._pool))  # type: ignore[no-untyped-call]
            return list(
                compute(
                    *graph,
                    scheduler="processes",  # type: ignore[no-untyped-call]
                    num_workers=self.workers,
                    initializer=tune_partition_process if self.tune_workers else None,
                )
            )


def run_session(runner: Runner) -> AbstractContextManager[None]:
    """The runner's context for one whole run (every stage), where it has one."""
    session = getattr(runner, "run_session", None)
    return session() if session is not None else nullcontext()


def _counting(graph: list[Any], progress: PartsDone | None) -> Any:
    """A Dask callback telling ``progress`` as each partition's task finishes (local
    schedulers run callbacks in this process)."""
    from contextlib import nullcontext

    from dask.callbacks import Callback

    if progress is None:
        return nullcontext()
    keys = {task.key for task in graph}
    done = [0]

    def finished(key: Any, *_: Any) -> None:
        if key in keys:
            done[0] += 1
            progress(done[0])

    return Callback(posttask=finished)  # type: ignore[no-untyped-call]

"""Where partitions run: one after another in this process, or as Dask tasks."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
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
# What a run's partitions may hold in memory between stages, in all (estimated; see
# casefund.scaleout.parts.held_size), in this process or on their Dask workers: past it,
# partitions keep their state in their files.
HOLD_BYTES = 1_000_000_000


class Runner(Protocol):
    """Runs a pass's tasks and returns their results in order. A runner used with progress
    also takes ``progress`` (the built-in ones do); without progress it is called with the
    tasks alone. A runner may also have ``run_session()``, a context manager entered around
    every stage of one run (the Dask runner keeps one client, and cluster, for the run in
    it)."""

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
    later stage: it does where its estimated size is within its share of ``hold_bytes``
    (the bound divided by the number of partitions, as on Dask); the others keep their
    files (0: none holds)."""
    results = []
    room = share_of(hold_bytes, tasks)
    for part, budgets, stage in tasks:
        results.append(run_part(part, budgets, stage, room if stage == "evaluate" else 0))
        if progress is not None:
            progress(len(results))
    release_memory()
    return results


def share_of(hold_bytes: int, tasks: Sequence[Task]) -> int:
    """What each partition of a run may hold: an equal share of the bound, so that what
    is held stays within it however the partitions are spread over workers."""
    return max(hold_bytes, 0) // max(len(tasks), 1)


def dask_runner(
    scheduler: str | None = None,
    workers: int | None = None,
    tune_workers: bool = False,
    hold_bytes: int = HOLD_BYTES,
) -> Runner:
    """Partitions as Dask tasks: on a distributed scheduler, or local worker processes.
    ``tune_workers`` tunes each worker process's allocator for partitions (see
    :mod:`casefund.scaleout.worker`); the workers are then changed for their lifetime.
    ``hold_bytes``: what the workers may hold between a run's stages, in all."""
    return DaskRunner(scheduler, workers, tune_workers, hold_bytes)


class DaskRunner:
    """Runs each stage's tasks on Dask.

    Inside a run (:meth:`run_session`, entered around all of a run's stages) one Dask
    client serves every stage: on the given scheduler, or on a local cluster of worker
    processes started for the run (Dask's process scheduler would start, and import
    casefund in, a fresh set of processes for each stage). A partition's first stage then
    leaves its adjudication on its worker as a Dask future (where it fits in its share of
    ``hold_bytes``), and its later stages run where that future is: nothing is written to
    the kept file, read back or rebuilt. A partition that holds nothing keeps its file.
    Called outside a run, each stage runs on its own, keeping files.
    """

    def __init__(
        self,
        scheduler: str | None,
        workers: int | None,
        tune_workers: bool,
        hold_bytes: int = HOLD_BYTES,
    ) -> None:
        self.scheduler = scheduler
        self.workers = workers
        self.tune_workers = tune_workers
        self.hold_bytes = hold_bytes
        self._client: Any = None
        self._held: dict[int, Any] = {}  # id of a partition → future of what it holds

    @contextmanager
    def run_session(self) -> Iterator[None]:
        """One client, and on this machine one cluster, for every stage of a run; both are
        closed when it ends."""
        if self._client is not None or (self.hold_bytes <= 0 and not self.scheduler):
            # already inside a run; or nothing may be held: each stage on processes of its
            # own, which return all their memory when the stage ends (least memory)
            yield
            return
        from distributed import Client, LocalCluster

        cluster = None
        if self.scheduler:
            client = Client(self.scheduler)  # type: ignore[no-untyped-call]
        else:
            cluster = LocalCluster(  # type: ignore[no-untyped-call]
                n_workers=self.workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            client = Client(cluster)  # type: ignore[no-untyped-call]
        try:
            if self.tune_workers:
                client.register_plugin(worker_plugin())
            self._client = client
            yield
        finally:
            self._client = None
            self._held.clear()
            client.close()  # type: ignore[no-untyped-call]
            if cluster is not None:
                cluster.close()

    def __call__(
        self, tasks: Sequence[Task], progress: PartsDone | None = None
    ) -> list[PartResult]:
        if self._client is not None:
            return self._in_run(tasks, progress)
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
            return list(
                compute(
                    *graph,
                    scheduler="processes",  # type: ignore[no-untyped-call]
                    num_workers=self.workers,
                    initializer=tune_partition_process if self.tune_workers else None,
                )
            )

    def _in_run(self, tasks: Sequence[Task], progress: PartsDone | None) -> list[PartResult]:
        from distributed import as_completed, wait

        client = self._client
        room = share_of(self.hold_bytes, tasks)
        futures, holding = [], []
        for part, budgets, stage in tasks:
            if stage == "evaluate":
                both = client.submit(first_stage_holding, part, budgets, room, pure=False)
                self._held[id(part)] = client.submit(_second, both, pure=False)
                holding.append(self._held[id(part)])
                futures.append(client.submit(_first, both, pure=False))
                continue
            held = self._held.pop(id(part), None) if stage == "lines" else self._held.get(id(part))
            if held is None:
                futures.append(client.submit(run_part, part, budgets, stage, pure=False))
                continue
            # Where the partition's adjudication is: moving it would pickle it across.
            where = list(client.who_has([held]).get(held.key, ()))
            futures.append(
                client.submit(
                    later_stage_holding,
                    part,
                    budgets,
                    stage,
                    held,
                    workers=where or None,
                    allow_other_workers=True,
                    pure=False,
                )
            )
        # Each result is fetched as it finishes and its future dropped at once, so that the
        # workers do not keep every partition's lines until the last one is done.
        position = {future.key: i for i, future in enumerate(futures)}
        results: list[Any] = [None] * len(futures)
        finished = as_completed(futures, with_results=True)  # type: ignore[no-untyped-call]
        futures.clear()
        for done, (future, result) in enumerate(finished, start=1):
            results[position[future.key]] = result
            del future, result
            if progress is not None:
                progress(done)
        if holding:
            wait(holding)  # type: ignore[no-untyped-call]  # so that the next stage knows where each one is
        return results


def first_stage_holding(part: Part, budgets: Budgets, room: int) -> tuple[PartResult, Any]:
    """A partition's first stage on a worker, and what it holds there (None: nothing)."""
    result = run_part(part, budgets, "evaluate", room)
    return result, part.held if isinstance(part, HoldsBetweenStages) else None


def later_stage_holding(part: Part, budgets: Budgets, stage: Stage, held: Any) -> PartResult:
    """A later stage on the worker holding the partition's adjudication (None: the
    partition kept its file instead)."""
    if held is not None and isinstance(part, HoldsBetweenStages):
        part.held = held
    return run_part(part, budgets, stage)


def _first(both: tuple[PartResult, Any]) -> PartResult:
    return both[0]


def _second(both: tuple[PartResult, Any]) -> Any:
    return both[1]


def run_session(runner: Runner) -> AbstractContextManager[None]:
    """The runner's context for one whole run (every stage), where it has one."""
    session = getattr(runner, "run_session", None)
    return session() if session is not None else nullcontext()


def _counting(graph: list[Any], progress: PartsDone | None) -> Any:
    """A Dask callback telling ``progress`` as each partition's task finishes (local
    schedulers run callbacks in this process)."""
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

"""Where partitions run: one after another in this process, or as Dask tasks."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from casefund.scaleout.parts import Budgets, Part, PartResult, Stage, run_part
from casefund.scaleout.worker import release_memory, tune_partition_process, worker_plugin

# A task: a partition, its budget shares, and the stage to run (see run_part).
Task = tuple[Part, Budgets, Stage]
Runner = Callable[[Sequence[Task]], list[PartResult]]


def run_locally(tasks: Sequence[Task]) -> list[PartResult]:
    """One partition after another in this process: memory holds one partition at a time
    (and what the last one freed is returned before the results are combined)."""
    results = [run_part(*task) for task in tasks]
    release_memory()
    return results


def dask_runner(
    scheduler: str | None = None, workers: int | None = None, tune_workers: bool = False
) -> Runner:
    """Partitions as Dask tasks: on a distributed scheduler, or local worker processes.
    ``tune_workers`` tunes each worker process's allocator for partitions (see
    :mod:`casefund.scaleout.worker`); the workers are then changed for their lifetime."""

    def run(tasks: Sequence[Task]) -> list[PartResult]:
        from dask.base import compute
        from dask.delayed import delayed

        graph = [delayed(run_part)(*task) for task in tasks]
        if scheduler:
            from distributed import Client

            with Client(scheduler) as client:  # type: ignore[no-untyped-call]
                if tune_workers:
                    client.register_plugin(worker_plugin())
                return list(client.compute(graph, sync=True))
        return list(
            compute(
                *graph,
                scheduler="processes",  # type: ignore[no-untyped-call]
                num_workers=workers,
                initializer=tune_partition_process if tune_workers else None,
            )
        )

    return run

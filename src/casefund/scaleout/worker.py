"""Opt-in tuning of a process that runs many partitions, never applied by library code.

The settings below are process-wide (glibc's allocator, Arrow's default memory pool), so
casefund never changes them in a caller's process on its own: the ``casefund`` command
applies them to its own process when it runs partitions, and a Dask deployment opts its
workers in (``dask_runner(..., tune_workers=True)``, or
``client.register_plugin(worker_plugin())``). Without them results are identical; a long
run of partitions holds more memory (measured in docs/performance.md).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
from typing import Any

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number
LARGE_BLOCK = 1 << 20
_state = {"tuned": False}


def tune_partition_process() -> None:
    """Tune this process for running partitions one after another.

    glibc then serves every block of 1 MiB or more from its own mapping, returned to the
    system the moment it is freed (by default the threshold rises to 32 MiB as blocks are
    freed, so a partition's column-sized temporaries land between the results kept from
    earlier partitions and the heap cannot shrink: at ten million activities the process
    held 0.6 GB more after the partitions and peaked 0.9 GB higher while combining; the
    price is a page fault per fresh page, about 10 % more time). Arrow allocates from the
    C heap, so what it frees is returned with the rest (its default mimalloc pool keeps
    freed pages: about 0.6 GB more held). Memory a finished partition freed is then handed
    back after each partition (:func:`release_memory`)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK)
    try:
        import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        pass
    else:
        pa.set_memory_pool(pa.system_memory_pool())
    _state["tuned"] = True


def release_memory() -> None:
    """In a tuned process, hand memory a finished partition freed back to the system (it
    leaves millions of small freed objects behind; glibc would keep the fragmented heap).
    Elsewhere nothing: trimming the heap is the process owner's decision."""
    if not _state["tuned"]:
        return
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def worker_plugin() -> Any:
    """A Dask worker plugin that tunes each worker process as it starts."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class TunedPartitionWorker(WorkerPlugin):  # type: ignore[misc,unused-ignore]
        name = "casefund-partition-worker"

        def setup(self, worker: Any) -> None:
            tune_partition_process()

    return TunedPartitionWorker()

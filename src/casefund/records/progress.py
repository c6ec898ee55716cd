"""Progress of a long run, told to whoever asked for it: the CLI's progress bars, or an
integrator's callback (``casefund.evaluate(..., progress=callback)``). Library code never
prints; it only calls the callback it was given."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ProgressEvent:
    """``done`` of ``total`` steps of ``stage`` (a few words: "allocating to contracts",
    "partitions, budget pass"); ``total`` None where the count is not known."""

    stage: str
    done: int
    total: int | None = None


ProgressCallback = Callable[[ProgressEvent], None]


def tell(callback: ProgressCallback | None, stage: str, done: int, total: int | None) -> None:
    """Tell ``callback`` (if any) how far the run is."""
    if callback is not None:
        callback(ProgressEvent(stage, done, total))

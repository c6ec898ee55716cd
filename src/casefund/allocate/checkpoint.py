"""The waterfall paused before a contract: what a budget pass resumes from.

A budget changes what its own contract and the contracts after it take, never what the
contracts before it took. So a partitioned run walks the contracts before the first one with
a budget once, keeps the waterfall's state there, and every later pass (settling a budget,
building the lines) walks only the rest. The state is plain arrays and a small layout, so a
partition can keep it between stages without pickling anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# One contract's share, as the waterfall keeps it: rows, contract position, minutes, units,
# amount, status, reason bits, recorded cost carried.
Share = tuple[
    np.ndarray, int, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray
]
_SHARE_FIELDS = ("rows", "minutes", "units", "amount", "status", "bits", "cost")


@dataclass
class Checkpoint:
    """The waterfall's state before walking contract position ``start``: what is left of
    each activity, why each contract before stopped, the shares taken, which contract holds
    each participant-month, and the refusals logged so far (``log``: rows, contract, reason,
    minutes, unknown, chunk by chunk, as the waterfall logged them)."""

    start: int
    remaining: np.ndarray
    remaining_cost: np.ndarray
    funded: np.ndarray
    stop_bits: np.ndarray
    shares: list[Share]
    month_owner: dict[str, np.ndarray]
    log: list[tuple[np.ndarray, int, int, np.ndarray, np.ndarray]]

    def to_arrays(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """A JSON layout and named arrays holding the checkpoint (see :meth:`from_arrays`)."""
        arrays: dict[str, np.ndarray] = {
            "remaining": self.remaining,
            "remaining_cost": self.remaining_cost,
            "funded": self.funded,
            "stop_bits": self.stop_bits,
        }
        for k, share in enumerate(self.shares):
            rows, _position, *rest = share
            for name, values in zip(_SHARE_FIELDS, (rows, *rest), strict=True):
                arrays[f"share{k}_{name}"] = np.asarray(values)
        for program_index, owner in enumerate(self.month_owner.values()):
            arrays[f"owner{program_index}"] = owner
        # The log is most of a checkpoint (ten refusals an activity): its chunks laid end to
        # end in three arrays of narrow integers, as the denials table holds them.
        for name, at in (("rows", 0), ("minutes", 3), ("unknown", 4)):
            chunks = [np.asarray(chunk[at]) for chunk in self.log]
            arrays[f"log_{name}"] = _narrow(np.concatenate(chunks)) if chunks else np.zeros(0)
        layout = {
            "start": self.start,
            "share_positions": [int(share[1]) for share in self.shares],
            "owner_programs": list(self.month_owner),
            "log": [
                [int(contract), int(reason), len(rows)]
                for rows, contract, reason, _m, _u in self.log
            ],
        }
        return layout, arrays

    @classmethod
    def from_arrays(cls, layout: dict[str, Any], arrays: dict[str, np.ndarray]) -> Checkpoint:
        shares: list[Share] = []
        for k, position in enumerate(layout["share_positions"]):
            rows, minutes, units, amount, status, bits, cost = (
                arrays[f"share{k}_{name}"] for name in _SHARE_FIELDS
            )
            shares.append((rows, int(position), minutes, units, amount, status, bits, cost))
        bounds = np.cumsum([0, *(int(length) for _c, _r, length in layout["log"])])
        log = [
            (
                arrays["log_rows"][first:last],
                int(contract),
                int(reason),
                arrays["log_minutes"][first:last],
                arrays["log_unknown"][first:last].astype(bool),
            )
            for (contract, reason, _length), first, last in zip(
                layout["log"], bounds[:-1].tolist(), bounds[1:].tolist(), strict=True
            )
        ]
        return cls(
            start=int(layout["start"]),
            remaining=arrays["remaining"],
            remaining_cost=arrays["remaining_cost"],
            funded=arrays["funded"],
            stop_bits=arrays["stop_bits"],
            shares=shares,
            month_owner={
                program: arrays[f"owner{i}"] for i, program in enumerate(layout["owner_programs"])
            },
            log=log,
        )


def _narrow(values: np.ndarray) -> np.ndarray:
    """Integers as int32 where every value fits (rows of a partition, minutes)."""
    if values.dtype.kind != "i" or values.dtype.itemsize <= 4 or not len(values):
        return values
    limits = np.iinfo(np.int32)
    if values.min() < limits.min or values.max() > limits.max:
        return values
    return values.astype(np.int32)

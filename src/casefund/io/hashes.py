"""Content hashes of the accepted inputs, so an audit can tell which inputs made an output."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping

import pandas as pd

from casefund.io.load import Dataset
from casefund.records.contracts import Contract


def input_hashes(data: Dataset) -> dict[str, str]:
    """A hash per input table — of the file's bytes for a table read from a file, else of
    its accepted rows (a DataFrame or records given in Python) — and one of the contracts."""
    out = {}
    for name, frame in data.tables.items():
        out[name] = data.digests.get(name) or rows_hash(frame)
    out["contracts"] = contracts_hash(data.contracts)
    return out


class InputHashes(Mapping[str, str]):
    """:func:`input_hashes`, taken when first read. A table given in Python has no file
    bytes to hash, and hashing its rows costs about a second at a million activities: an
    evaluation that is never written, nor asked for its manifest, never pays for it."""

    def __init__(self, data: Dataset) -> None:
        self._data: Dataset | None = data
        self._hashes: dict[str, str] = {}

    def _taken(self) -> dict[str, str]:
        if self._data is not None:
            self._hashes = input_hashes(self._data)
            self._data = None  # the hashes no longer need the tables
        return self._hashes

    def __getitem__(self, name: str) -> str:
        return self._taken()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._taken())

    def __len__(self) -> int:
        return len(self._taken())

    def __repr__(self) -> str:
        return repr(self._taken())


def rows_hash(frame: pd.DataFrame) -> str:
    """A hash of a table's rows (hashing a million rows of text costs about a second; a
    file's bytes are hashed instead wherever there is a file)."""
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()[:16]


def contracts_hash(contracts: list[Contract]) -> str:
    return hashlib.sha256(
        json.dumps([c.model_dump(mode="json") for c in contracts], sort_keys=True).encode()
    ).hexdigest()[:16]

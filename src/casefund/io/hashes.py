"""Content hashes of the accepted inputs, so an audit can tell which inputs made an output."""

from __future__ import annotations

import hashlib
import json

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


def rows_hash(frame: pd.DataFrame) -> str:
    """A hash of a table's rows (hashing a million rows of text costs about a second; a
    file's bytes are hashed instead wherever there is a file)."""
    hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()[:16]


def contracts_hash(contracts: list[Contract]) -> str:
    return hashlib.sha256(
        json.dumps([c.model_dump(mode="json") for c in contracts], sort_keys=True).encode()
    ).hexdigest()[:16]

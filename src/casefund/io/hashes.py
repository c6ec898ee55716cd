"""Content hashes of the accepted inputs, so an audit can tell which inputs made an output."""

from __future__ import annotations

import hashlib
import json

import pandas as pd

from casefund.io.load import Dataset
from casefund.records.contracts import Contract


def input_hashes(data: Dataset) -> dict[str, str]:
    """A content hash per accepted table, and one of the contracts."""
    out = {}
    for name, frame in data.tables.items():
        hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
        out[name] = hashlib.sha256(hashed.tobytes()).hexdigest()[:16]
    out["contracts"] = contracts_hash(data.contracts)
    return out


def contracts_hash(contracts: list[Contract]) -> str:
    return hashlib.sha256(
        json.dumps([c.model_dump(mode="json") for c in contracts], sort_keys=True).encode()
    ).hexdigest()[:16]

"""Laying the partitions' results end to end as the single pass would have written them."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from casefund.io.load import Dataset
from casefund.records.frames import text_rank
from casefund.reports.outputs import Evaluation, assemble
from casefund.scaleout.parts import PartResult


def combined_hash(results: list[PartResult], table: str) -> str:
    """The single pass's hash of an accepted table, from the partitions' row hashes."""
    rows = np.concatenate([r.row_hashes[table][0] for r in results])
    hashed = np.concatenate([r.row_hashes[table][1] for r in results])
    return hashlib.sha256(hashed[np.argsort(rows, kind="stable")].tobytes()).hexdigest()[:16]


def _sort_order(keys: Iterable[np.ndarray]) -> np.ndarray:
    """Stable order by ``keys`` (most significant first). The keys are folded one at a time
    into one packed int64 key, re-ranked densely whenever the next key would not fit in 62
    bits, so only the packed key and one key exist at once (a ten-million-row lexsort would
    need them all)."""
    packed: np.ndarray | None = None
    for key in keys:
        if packed is None:
            packed = key.astype(np.int64)
            continue
        width = max(int(key.max(initial=0)).bit_length(), 1)
        if int(packed.max(initial=0)).bit_length() + width > 62:
            packed = np.unique(packed, return_inverse=True)[1].reshape(-1).astype(np.int64)
        packed <<= width
        packed |= key
    assert packed is not None, "at least one key"
    return np.argsort(packed, kind="stable")


def concat_parts(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate partitions' frames, each categorical column through one union of
    categories (never through Python strings). Columns are moved out of ``frames`` as they
    are joined, so the parts and the whole never both exist."""
    from pandas.api.types import union_categoricals

    frames = [f for f in frames if len(f)] or frames[:1]  # an empty part has no dtypes
    columns: dict[str, Any] = {}
    for name in list(frames[0].columns):
        parts = [f.pop(name) for f in frames]
        if all(isinstance(p.dtype, pd.CategoricalDtype) for p in parts):
            try:
                columns[name] = union_categoricals([p.array for p in parts])
                continue
            except TypeError:  # categories of different dtypes: unify them as objects
                parts = [p.astype(object) for p in parts]
                columns[name] = pd.Categorical(pd.concat(parts, ignore_index=True))
                continue
        columns[name] = pd.concat(parts, ignore_index=True)
    return pd.DataFrame(columns)


def _reordered(frame: pd.DataFrame, order: np.ndarray) -> pd.DataFrame:
    """``frame`` in ``order``, moved a column at a time so two copies never coexist."""
    out = {}
    for name in list(frame.columns):
        out[name] = frame.pop(name).take(order).reset_index(drop=True)
    return pd.DataFrame(out)


def _line_order(lines: pd.DataFrame) -> np.ndarray:
    """The single pass's order of the partitions' lines laid end to end.

    Each partition's accepted lines are already in canonical order (day, participant,
    activity; contracts, then the unfunded rest), and a participant lives in one partition,
    so a stable sort by (day, participant) is that order — no rank of ten million activity
    ids. Refused rows follow, sorted by content as in one pass; they are few.
    """
    rejected = (lines["status"] == "rejected").to_numpy(dtype=bool)
    refused = np.flatnonzero(rejected)
    day, pid = text_rank(lines["service_date"]), text_rank(lines["participant_id"])

    def content(column: str) -> np.ndarray:
        rank = np.zeros(len(lines), dtype=np.int64)
        if len(refused):
            rank[refused] = text_rank(lines[column].iloc[refused].reset_index(drop=True))
        return rank

    keys = (
        lambda: rejected.astype(np.int64),
        lambda: content("activity_id"),
        lambda: np.where(rejected, pid, day),
        lambda: np.where(rejected, day, pid),
        lambda: content("activity"),
    )
    return _sort_order(key() for key in keys)  # each key made only when it is folded in


def combine(
    data: Dataset, results: list[PartResult], hashes: dict[str, str], as_of: dt.date | None = None
) -> Evaluation:
    lines = concat_parts([r.lines for r in results])
    denials = concat_parts([r.denials for r in results])
    # Each partition's denials are in canonical order (day, participant, activity, then
    # contract and rule), and a participant lives in one partition.
    denials = _reordered(
        denials,
        _sort_order([text_rank(denials["service_date"]), text_rank(denials["participant_id"])]),
    )
    eligibility = concat_parts([r.eligibility for r in results])
    lines = _reordered(lines, _line_order(lines))
    # Each partition's eligibility is in the single pass's order (participant, program,
    # as_of, population) and a participant lives in one partition: order by participant.
    eligibility = _reordered(eligibility, _sort_order([text_rank(eligibility["participant_id"])]))
    return assemble(data, lines, denials, eligibility, hashes, as_of)

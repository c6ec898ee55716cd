"""Laying the partitions' results end to end as the single pass would have written them."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from casefund.io.load import Dataset
from casefund.records.frames import concat_frames, text_rank
from casefund.reports.outputs import Evaluation, Table, assemble
from casefund.reports.stored import Piece, StoredTable
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
    data: Dataset,
    results: list[PartResult],
    hashes: Mapping[str, str],
    as_of: dt.date | None = None,
) -> Evaluation:
    lines = concat_frames([r.lines for r in results])
    denials = _denials([r.denials for r in results])
    eligibility = concat_frames([r.eligibility for r in results])
    lines = _reordered(lines, _line_order(lines))
    # Each partition's eligibility is in the single pass's order (participant, program,
    # as_of, population) and a participant lives in one partition: order by participant.
    eligibility = _reordered(eligibility, _sort_order([text_rank(eligibility["participant_id"])]))
    return assemble(data, lines, denials, eligibility, hashes, as_of)


def _denials(parts: list[pd.DataFrame | Piece]) -> Table:
    """The partitions' denials in the single pass's order: left in their files when the
    partitions wrote them there (read back a day at a time), else concatenated here."""
    pieces = [p for p in parts if isinstance(p, Piece)]
    if pieces:
        assert len(pieces) == len(parts), "every partition of a run stores, or none does"
        return StoredTable(pieces)
    frames = [p for p in parts if isinstance(p, pd.DataFrame)]
    denials = concat_frames(frames)
    # Each partition's denials are in canonical order (day, participant, activity, then
    # contract and rule), and a participant lives in one partition.
    return _reordered(
        denials,
        _sort_order([text_rank(denials["service_date"]), text_rank(denials["participant_id"])]),
    )

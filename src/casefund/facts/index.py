"""Sorted integer keys over (participant, day), the structure every lookup searches.

A participant's id becomes a code by its rank among all ids (never by row order), and a
(participant, day) pair becomes one int64 key, so "the latest observation on or before a date"
or "events in a window" are binary searches over whole arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

_DAY_OFFSET = 100_000  # day numbers are >= -100_000 (year 1696) after the offset
_STRIDE = 1_000_000


def participant_codes(ids: pd.Series) -> tuple[pd.Index, np.ndarray]:
    """Sorted unique ids and each row's code (its position among them)."""
    index = pd.Index(pd.unique(ids.astype("string").to_numpy())).sort_values()
    codes = index.get_indexer(pd.Index(ids.astype("string")))
    return index, codes.astype(np.int64)


def keys(codes: np.ndarray, days: np.ndarray) -> np.ndarray:
    return codes.astype(np.int64) * _STRIDE + (days.astype(np.int64) + _DAY_OFFSET)


def latest_on_or_before(sorted_keys: np.ndarray, codes: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Position in ``sorted_keys`` of each query's latest entry on or before its day, or -1."""
    if len(sorted_keys) == 0:
        return np.full(len(codes), -1, dtype=np.int64)
    query = keys(codes, days)
    pos = np.searchsorted(sorted_keys, query, side="right") - 1
    found = pos >= 0
    same = np.zeros(len(codes), dtype=bool)
    same[found] = (sorted_keys[pos[found]] // _STRIDE) == codes[found]
    return np.where(same, pos, -1)


def count_in_window(
    sorted_keys: np.ndarray, codes: np.ndarray, after: np.ndarray, through: np.ndarray
) -> np.ndarray:
    """Entries per query with day in (after, through]."""
    if len(sorted_keys) == 0:
        return np.zeros(len(codes), dtype=np.int64)
    hi = np.searchsorted(sorted_keys, keys(codes, through), side="right")
    lo = np.searchsorted(sorted_keys, keys(codes, after), side="right")
    return (hi - lo).astype(np.int64)


@dataclass(frozen=True)
class DayQueries:
    """The rows' (participant, day) keys, made distinct and sorted once per block of rows:
    every lookup over the block (each program's spans, each observed flag) searches with
    the distinct keys — in order, which is also kinder to the cache — and spreads the
    answer to the rows."""

    codes: np.ndarray
    days: np.ndarray
    distinct: np.ndarray
    inverse: np.ndarray

    @classmethod
    def of(cls, codes: np.ndarray, days: np.ndarray) -> DayQueries:
        distinct, inverse = np.unique(keys(codes, days), return_inverse=True)
        return cls(codes, days, distinct, np.asarray(inverse).reshape(-1))

    def latest_on_or_before(self, sorted_keys: np.ndarray) -> np.ndarray:
        """:func:`latest_on_or_before` for these rows."""
        if len(sorted_keys) == 0:
            return np.full(len(self.codes), -1, dtype=np.int64)
        pos = np.searchsorted(sorted_keys, self.distinct, side="right") - 1
        same = (sorted_keys[pos.clip(0)] // _STRIDE == self.distinct // _STRIDE) & (pos >= 0)
        chosen: np.ndarray = np.where(same, pos, -1)[self.inverse]
        return chosen

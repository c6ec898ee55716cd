"""Facts about a participant's earlier activities: counts, running totals, first dates.

Lifetime and yearly service limits (a housing deposit once per lifetime, respite hours per
year, outreach attempts in a window) depend on what came before each activity. Activities are
in canonical order, so "before" is well defined; every function here is a few sorts and
binary searches over whole columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from casefund.facts.index import keys


@dataclass(frozen=True)
class History:
    """The selected activities sorted by (participant, day, canonical rank)."""

    sorted_keys: np.ndarray
    rows: np.ndarray  # row numbers of the selected activities, in sorted order
    position: np.ndarray  # for every row: its position (selected) or insertion point (others)

    @classmethod
    def of(cls, codes: np.ndarray, days: np.ndarray, selected: np.ndarray) -> History:
        idx = np.flatnonzero(selected)
        k = keys(codes[idx], days[idx])
        order = np.lexsort((idx, k))
        sorted_keys = k[order]
        rows = idx[order]
        position = np.searchsorted(sorted_keys, keys(codes, days), side="left")
        own = np.empty(len(idx), dtype=np.int64)
        own[order] = np.arange(len(idx))
        position[idx] = own
        return cls(sorted_keys, rows, position)

    def window_start(self, codes: np.ndarray, first_day: np.ndarray) -> np.ndarray:
        """Index of the first selected activity of each row's participant on/after first_day."""
        return np.searchsorted(self.sorted_keys, keys(codes, first_day), side="left")


def earlier_count(
    codes: np.ndarray, days: np.ndarray, selected: np.ndarray, window_days: int | None
) -> np.ndarray:
    """Selected activities of the same participant before each row (within the window)."""
    history = History.of(codes, days, selected)
    first = days - window_days + 1 if window_days else np.full(len(days), -90_000)
    return np.asarray(history.position - history.window_start(codes, first), dtype=np.int64)


def running_total(
    codes: np.ndarray,
    days: np.ndarray,
    selected: np.ndarray,
    values: np.ndarray,
    first_day: np.ndarray,
) -> np.ndarray:
    """Sum of ``values`` over selected activities from ``first_day`` through each row itself.

    For rows that are not selected the total counts selected activities on earlier days only.
    """
    history = History.of(codes, days, selected)
    csum = np.r_[0.0, np.cumsum(values[history.rows])]
    start = history.window_start(codes, first_day)
    end = history.position + selected.astype(np.int64)
    return np.asarray(csum[end] - csum[np.minimum(start, end)], dtype=float)


def days_since_first(codes: np.ndarray, days: np.ndarray, selected: np.ndarray) -> np.ndarray:
    """Days since the participant's first selected activity (NaN where none yet)."""
    history = History.of(codes, days, selected)
    start = history.window_start(codes, np.full(len(days), -90_000))
    out = np.full(len(days), np.nan)
    has = start < len(history.rows)
    first_rows = (
        history.rows[np.minimum(start, max(len(history.rows) - 1, 0))]
        if len(history.rows)
        else np.zeros(len(days), dtype=np.int64)
    )
    same = has & (codes[first_rows] == codes) if len(history.rows) else has
    first_day = days[first_rows] if len(history.rows) else np.zeros(len(days))
    ok = same & (first_day <= days)
    out[ok] = (days - first_day)[ok]
    return out

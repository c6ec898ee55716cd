"""Enrollment spans merged per participant, and vectorized 'was enrolled' lookups."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from casefund.facts.calendar import OPEN_END
from casefund.facts.index import DayQueries, keys


@dataclass(frozen=True)
class Spans:
    """Non-overlapping spans sorted by (participant, start); touching spans are joined."""

    codes: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    sorted_keys: np.ndarray

    @classmethod
    def build(cls, codes: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> Spans:
        ends = np.where(ends < starts, starts, ends)
        order = np.lexsort((starts, codes))
        c, s, e = codes[order], starts[order], ends[order]
        if len(c) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return cls(empty, empty, empty, empty)
        # A new merged span starts where the participant changes or the gap exceeds a day.
        running_end = _running_max_by_group(e, c)
        new = np.ones(len(c), dtype=bool)
        new[1:] = (c[1:] != c[:-1]) | (s[1:] > running_end[:-1] + 1)
        group = np.cumsum(new) - 1
        merged_codes = c[new]
        merged_starts = s[new]
        merged_ends = np.full(group[-1] + 1, np.iinfo(np.int64).min, dtype=np.int64)
        np.maximum.at(merged_ends, group, e)
        return cls(merged_codes, merged_starts, merged_ends, keys(merged_codes, merged_starts))

    def active(self, at: DayQueries, window_start: np.ndarray) -> np.ndarray:
        """Enrolled at any time in [window_start, the row's day]."""
        pos = at.latest_on_or_before(self.sorted_keys)
        if len(self.ends) == 0:
            return np.zeros(len(pos), dtype=bool)
        # Read every row's span (the first where none is found) and mask after: a gather
        # over a million rows costs a fifth of selecting the rows that found one.
        result: np.ndarray = (self.ends[pos.clip(0)] >= window_start) & (pos >= 0)
        return result

    def continuous_days(self, at: DayQueries) -> np.ndarray:
        """Days enrolled without a break up to and including the row's day (0 when not
        enrolled)."""
        as_of = at.days
        pos = at.latest_on_or_before(self.sorted_keys)
        if len(self.ends) == 0:
            return np.zeros(len(pos), dtype=np.int64)
        span = pos.clip(0)
        ok = (self.ends[span] >= as_of) & (pos >= 0)
        result: np.ndarray = np.where(ok, as_of - self.starts[span] + 1, 0).astype(np.int64)
        return result


def _running_max_by_group(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Running maximum of ``values`` restarting at each change of ``groups`` (sorted)."""
    if len(values) == 0:
        return values
    # Offsetting each group above all earlier ones lets one global running max serve.
    span = int(values.max() - values.min()) + 1 if len(values) else 1
    boundaries = np.r_[True, groups[1:] != groups[:-1]]
    group_number = np.cumsum(boundaries) - 1
    lifted = values - values.min() + group_number.astype(np.int64) * (span + OPEN_END)
    restored = np.maximum.accumulate(lifted) - group_number.astype(np.int64) * (span + OPEN_END)
    return np.asarray(restored + values.min(), dtype=np.int64)


@dataclass(frozen=True)
class Determinations:
    """Spans kept as recorded (not merged): each one a separate determination or stay."""

    starts: np.ndarray
    ends: np.ndarray
    sorted_keys: np.ndarray

    @classmethod
    def build(cls, codes: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> Determinations:
        order = np.lexsort((ends, starts, codes))
        return cls(starts[order], ends[order], keys(codes[order], starts[order]))

    def age_days(self, at: DayQueries) -> np.ndarray:
        """Days since the start of the latest span begun by the row's day that still
        covers it."""
        as_of = at.days
        pos = at.latest_on_or_before(self.sorted_keys)
        out = np.full(len(pos), np.nan)
        hit = pos >= 0
        if not hit.any():
            return out
        covering = hit.copy()
        covering[hit] = self.ends[pos[hit]] >= as_of[hit]
        out[covering] = (as_of - self.starts[pos.clip(0)])[covering]
        return out

    def containing(self, at: DayQueries) -> np.ndarray:
        """The number of the span covering each day (the latest begun by it that has not
        ended), −1 where none does: an episode number, unique across participants."""
        as_of = at.days
        pos = at.latest_on_or_before(self.sorted_keys)
        hit = pos >= 0
        out = np.full(len(pos), -1, dtype=np.int64)
        covering = hit.copy()
        covering[hit] = self.ends[pos[hit]] >= as_of[hit]
        out[covering] = pos[covering]
        return out

    def latest_length(self, at: DayQueries) -> np.ndarray:
        """Length in days of the latest span begun by the row's day, counted up to that day
        at most."""
        as_of = at.days
        pos = at.latest_on_or_before(self.sorted_keys)
        out = np.zeros(len(pos))
        hit = pos >= 0
        if not hit.any():
            return out
        p = pos.clip(0)
        length = np.minimum(self.ends[p], as_of) - self.starts[p] + 1
        out[hit] = length[hit]
        return out

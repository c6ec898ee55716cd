"""Running limits applied in chronological order; the row that crosses a limit is split.

Rows arrive in the canonical order (service day, then participant, then activity id). For a
limit L over a group, a row's allowance is clip(L - (sum of earlier rows' requests), 0, own
request): earlier rows are served first, the crossing row gets what is left, later rows get
nothing. Because allowances are monotone, the sum of earlier *requests* clipped at L equals
the sum of earlier *allowances*, which is what lets this be a single cumulative sum.

A rolling window (N units in any M consecutive months) has no such shortcut: rows leave the
window, so what a row may have depends on what earlier rows were actually allowed. It is
settled position by position within each participant, every participant at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from casefund.facts.calendar import shift_months
from casefund.records.contracts import Caps


def running_cap(requests: np.ndarray, groups: np.ndarray | None, limit: float) -> np.ndarray:
    """Allowance per row under ``limit`` per group (``None``: one group, e.g. a budget)."""
    requests = np.asarray(requests, dtype=float)
    if len(requests) == 0:
        return requests
    if groups is None:
        prior = np.cumsum(requests) - requests
    else:
        order = np.argsort(groups, kind="stable")
        sorted_groups = groups[order]
        sorted_req = requests[order]
        cumulative = np.cumsum(sorted_req)
        starts = np.r_[True, sorted_groups[1:] != sorted_groups[:-1]]
        group_base = np.maximum.accumulate(np.where(starts, cumulative - sorted_req, 0.0))
        prior_sorted = cumulative - sorted_req - group_base
        prior = np.empty_like(prior_sorted)
        prior[order] = prior_sorted
    allowed: np.ndarray = np.clip(limit - prior, 0.0, requests)
    return allowed


def rolling_cap(
    requests: np.ndarray, participant: np.ndarray, day: np.ndarray, months: int, limit: float
) -> np.ndarray:
    """Allowance per row when a participant may have ``limit`` in any window of ``months``
    calendar months ending on the service day: (day shifted back ``months`` months, day].

    Rows are in service order. Each participant's k-th row is settled in round k, for all
    participants at once, from the allowances already settled inside its window: the loop
    runs once per position within a participant, never once per row.
    """
    requests = np.asarray(requests, dtype=float)
    n = len(requests)
    if n == 0:
        return requests
    order = np.lexsort((np.arange(n), participant))
    who, when, asked = participant[order], day[order], requests[order]
    block_start = np.r_[True, who[1:] != who[:-1]]
    first_of_block = np.maximum.accumulate(np.where(block_start, np.arange(n), 0))
    position = np.arange(n) - first_of_block
    # The first row still inside each row's window (same participant, later than its start).
    keys = who.astype(np.int64) * 1_000_000 + when
    window_after = who.astype(np.int64) * 1_000_000 + shift_months(when, -months)
    first_in_window = np.searchsorted(keys, window_after, side="right")
    through = np.zeros(n)  # allowances summed within the block up to and including the row
    allowed = np.zeros(n)
    for k in range(int(position.max()) + 1):
        rows = np.flatnonzero(position == k)
        before = np.where(k == 0, 0.0, through[np.maximum(rows - 1, 0)])
        start = first_in_window[rows]
        outside = np.where(start > first_of_block[rows], through[np.maximum(start - 1, 0)], 0.0)
        used = before - outside
        allowed[rows] = np.clip(limit - used, 0.0, asked[rows])
        through[rows] = before + allowed[rows]
    out = np.empty(n)
    out[order] = allowed
    return out


@dataclass
class CapResult:
    units: np.ndarray
    amount: np.ndarray
    stopped_by: list[tuple[str, np.ndarray]] = field(default_factory=list)


@dataclass
class CapRows:
    """Who and when each row is, for grouping it under a limit."""

    participant: np.ndarray
    month: np.ndarray
    year: np.ndarray
    day: np.ndarray | None = None  # service day numbers (a rolling limit needs them)
    episode: dict[str, np.ndarray] = field(default_factory=dict)  # per episode cap

    def episode_of(self, cap_id: str) -> np.ndarray:
        """Each row's episode number (a recorded span of the cap's program), −1 where none."""
        return self.episode.get(cap_id, np.full(len(self.participant), -1, dtype=np.int64))


def apply_caps(
    units: np.ndarray,
    amount: np.ndarray,
    caps: Caps,
    participant: np.ndarray,
    month: np.ndarray,
    year: np.ndarray,
    whole_units: bool,
    day: np.ndarray | None = None,
    episode: dict[str, np.ndarray] | None = None,
) -> CapResult:
    """Unit limits, then dollar limits, then the contract budget, each in service order.

    ``whole_units``: the contract pays whole units at a unit price, so a dollar limit that
    leaves room for part of a unit pays none of it. ``day`` (service day numbers) is needed
    for a rolling limit; ``episode`` gives, per episode cap, each row's episode number (a row
    in no episode gets nothing under that cap: there is nothing to count it against).
    """
    units = units.astype(float)
    amount = amount.astype(float)
    rows = CapRows(participant, month, year, day, episode or {})
    price = np.divide(amount, units, out=np.zeros_like(amount), where=units > 0)
    result = CapResult(units.copy(), amount.copy())
    _unit_limits(result, caps, rows, price, whole_units)
    _amount_limits(result, caps, rows, price, whole_units)
    return result


def _unit_limits(
    result: CapResult, caps: Caps, rows: CapRows, price: np.ndarray, whole_units: bool
) -> None:
    def units_under(cap_id: str, allowed: np.ndarray) -> None:
        if whole_units:
            allowed = np.floor(allowed + 1e-9)
        result.stopped_by.append((cap_id, allowed < result.units - 1e-9))
        result.amount = np.where(result.units > 0, allowed * price, result.amount)
        result.units = allowed

    participant = rows.participant
    unit_limits = (
        ("cap.units_per_month", caps.units_per_month, participant * 100_000 + rows.month),
        ("cap.units_per_year", caps.units_per_year, participant * 10_000 + rows.year),
    )
    for cap_id, limit, groups in unit_limits:
        if limit is not None:
            units_under(cap_id, running_cap(result.units, groups, limit))
    if caps.units_per_rolling is not None:
        if rows.day is None:
            raise ValueError("a rolling limit needs the service days")
        rolling = caps.units_per_rolling
        units_under(
            "cap.units_per_rolling",
            rolling_cap(result.units, participant, rows.day, rolling.months, rolling.limit),
        )
    if caps.units_per_episode is not None:
        groups = rows.episode_of("cap.units_per_episode")
        allowed = running_cap(result.units, groups, caps.units_per_episode.limit)
        units_under("cap.units_per_episode", np.where(groups >= 0, allowed, 0.0))


def _amount_limits(
    result: CapResult, caps: Caps, rows: CapRows, price: np.ndarray, whole_units: bool
) -> None:
    participant = rows.participant
    amount_limits = (
        ("cap.amount_per_month", caps.amount_per_month, participant * 100_000 + rows.month),
        ("cap.amount_per_year", caps.amount_per_year, participant * 10_000 + rows.year),
        ("cap.amount_lifetime", caps.amount_lifetime, participant),
        (
            "cap.amount_per_episode",
            None if caps.amount_per_episode is None else caps.amount_per_episode.limit,
            rows.episode_of("cap.amount_per_episode"),
        ),
        ("cap.budget", caps.budget, None),
    )
    for cap_id, limit, groups in amount_limits:
        if limit is None:
            continue
        allowed = running_cap(result.amount, groups, max(limit, 0.0))
        if cap_id == "cap.amount_per_episode" and groups is not None:
            allowed = np.where(groups >= 0, allowed, 0.0)
        if whole_units:
            whole = np.floor(
                np.divide(allowed, price, out=np.zeros_like(allowed), where=price > 0) + 1e-9
            )
            allowed = np.where(price > 0, whole * price, allowed)
            new_units = np.where(price > 0, whole, result.units)
        else:
            share = np.divide(
                allowed, result.amount, out=np.ones_like(allowed), where=result.amount > 0
            )
            new_units = result.units * share
        result.stopped_by.append((cap_id, allowed < result.amount - 1e-9))
        result.units = new_units
        result.amount = allowed

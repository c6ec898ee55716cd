"""Running limits applied in chronological order; the row that crosses a limit is split.

Rows arrive in the canonical order (service day, then participant, then activity id). For a
limit L over a group, a row's allowance is clip(L - (sum of earlier rows' requests), 0, own
request): earlier rows are served first, the crossing row gets what is left, later rows get
nothing. Because allowances are monotone, the sum of earlier *requests* clipped at L equals
the sum of earlier *allowances*, which is what lets this be a single cumulative sum.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from casefund.payers.contracts import Caps


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


@dataclass
class CapResult:
    units: np.ndarray
    amount: np.ndarray
    stopped_by: list[tuple[str, np.ndarray]] = field(default_factory=list)


def apply_caps(
    units: np.ndarray,
    amount: np.ndarray,
    caps: Caps,
    participant: np.ndarray,
    month: np.ndarray,
    year: np.ndarray,
    whole_units: bool,
    spent_budget: float = 0.0,
) -> CapResult:
    """Unit limits, then dollar limits, then the contract budget, each in service order.

    ``whole_units``: the contract pays whole units at a unit price, so a dollar limit that
    leaves room for part of a unit pays none of it.
    """
    units = units.astype(float)
    amount = amount.astype(float)
    price = np.divide(amount, units, out=np.zeros_like(amount), where=units > 0)
    result = CapResult(units.copy(), amount.copy())

    def note(cap_id: str, before: np.ndarray, after: np.ndarray) -> None:
        result.stopped_by.append((cap_id, after < before - 1e-9))

    unit_limits = (
        ("cap.units_per_month", caps.units_per_month, participant * 100_000 + month),
        ("cap.units_per_year", caps.units_per_year, participant * 10_000 + year),
    )
    for cap_id, limit, groups in unit_limits:
        if limit is None:
            continue
        allowed = running_cap(result.units, groups, limit)
        if whole_units:
            allowed = np.floor(allowed + 1e-9)
        note(cap_id, result.units, allowed)
        result.amount = np.where(result.units > 0, allowed * price, result.amount)
        result.units = allowed
    amount_limits = (
        ("cap.amount_per_month", caps.amount_per_month, participant * 100_000 + month),
        ("cap.amount_per_year", caps.amount_per_year, participant * 10_000 + year),
        ("cap.amount_lifetime", caps.amount_lifetime, participant),
        ("cap.budget", None if caps.budget is None else caps.budget - spent_budget, None),
    )
    for cap_id, limit, groups in amount_limits:
        if limit is None:
            continue
        allowed = running_cap(result.amount, groups, max(limit, 0.0))
        if whole_units:
            whole = np.floor(
                np.divide(allowed, price, out=np.zeros_like(allowed), where=price > 0) + 1e-9
            )
            allowed = np.where(price > 0, whole * price, allowed)
            new_units = np.where(price > 0, whole, result.units)
        else:
            share = np.divide(allowed, result.amount, out=np.ones_like(allowed),
                              where=result.amount > 0)
            new_units = result.units * share
        note(cap_id, result.amount, allowed)
        result.units = new_units
        result.amount = allowed
    return result

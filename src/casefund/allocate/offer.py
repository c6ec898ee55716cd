"""What the waterfall offers a contract and what the contract's payment model takes of it.

A payment model receives the activities its contract's rules allowed (in canonical service
order, as arrays aligned row for row) and returns, per activity, the minutes it takes, the
units and dollars it pays, whether the activity is billed or bundled into another line's
payment, and the outcome ids that explain it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from casefund.allocate.caps import CapResult, apply_caps
from casefund.allocate.status import LineStatus
from casefund.engine.adjudication import Adjudication
from casefund.facts.index import DayQueries
from casefund.records.contracts import Contract

Reasons = list[tuple[str, np.ndarray]]


@dataclass
class AllowedActivities:
    """The activities a contract's rules allowed, with what is left of each."""

    minutes: np.ndarray  # remaining minutes
    amount: np.ndarray  # remaining recorded cost (dollars), 0 where none
    quantity: np.ndarray  # recorded quantity, NaN where none
    participant: np.ndarray
    day: np.ndarray
    month: np.ndarray  # months since 1970
    year: np.ndarray
    rank: np.ndarray  # canonical order, a deterministic tiebreak
    activity: np.ndarray  # activity codes
    hourly_cost: np.ndarray  # staff cost per hour, NaN where unknown
    mode: np.ndarray  # contact mode codes ('' where not recorded)
    episode: dict[str, np.ndarray] = field(default_factory=dict)  # span number per cap


@dataclass
class ContractShare:
    """What one contract took of its allowed activities, row for row."""

    minutes: np.ndarray
    units: np.ndarray
    amount: np.ndarray
    status: np.ndarray  # LineStatus codes: NOT_TAKEN, BILLABLE or BUNDLED
    cost_taken: np.ndarray  # recorded cost consumed (for cost-based payment)
    line_reasons: Reasons = field(default_factory=list)  # why each taken row was paid so
    stop_reasons: Reasons = field(default_factory=list)  # why a row was not (fully) taken


def offered(
    adjudication: Adjudication,
    contract: Contract,
    rows: np.ndarray,
    minutes: np.ndarray,
    amount: np.ndarray,
) -> AllowedActivities:
    """The adjudicated activities at ``rows`` as offered to ``contract``, with ``minutes``
    and recorded cost ``amount`` left of each."""
    column = adjudication.array
    scope = adjudication.activity_scope
    episodes = {}
    for cap_id, limit in contract.caps.episode_limits().items():
        # The number of the recorded span of the cap's program covering each row's day.
        spans = scope.data.determinations(limit.program, contract.coverage_payer)
        episodes[cap_id] = spans.containing(DayQueries.of(scope.codes[rows], scope.as_of[rows]))
    return AllowedActivities(
        minutes=minutes,
        amount=amount,
        quantity=column("quantity")[rows],
        participant=column("_code")[rows],
        day=column("_day")[rows],
        month=column("_month_index")[rows],
        year=column("_year")[rows],
        rank=rows.astype(np.int64),
        activity=column("activity")[rows],
        hourly_cost=adjudication.hourly_cost[rows],
        mode=column("mode")[rows],
        episode=episodes,
    )


def group_ids(participant: np.ndarray, period: np.ndarray) -> np.ndarray:
    """Dense group numbers for (participant, day or month) pairs (order-free)."""
    if len(participant) == 0:
        return np.zeros(0, dtype=np.int64)
    # Days and months since 1970 fit well under 10**6, so one int64 key is exact.
    combined = participant.astype(np.int64) * 1_000_000 + period.astype(np.int64)
    _, inverse = np.unique(combined, return_inverse=True)
    return np.asarray(inverse).reshape(-1).astype(np.int64)


def first_in_group(groups: np.ndarray, eligible: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """The earliest eligible row of each group (by canonical rank)."""
    first = np.zeros(len(groups), dtype=bool)
    idx = np.flatnonzero(eligible)
    if len(idx) == 0:
        return first
    order = idx[np.lexsort((rank[idx], groups[idx]))]
    g = groups[order]
    lead = np.r_[True, g[1:] != g[:-1]]
    first[order[lead]] = True
    return first


def any_in_group(groups: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Per row: whether some row of its group is in ``rows``."""
    if len(groups) == 0:
        return np.zeros(0, dtype=bool)
    hit: np.ndarray = np.bincount(groups, weights=rows, minlength=int(groups.max()) + 1) > 0
    found: np.ndarray = hit[groups]
    return found


def proportional_minutes(minutes: np.ndarray, paid: np.ndarray, asked: np.ndarray) -> np.ndarray:
    """Minutes that go with the paid share of a request; all of them when fully paid."""
    full = paid >= asked - 1e-9
    share = np.divide(paid, asked, out=np.zeros_like(paid, dtype=float), where=asked > 0)
    return np.where(full, minutes, np.floor(minutes * share).astype(np.int64))


def capped(
    offer: AllowedActivities,
    units: np.ndarray,
    amount: np.ndarray,
    contract: Contract,
    whole_units: bool,
) -> CapResult:
    """Units and dollars left after the contract's caps, and which cap stopped which row."""
    return apply_caps(
        units,
        amount,
        contract.caps,
        offer.participant,
        offer.month,
        offer.year,
        whole_units=whole_units,
        day=offer.day,
        episode=offer.episode,
    )


def floor_cents(values: np.ndarray) -> np.ndarray:
    """Dollars rounded down to the cent, so rounding never carries a sum over a cap."""
    return np.asarray(np.floor(np.asarray(values, dtype=float) * 100 + 1e-6) / 100)


def one_payment_per_group(
    offer: AllowedActivities,
    contract: Contract,
    groups: np.ndarray,
    carrier: np.ndarray,
    rate: np.ndarray,
    paid_reasons: tuple[str, ...],
    bundled_reason: str,
) -> ContractShare:
    """One payment per group (a participant-day's encounter, an engaged member-month): the
    group's ``carrier`` row is paid one unit at ``rate`` and every other offered row of a
    paid group is bundled into it. A cap that stops the carrier stops its whole group."""
    caps = capped(offer, carrier.astype(float), carrier * rate, contract, whole_units=True)
    paid_units, paid_amount, stopped_by = caps.units, caps.amount, caps.stopped_by
    paid = carrier & (paid_units > 0)
    taken_rows = any_in_group(groups, paid)
    status = np.where(
        paid, LineStatus.BILLABLE, np.where(taken_rows, LineStatus.BUNDLED, LineStatus.NOT_TAKEN)
    )
    share = ContractShare(
        np.where(taken_rows, offer.minutes, 0),
        paid.astype(float),
        np.round(np.where(paid, paid_amount, 0.0), 2),
        status,
        np.zeros(len(paid)),
    )
    share.line_reasons += [(reason, paid) for reason in paid_reasons]
    share.line_reasons.append((bundled_reason, status == LineStatus.BUNDLED))
    for cap, stop in stopped_by:
        share.stop_reasons.append((cap, any_in_group(groups, stop & carrier) & ~taken_rows))
    return share

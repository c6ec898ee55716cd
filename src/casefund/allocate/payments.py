"""Payment models: what one contract takes of the activities its rules allowed.

Each model receives the allowed activities (in canonical service order) and returns, per
activity, the minutes it takes, the units and dollars it pays, whether the activity is billed
or bundled into another line's payment, and the outcome ids that explain it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from casefund.allocate.caps import apply_caps
from casefund.payers.contracts import Contract
from casefund.units.policies import day_units_to_activities, units_for_minutes

BILLABLE, BUNDLED = 1, 2


@dataclass
class Offer:
    """The allowed activities, as arrays aligned row for row."""

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


@dataclass
class Take:
    minutes: np.ndarray
    units: np.ndarray
    amount: np.ndarray
    status: np.ndarray  # 0 not taken, BILLABLE, BUNDLED
    cost_taken: np.ndarray  # recorded cost consumed (for cost-based payment)
    line_reasons: list[tuple[str, np.ndarray]] = field(default_factory=list)
    stop_reasons: list[tuple[str, np.ndarray]] = field(default_factory=list)


def _group_ids(participant: np.ndarray, period: np.ndarray) -> np.ndarray:
    """Dense group numbers for (participant, day or month) pairs (order-free)."""
    if len(participant) == 0:
        return np.zeros(0, dtype=np.int64)
    # Days and months since 1970 fit well under 10**6, so one int64 key is exact.
    combined = participant.astype(np.int64) * 1_000_000 + period.astype(np.int64)
    _, inverse = np.unique(combined, return_inverse=True)
    return np.asarray(inverse).reshape(-1).astype(np.int64)


def _first_in_group(groups: np.ndarray, eligible: np.ndarray, rank: np.ndarray) -> np.ndarray:
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


def _proportional_minutes(minutes: np.ndarray, paid: np.ndarray, asked: np.ndarray) -> np.ndarray:
    """Minutes that go with the paid share of a request; all of them when fully paid."""
    full = paid >= asked - 1e-9
    share = np.divide(paid, asked, out=np.zeros_like(paid, dtype=float), where=asked > 0)
    return np.where(full, minutes, np.floor(minutes * share).astype(np.int64))


def time_units(
    offer: Offer, params: dict[str, Any], contract: Contract, outcome: str = "payment.ffs_unit"
) -> Take:
    """Fee for service in time units (ffs_unit, and grants with a unit rate)."""
    unit = int(params["unit_minutes"])
    rounding = str(params["rounding"])
    if rounding == "encounter":
        # An encounter is a contact, not a length of time: one per participant and day.
        return encounters(offer, params, contract)
    per_day = params["aggregate"] == "per_day" or rounding == "cms_8_minute"
    rate = float(params.get("rate") or 0.0)
    minutes = offer.minutes
    if per_day:
        day_group = _group_ids(offer.participant, offer.day)
        totals = np.bincount(day_group, weights=minutes).astype(np.int64)
        day_units = units_for_minutes(totals, unit, rounding)
        units = day_units_to_activities(day_group, minutes, offer.rank, day_units, unit)
    else:
        day_group = np.arange(len(minutes))
        day_units = units_for_minutes(minutes, unit, rounding)
        units = day_units
    capped = apply_caps(
        units, units * rate, contract.caps, offer.participant, offer.month, offer.year,
        whole_units=True, spent_budget=0.0,
    )
    paid_units = capped.units.astype(np.int64)
    billed = paid_units > 0
    # A day's short services ride on its billed units when their minutes made those units.
    day_paid = np.bincount(day_group, weights=paid_units, minlength=len(day_units)) > 0
    bundled = per_day & (units == 0) & day_paid[day_group] & (minutes > 0)
    taken = np.where(billed, _proportional_minutes(minutes, paid_units, units), 0)
    taken = np.where(bundled, minutes, taken)
    status = np.where(billed, BILLABLE, np.where(bundled, BUNDLED, 0))
    below = (units == 0) & ~bundled
    take = Take(taken, paid_units.astype(float), np.round(capped.amount * billed, 2), status,
                np.zeros(len(minutes)))
    policy = f"units.{rounding}"
    take.line_reasons += [(policy, billed), (outcome, billed),
                          ("units.bundled_in_day", bundled)]
    take.stop_reasons.append(("units.below_minimum", below))
    leftover = (taken < minutes) & ~below
    take.stop_reasons += [(cap, stop & leftover) for cap, stop in capped.stopped_by]
    return take


def encounters(offer: Offer, params: dict[str, Any], contract: Contract) -> Take:
    """One encounter per participant and day; the day's other contacts are bundled into it."""
    rate = float(params.get("rate") or 0.0)
    day_group = _group_ids(offer.participant, offer.day)
    first = _first_in_group(day_group, np.ones(len(day_group), dtype=bool), offer.rank)
    requested = first.astype(float)
    capped = apply_caps(
        requested, requested * rate, contract.caps, offer.participant, offer.month, offer.year,
        whole_units=True,
    )
    paid = first & (capped.units > 0)
    day_paid = np.bincount(day_group, weights=paid, minlength=day_group.max() + 1 if len(
        day_group) else 0) > 0
    taken_rows = day_paid[day_group] if len(day_group) else np.zeros(0, dtype=bool)
    status = np.where(paid, BILLABLE, np.where(taken_rows, BUNDLED, 0))
    take = Take(np.where(taken_rows, offer.minutes, 0), paid.astype(float),
                np.round(np.where(paid, capped.amount, 0.0), 2), status, np.zeros(len(paid)))
    take.line_reasons += [("units.encounter", paid), ("payment.ffs_encounter", paid),
                          ("units.bundled_in_day", status == BUNDLED)]
    for cap, stop in capped.stopped_by:
        day_stopped = np.bincount(day_group, weights=stop & first,
                                  minlength=len(day_paid)) > 0
        take.stop_reasons.append((cap, day_stopped[day_group] & ~taken_rows))
    return take


def monthly(offer: Offer, params: dict[str, Any], contract: Contract) -> Take:
    """PEMPM / monthly case rate: one payment per engaged member-month.

    The month is engaged when its qualifying services reach ``min_services_per_month``; its
    first qualifying service carries the payment and every other allowed activity of the
    month is bundled into it.
    """
    rate = float(params.get("rate") or 0.0)
    minimum = int(params.get("min_services_per_month") or 1)
    qualifying_codes = list(params.get("qualifying_activities") or [])
    qualifying = np.isin(offer.activity, qualifying_codes)
    month_group = _group_ids(offer.participant, offer.month)
    groups = int(month_group.max()) + 1 if len(month_group) else 0
    services = np.bincount(month_group, weights=qualifying, minlength=groups)
    engaged_month = services >= minimum
    first = _first_in_group(month_group, qualifying & engaged_month[month_group], offer.rank)
    requested = first.astype(float)
    capped = apply_caps(
        requested, requested * rate, contract.caps, offer.participant, offer.month, offer.year,
        whole_units=True,
    )
    paid = first & (capped.units > 0)
    month_paid = np.bincount(month_group, weights=paid, minlength=groups) > 0
    taken_rows = month_paid[month_group] if groups else np.zeros(0, dtype=bool)
    status = np.where(paid, BILLABLE, np.where(taken_rows, BUNDLED, 0))
    take = Take(np.where(taken_rows, offer.minutes, 0), paid.astype(float),
                np.round(np.where(paid, capped.amount, 0.0), 2), status, np.zeros(len(paid)))
    take.line_reasons += [("payment.monthly_first_service", paid),
                          ("payment.bundled_in_month", status == BUNDLED)]
    not_engaged = ~engaged_month[month_group] if groups else np.zeros(0, dtype=bool)
    take.stop_reasons.append(("payment.month_not_engaged", not_engaged))
    for cap, stop in capped.stopped_by:
        month_stopped = np.bincount(month_group, weights=stop & first, minlength=groups) > 0
        take.stop_reasons.append((cap, month_stopped[month_group] & ~taken_rows))
    return take


def costs(offer: Offer, params: dict[str, Any], contract: Contract, outcome: str) -> Take:
    """Cost-based payment: the recorded cost of the activity and, for grants, of the time.

    A grant with a ``rate`` and no ``unit_minutes`` pays that rate per hour of time; without
    a rate it pays the staff member's hourly cost. Recorded activity costs (a deposit's
    dollars) are paid as recorded.
    """
    time_cost = np.zeros(len(offer.minutes))
    if outcome == "payment.grant":
        rate = params.get("rate")
        per_hour = np.full(len(offer.minutes), float(rate)) if rate else offer.hourly_cost
        time_cost = np.nan_to_num(per_hour * offer.minutes / 60.0)
    asked = np.round(time_cost + offer.amount, 2)
    units = np.where(np.isnan(offer.quantity), np.where(offer.minutes > 0, offer.minutes / 60.0,
                                                         1.0), offer.quantity)
    capped = apply_caps(units, asked, contract.caps, offer.participant, offer.month, offer.year,
                        whole_units=False)
    paid = floor_cents(capped.amount) > 0
    minutes = _proportional_minutes(offer.minutes, capped.amount, asked)
    cost_share = np.divide(capped.amount, asked, out=np.zeros_like(asked), where=asked > 0)
    # Rounded down to the cent (and hundredth of a unit) so that rounding can never carry
    # a sum over a cap or budget.
    take = Take(np.where(paid, minutes, 0), floor_cents(np.where(paid, capped.units, 0.0)),
                floor_cents(capped.amount), np.where(paid, BILLABLE, 0),
                np.where(paid, offer.amount * cost_share, 0.0))
    take.line_reasons.append((outcome, paid))
    take.stop_reasons.append(("payment.no_amount", asked <= 0))
    for cap, stop in capped.stopped_by:
        take.stop_reasons.append((cap, stop))
    return take


def pays_whole_units(contract: Contract) -> bool:
    """Whether the contract pays whole units at a unit price (not recorded or hourly cost)."""
    return contract.payment in ("ffs_unit", "ffs_encounter", "pempm", "monthly_case_rate") or (
        contract.payment == "grant" and bool(contract.unit_minutes and contract.rate))


def floor_cents(values: np.ndarray) -> np.ndarray:
    return np.asarray(np.floor(np.asarray(values, dtype=float) * 100 + 1e-6) / 100)


def pay(offer: Offer, params: dict[str, Any], contract: Contract) -> Take:
    model = contract.payment
    if model == "ffs_unit":
        return time_units(offer, params, contract)
    if model == "grant" and pays_whole_units(contract):
        return time_units(offer, params, contract, "payment.grant")
    if model == "ffs_encounter":
        return encounters(offer, params, contract)
    if model in ("pempm", "monthly_case_rate"):
        return monthly(offer, params, contract)
    if model == "cost_reimbursement":
        return costs(offer, params, contract, "payment.cost_reimbursement")
    return costs(offer, params, contract, "payment.grant")

"""Payment models: what one contract takes of the activities its rules allowed.

Each model receives the allowed activities (in canonical service order) and returns, per
activity, the minutes it takes, the units and dollars it pays, whether the activity is billed
or bundled into another line's payment, and the outcome ids that explain it. Every term a
model reads (rate, unit length, rounding, the qualifying services, what counts as an
encounter) is read as of the row's own service date; a monthly payment reads its terms as of
the first day of the member-month it pays for.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from casefund.allocate.caps import apply_caps
from casefund.engine.params import ResolvedParameters, Terms
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
    mode: np.ndarray  # contact mode codes ('' where not recorded)
    episode: dict[str, np.ndarray] = field(default_factory=dict)  # span number per program


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


def _any_in_group(groups: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Per row: whether some row of its group is in ``rows``."""
    if len(groups) == 0:
        return np.zeros(0, dtype=bool)
    hit: np.ndarray = np.bincount(groups, weights=rows, minlength=int(groups.max()) + 1) > 0
    found: np.ndarray = hit[groups]
    return found


def _proportional_minutes(minutes: np.ndarray, paid: np.ndarray, asked: np.ndarray) -> np.ndarray:
    """Minutes that go with the paid share of a request; all of them when fully paid."""
    full = paid >= asked - 1e-9
    share = np.divide(paid, asked, out=np.zeros_like(paid, dtype=float), where=asked > 0)
    return np.where(full, minutes, np.floor(minutes * share).astype(np.int64))


def _capped(offer: Offer, units: np.ndarray, price: np.ndarray, contract: Contract,
            whole_units: bool) -> tuple[np.ndarray, np.ndarray, list[tuple[str, np.ndarray]]]:
    capped = apply_caps(units, units * price, contract.caps, offer.participant, offer.month,
                        offer.year, whole_units=whole_units, day=offer.day,
                        episode=offer.episode)
    return capped.units, capped.amount, capped.stopped_by


def time_units(
    offer: Offer, params: ResolvedParameters, contract: Contract,
    outcome: str = "payment.ffs_unit",
) -> Take:
    """Fee for service in time units (ffs_unit, and grants with a unit rate).

    Rows whose rounding is ``encounter`` on their day count encounters instead of minutes;
    a participant-day lies in one parameter segment, so a day is never split between the two.
    """
    terms = params.terms(offer.day)
    rounding = terms.text("rounding")
    counting = rounding == "encounter"
    rate = np.nan_to_num(terms.number("rate", 0.0))
    day_group = _group_ids(offer.participant, offer.day)
    minutes = offer.minutes
    timed = ~counting
    unit = np.where(timed, terms.number("unit_minutes", 1.0), 1.0).astype(np.int64)
    per_day = timed & ((terms.text("aggregate") == "per_day") | (rounding == "cms_8_minute"))
    # Units asked: per day where minutes are summed first, per activity elsewhere.
    units = np.zeros(len(minutes), dtype=np.int64)
    groups = int(day_group.max()) + 1 if len(day_group) else 0
    totals = np.bincount(day_group, weights=np.where(per_day, minutes, 0),
                         minlength=groups).astype(np.int64)
    day_unit = np.ones(groups, dtype=np.int64)
    day_unit[day_group] = unit
    day_units = np.zeros(groups, dtype=np.int64)
    for policy in np.unique(rounding[timed]):
        in_policy = timed & (rounding == policy)
        days_of = np.zeros(groups, dtype=bool)
        days_of[day_group[in_policy & per_day]] = True
        day_units[days_of] = units_for_minutes(totals[days_of], day_unit[days_of], str(policy))
        alone = in_policy & ~per_day
        units[alone] = units_for_minutes(minutes[alone], unit[alone], str(policy))
    if per_day.any():
        shared = day_units_to_activities(day_group, minutes, offer.rank, day_units, unit)
        units = np.where(per_day, shared, units)
    encounter = _encounter_rows(offer, params, day_group, counting)
    units = np.where(counting, encounter.astype(np.int64), units)
    paid_units, paid_amount, stopped_by = _capped(offer, units.astype(float), rate, contract,
                                                  whole_units=True)
    paid_units = paid_units.astype(np.int64)
    billed = paid_units > 0
    day_paid = _any_in_group(day_group, billed)
    # A day's short services ride on its billed units when their minutes made those units;
    # a day's other contacts ride on its encounter.
    bundled = ~billed & day_paid & ((per_day & (units == 0) & (minutes > 0)) | counting)
    taken = np.where(billed & timed, _proportional_minutes(minutes, paid_units, units), 0)
    taken = np.where(bundled | (billed & counting), minutes, taken)
    status = np.where(billed, BILLABLE, np.where(bundled, BUNDLED, 0))
    take = Take(taken, paid_units.astype(float), np.round(paid_amount * billed, 2), status,
                np.zeros(len(minutes)))
    for policy in np.unique(rounding[timed & billed]):
        take.line_reasons.append((f"units.{policy}", billed & (rounding == policy)))
    take.line_reasons += [("units.encounter", billed & counting), (outcome, billed),
                          ("units.bundled_in_day", bundled)]
    below = timed & (units == 0) & ~bundled
    take.stop_reasons.append(("units.below_minimum", below))
    no_encounter = counting & ~_any_in_group(day_group, encounter)
    take.stop_reasons.append(("units.not_an_encounter", no_encounter))
    leftover = (taken < minutes) & ~below & ~no_encounter
    if counting.any():
        # A stopped encounter stops its whole day.
        stopped_by = [(cap, np.where(counting, _any_in_group(day_group, stop & encounter),
                                     stop)) for cap, stop in stopped_by]
    take.stop_reasons += [(cap, stop & leftover) for cap, stop in stopped_by]
    return take


def _encounter_rows(offer: Offer, params: ResolvedParameters, day_group: np.ndarray,
                    counting: np.ndarray) -> np.ndarray:
    """The row that carries each participant-day's encounter: its first contact in a mode
    that counts as an encounter on that day (22 CCR §51185(a); ``encounter_modes``)."""
    if not counting.any():
        return np.zeros(len(counting), dtype=bool)
    counts = params.terms(offer.day).member("encounter_modes", offer.mode)
    return _first_in_group(day_group, counting & counts, offer.rank)


def encounters(offer: Offer, params: ResolvedParameters, contract: Contract) -> Take:
    """One encounter per participant and day; the day's other contacts are bundled into it."""
    rate = np.nan_to_num(params.terms(offer.day).number("rate", 0.0))
    day_group = _group_ids(offer.participant, offer.day)
    everything = np.ones(len(day_group), dtype=bool)
    first = _encounter_rows(offer, params, day_group, everything)
    paid_units, paid_amount, stopped_by = _capped(offer, first.astype(float), rate, contract,
                                                  whole_units=True)
    paid = first & (paid_units > 0)
    taken_rows = _any_in_group(day_group, paid)
    status = np.where(paid, BILLABLE, np.where(taken_rows, BUNDLED, 0))
    take = Take(np.where(taken_rows, offer.minutes, 0), paid.astype(float),
                np.round(np.where(paid, paid_amount, 0.0), 2), status, np.zeros(len(paid)))
    take.line_reasons += [("units.encounter", paid), ("payment.ffs_encounter", paid),
                          ("units.bundled_in_day", status == BUNDLED)]
    take.stop_reasons.append(("units.not_an_encounter", ~_any_in_group(day_group, first)))
    for cap, stop in stopped_by:
        take.stop_reasons.append((cap, _any_in_group(day_group, stop & first) & ~taken_rows))
    return take


def _month_start(month: np.ndarray) -> np.ndarray:
    """Day numbers of the first day of each month number (months since 1970)."""
    days: np.ndarray = month.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return days


def monthly(offer: Offer, params: ResolvedParameters, contract: Contract) -> Take:
    """PEMPM / monthly case rate: one payment per engaged member-month.

    The month is engaged when its qualifying services reach ``min_services_per_month``; its
    first qualifying service carries the payment and every other allowed activity of the
    month is bundled into it. The month's terms are those in force on its first day.
    """
    terms: Terms = params.terms(_month_start(offer.month))
    rate = np.nan_to_num(terms.number("rate", 0.0))
    minimum = np.where(np.isnan(m := terms.number("min_services_per_month")), 1, m)
    qualifying = terms.member("qualifying_activities", offer.activity)
    month_group = _group_ids(offer.participant, offer.month)
    groups = int(month_group.max()) + 1 if len(month_group) else 0
    services = np.bincount(month_group, weights=qualifying, minlength=groups)
    engaged = services[month_group] >= minimum
    first = _first_in_group(month_group, qualifying & engaged, offer.rank)
    paid_units, paid_amount, stopped_by = _capped(offer, first.astype(float), rate, contract,
                                                  whole_units=True)
    paid = first & (paid_units > 0)
    taken_rows = _any_in_group(month_group, paid)
    status = np.where(paid, BILLABLE, np.where(taken_rows, BUNDLED, 0))
    take = Take(np.where(taken_rows, offer.minutes, 0), paid.astype(float),
                np.round(np.where(paid, paid_amount, 0.0), 2), status, np.zeros(len(paid)))
    take.line_reasons += [("payment.monthly_first_service", paid),
                          ("payment.bundled_in_month", status == BUNDLED)]
    take.stop_reasons.append(("payment.month_not_engaged", ~engaged))
    for cap, stop in stopped_by:
        take.stop_reasons.append((cap, _any_in_group(month_group, stop & first) & ~taken_rows))
    return take


def costs(offer: Offer, params: ResolvedParameters, contract: Contract, outcome: str) -> Take:
    """Cost-based payment: the recorded cost of the activity and, for grants, of the time.

    A grant with a ``rate`` and no ``unit_minutes`` pays that rate per hour of time; without
    a rate it pays the staff member's hourly cost. Recorded activity costs (a deposit's
    dollars) are paid as recorded.
    """
    time_cost = np.zeros(len(offer.minutes))
    if outcome == "payment.grant":
        rate = params.terms(offer.day).number("rate", 0.0)
        per_hour = np.where(rate > 0, rate, offer.hourly_cost)
        time_cost = np.nan_to_num(per_hour * offer.minutes / 60.0)
    asked = np.round(time_cost + offer.amount, 2)
    units = np.where(np.isnan(offer.quantity), np.where(offer.minutes > 0, offer.minutes / 60.0,
                                                         1.0), offer.quantity)
    capped = apply_caps(units, asked, contract.caps, offer.participant, offer.month, offer.year,
                        whole_units=False, day=offer.day, episode=offer.episode)
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
    return contract.payment in ("ffs_encounter", "pempm", "monthly_case_rate") or (
        contract.pays_by_time())


def floor_cents(values: np.ndarray) -> np.ndarray:
    return np.asarray(np.floor(np.asarray(values, dtype=float) * 100 + 1e-6) / 100)


def pay(offer: Offer, params: ResolvedParameters, contract: Contract) -> Take:
    model = contract.payment
    if model == "ffs_unit":
        return time_units(offer, params, contract)
    if model == "grant" and contract.pays_by_time():
        return time_units(offer, params, contract, "payment.grant")
    if model == "ffs_encounter":
        return encounters(offer, params, contract)
    if model in ("pempm", "monthly_case_rate"):
        return monthly(offer, params, contract)
    if model == "cost_reimbursement":
        return costs(offer, params, contract, "payment.cost_reimbursement")
    return costs(offer, params, contract, "payment.grant")

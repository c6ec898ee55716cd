"""Fee for service in time units (``ffs_unit``, and grants with a unit rate).

Minutes become units by the contract's rounding rule as of each row's service date, per
activity or summed per participant-day first. Rows whose rounding is ``encounter`` on their
day count encounters instead of minutes; a participant-day lies in one parameter segment, so
a day is never split between the two.
"""

from __future__ import annotations

import numpy as np

from casefund.allocate.models.encounter import encounter_rows
from casefund.allocate.offer import (
    AllowedActivities,
    ContractShare,
    any_in_group,
    capped,
    group_ids,
    proportional_minutes,
)
from casefund.allocate.status import LineStatus
from casefund.payers.terms import ResolvedParameters, Terms
from casefund.records.contracts import Contract
from casefund.records.frames import distinct_texts
from casefund.records.payment_models import PaymentModel
from casefund.units.policies import day_units_to_activities, units_for_minutes


def units_asked(
    offer: AllowedActivities,
    terms: Terms,
    day_group: np.ndarray,
    timed: np.ndarray,
    per_day: np.ndarray,
) -> np.ndarray:
    """Units the minutes make before caps: per day where minutes are summed first, per
    activity elsewhere (a day's units are then shared out over its activities)."""
    minutes = offer.minutes
    rounding = terms.text("rounding")
    unit = np.where(timed, terms.number("unit_minutes", 1.0), 1.0).astype(np.int64)
    units = np.zeros(len(minutes), dtype=np.int64)
    groups = int(day_group.max()) + 1 if len(day_group) else 0
    totals = np.bincount(day_group, weights=np.where(per_day, minutes, 0), minlength=groups).astype(
        np.int64
    )
    day_unit = np.ones(groups, dtype=np.int64)
    day_unit[day_group] = unit
    day_units = np.zeros(groups, dtype=np.int64)
    for policy in distinct_texts(rounding[timed]):
        in_policy = timed & (rounding == policy)
        days_of = np.zeros(groups, dtype=bool)
        days_of[day_group[in_policy & per_day]] = True
        day_units[days_of] = units_for_minutes(totals[days_of], day_unit[days_of], str(policy))
        alone = in_policy & ~per_day
        units[alone] = units_for_minutes(minutes[alone], unit[alone], str(policy))
    if per_day.any():
        shared = day_units_to_activities(day_group, minutes, offer.rank, day_units, unit)
        units = np.where(per_day, shared, units)
    return units


def pay(
    offer: AllowedActivities, params: ResolvedParameters, contract: Contract, model: PaymentModel
) -> ContractShare:
    terms = params.terms(offer.day)
    rounding = terms.text("rounding")
    counting = rounding == "encounter"
    timed = ~counting
    per_day = timed & ((terms.text("aggregate") == "per_day") | (rounding == "cms_8_minute"))
    day_group = group_ids(offer.participant, offer.day)
    minutes = offer.minutes
    encounter = encounter_rows(offer, params, day_group, counting)
    units = np.where(
        counting, encounter.astype(np.int64), units_asked(offer, terms, day_group, timed, per_day)
    )
    rate = np.nan_to_num(terms.number("rate", 0.0))
    caps = capped(offer, units.astype(float), units * rate, contract, whole_units=True)
    paid_units, paid_amount, stopped_by = caps.units, caps.amount, caps.stopped_by
    paid_units = paid_units.astype(np.int64)
    billed = paid_units > 0
    # A day's short services ride on its billed units when their minutes made those units;
    # a day's other contacts ride on its encounter.
    bundled = (
        ~billed
        & any_in_group(day_group, billed)
        & ((per_day & (units == 0) & (minutes > 0)) | counting)
    )
    taken = np.where(billed & timed, proportional_minutes(minutes, paid_units, units), 0)
    taken = np.where(bundled | (billed & counting), minutes, taken)
    status = np.where(
        billed, LineStatus.BILLABLE, np.where(bundled, LineStatus.BUNDLED, LineStatus.NOT_TAKEN)
    )
    share = ContractShare(
        taken,
        paid_units.astype(float),
        np.round(paid_amount * billed, 2),
        status,
        np.zeros(len(minutes)),
    )
    for policy in distinct_texts(rounding[timed & billed]):
        share.line_reasons.append((f"units.{policy}", billed & (rounding == policy)))
    share.line_reasons += [
        ("units.encounter", billed & counting),
        (model.outcome, billed),
        ("units.bundled_in_day", bundled),
    ]
    below = timed & (units == 0) & ~bundled
    no_encounter = counting & ~any_in_group(day_group, encounter)
    share.stop_reasons += [("units.below_minimum", below), ("units.not_an_encounter", no_encounter)]
    leftover = (taken < minutes) & ~below & ~no_encounter
    if counting.any():
        # A stopped encounter stops its whole day.
        stopped_by = [
            (cap, np.where(counting, any_in_group(day_group, stop & encounter), stop))
            for cap, stop in stopped_by
        ]
    share.stop_reasons += [(cap, stop & leftover) for cap, stop in stopped_by]
    return share

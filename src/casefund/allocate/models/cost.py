"""Cost-based payment: the recorded cost of the activity and, where the model pays staff
time (a grant), the time at the contract's hourly rate or else the staff member's hourly
cost. Recorded activity costs (a deposit's dollars) are paid as recorded."""

from __future__ import annotations

import numpy as np

from casefund.allocate.offer import (
    AllowedActivities,
    ContractShare,
    capped,
    floor_cents,
    proportional_minutes,
)
from casefund.allocate.status import LineStatus
from casefund.payers.terms import ResolvedParameters
from casefund.records.contracts import Contract
from casefund.records.payment_models import PaymentModel


def pay(
    offer: AllowedActivities, params: ResolvedParameters, contract: Contract, model: PaymentModel
) -> ContractShare:
    time_cost = np.zeros(len(offer.minutes))
    if model.staff_time:
        rate = params.terms(offer.day).number("rate", 0.0)
        per_hour = np.where(rate > 0, rate, offer.hourly_cost)
        time_cost = np.nan_to_num(per_hour * offer.minutes / 60.0)
    asked = np.round(time_cost + offer.amount, 2)
    units = np.where(
        np.isnan(offer.quantity),
        np.where(offer.minutes > 0, offer.minutes / 60.0, 1.0),
        offer.quantity,
    )
    limited = capped(offer, units, asked, contract, whole_units=False)
    paid = floor_cents(limited.amount) > 0
    minutes = proportional_minutes(offer.minutes, limited.amount, asked)
    cost_share = np.divide(limited.amount, asked, out=np.zeros_like(asked), where=asked > 0)
    # Rounded down to the cent (and hundredth of a unit) so that rounding can never carry
    # a sum over a cap or budget.
    share = ContractShare(
        np.where(paid, minutes, 0),
        floor_cents(np.where(paid, limited.units, 0.0)),
        floor_cents(limited.amount),
        np.where(paid, LineStatus.BILLABLE, LineStatus.NOT_TAKEN),
        np.where(paid, offer.amount * cost_share, 0.0),
    )
    share.line_reasons.append((model.outcome, paid))
    share.stop_reasons.append(("payment.no_amount", asked <= 0))
    share.stop_reasons += limited.stopped_by
    return share

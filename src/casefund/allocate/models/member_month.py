"""PEMPM and monthly case rates: one payment per engaged member-month.

The month is engaged when its qualifying services reach ``min_services_per_month``; its
first qualifying service carries the payment and every other allowed activity of the month
is bundled into it. The month's terms are those in force on its first day.
"""

from __future__ import annotations

import numpy as np

from casefund.allocate.offer import (
    AllowedActivities,
    ContractShare,
    first_in_group,
    group_ids,
    one_payment_per_group,
)
from casefund.payers.terms import ResolvedParameters
from casefund.records.contracts import Contract
from casefund.records.days import month_first_day
from casefund.records.payment_models import PaymentModel


def pay(
    offer: AllowedActivities, params: ResolvedParameters, contract: Contract, model: PaymentModel
) -> ContractShare:
    terms = params.terms(month_first_day(offer.month))
    rate = np.nan_to_num(terms.number("rate", 0.0))
    minimum = np.where(np.isnan(m := terms.number("min_services_per_month")), 1, m)
    qualifying = terms.member("qualifying_activities", offer.activity)
    month_group = group_ids(offer.participant, offer.month)
    groups = int(month_group.max()) + 1 if len(month_group) else 0
    services = np.bincount(month_group, weights=qualifying, minlength=groups)
    engaged = services[month_group] >= minimum
    first = first_in_group(month_group, qualifying & engaged, offer.rank)
    share = one_payment_per_group(
        offer, contract, month_group, first, rate, (model.outcome,), "payment.bundled_in_month"
    )
    share.stop_reasons.append(("payment.month_not_engaged", ~engaged))
    return share

"""Fee for service per encounter: one payment per participant-day, the day's other contacts
bundled into it."""

from __future__ import annotations

import numpy as np

from casefund.allocate.offer import (
    AllowedActivities,
    ContractShare,
    any_in_group,
    first_in_group,
    group_ids,
    one_payment_per_group,
)
from casefund.payers.terms import ResolvedParameters
from casefund.records.contracts import Contract
from casefund.records.payment_models import PaymentModel


def encounter_rows(
    offer: AllowedActivities,
    params: ResolvedParameters,
    day_group: np.ndarray,
    counting: np.ndarray,
) -> np.ndarray:
    """The row that carries each participant-day's encounter: its first contact in a mode
    that counts as an encounter on that day (22 CCR §51185(a); ``encounter_modes``)."""
    if not counting.any():
        return np.zeros(len(counting), dtype=bool)
    counts = params.terms(offer.day).member("encounter_modes", offer.mode)
    return first_in_group(day_group, counting & counts, offer.rank)


def pay(
    offer: AllowedActivities, params: ResolvedParameters, contract: Contract, model: PaymentModel
) -> ContractShare:
    rate = np.nan_to_num(params.terms(offer.day).number("rate", 0.0))
    day_group = group_ids(offer.participant, offer.day)
    first = encounter_rows(offer, params, day_group, np.ones(len(day_group), dtype=bool))
    share = one_payment_per_group(
        offer,
        contract,
        day_group,
        first,
        rate,
        ("units.encounter", model.outcome),
        "units.bundled_in_day",
    )
    share.stop_reasons.append(("units.not_an_encounter", ~any_in_group(day_group, first)))
    return share

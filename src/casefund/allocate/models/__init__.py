"""Payment models, one module per unit of payment.

``vocabulary.yaml``'s ``payment`` table is the registry: each model names the unit it pays
for, and the module of that name here holds its ``pay`` function. Adding a model that pays
for an existing unit is one table entry; a new unit is that entry plus its module.
"""

from __future__ import annotations

from importlib import import_module
from typing import Protocol, cast

from casefund.allocate.offer import AllowedActivities, ContractShare
from casefund.payers.terms import ResolvedParameters
from casefund.records.contracts import Contract
from casefund.records.payment_models import PAYMENT_MODELS, PaymentModel


class PayFunction(Protocol):
    def __call__(
        self,
        offer: AllowedActivities,
        params: ResolvedParameters,
        contract: Contract,
        model: PaymentModel,
    ) -> ContractShare: ...


def pay_function(unit: str) -> PayFunction:
    """The ``pay`` function of the module that pays for ``unit``."""
    try:
        module = import_module(f"{__name__}.{unit}")
    except ModuleNotFoundError as missing:
        raise LookupError(f"no payment module for unit {unit!r}") from missing
    return cast(PayFunction, module.pay)


def pay(offer: AllowedActivities, params: ResolvedParameters, contract: Contract) -> ContractShare:
    """What the contract's payment model takes of the activities its rules allowed. Every
    term a model reads is read as of the row's own service date (a monthly payment's as of
    the first day of the member-month it pays for)."""
    return pay_function(contract.unit)(offer, params, contract, PAYMENT_MODELS[contract.payment])

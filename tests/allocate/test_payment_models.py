"""The payment-model registry: vocabulary.yaml's table is the one list the contract model,
the waterfall, claims and the docs read."""

from __future__ import annotations

import pytest

from casefund.allocate.models import pay_function
from casefund.records.contracts import Contract
from casefund.records.payment_models import PAYMENT_MODELS, claimed_by_month
from casefund.rules.book import rule_book


@pytest.mark.parametrize("name", sorted(PAYMENT_MODELS))
def test_every_payment_model_has_a_paying_module_and_a_cited_outcome(name: str) -> None:
    model = PAYMENT_MODELS[name]
    units = ["time_units", "cost"] if model.unit == "time_units_or_cost" else [model.unit]
    for unit in units:
        assert callable(pay_function(unit))
    assert model.outcome in rule_book().outcomes


def test_the_contract_model_accepts_exactly_the_registered_models() -> None:
    base = {"id": "c", "payer": "P", "program": "grant", "priority": 1}
    for name, model in PAYMENT_MODELS.items():
        terms = {"rate": 10.0} if model.rate == "required" else {}
        assert Contract.model_validate({**base, "payment": name, **terms}).payment == name
    with pytest.raises(ValueError, match=r"unknown payment model 'pempn'.*did you mean 'pempm'"):
        Contract.model_validate({**base, "payment": "pempn", "rate": 1.0})


def test_claims_cover_a_month_exactly_for_the_models_the_table_says() -> None:
    assert set(claimed_by_month()) == {"pempm", "monthly_case_rate"}


def test_a_unit_without_a_module_is_a_clear_error() -> None:
    with pytest.raises(LookupError, match="no payment module for unit 'per_diem'"):
        pay_function("per_diem")

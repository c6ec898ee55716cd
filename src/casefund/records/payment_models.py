"""The payment models a contract may name, read from vocabulary.yaml (one table for the
contract model, the allocator, claims and the docs)."""

from __future__ import annotations

from importlib import resources
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from casefund.records.bundled import load_bundled


class PaymentModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    rate: Literal["required", "optional", "none"]
    unit: str = Field(pattern=r"^[a-z_]+$")  # names its module under casefund.allocate.models
    claimed_by: Literal["day", "month"]
    staff_time: bool = False
    terms: tuple[str, ...] = ()  # the terms and parameters its payment reads
    outcome: str
    meaning: str


def _load() -> dict[str, PaymentModel]:
    text = resources.files("casefund.records").joinpath("vocabulary.yaml").read_text("utf-8")
    table = load_bundled(text)["payment"]
    return {name: PaymentModel(name=name, **entry) for name, entry in table.items()}


PAYMENT_MODELS: Final[dict[str, PaymentModel]] = _load()


def claimed_by_month() -> tuple[str, ...]:
    """Payment models whose claims cover a month rather than a service day."""
    return tuple(name for name, model in PAYMENT_MODELS.items() if model.claimed_by == "month")

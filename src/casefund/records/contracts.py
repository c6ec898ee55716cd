"""The agency's own contracts (contracts.yaml): who pays, for what, and how — the model.

Regulatory rules ship with casefund; contracts are the user's. Unknown keys are an error that
names the contract and the key, so a typo never silently turns a cap off. The names a key may
take (programs, payment models, rounding rules) come from vocabulary.yaml, like the table
models'.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from casefund.records.payment_models import PAYMENT_MODELS
from casefund.records.periods import Effective
from casefund.records.suggestions import did_you_mean
from casefund.records.vocabulary import VOCABULARY


def _one_of(kind: str, names: tuple[str, ...]) -> AfterValidator:
    """A text that must be one of ``names`` (read from vocabulary.yaml, never typed here)."""

    def check(value: str) -> str:
        if value not in names:
            raise ValueError(
                f"unknown {kind} '{value}'{did_you_mean(value, names)}; "
                f"use one of {', '.join(names)}"
            )
        return value

    return AfterValidator(check)


def _schema(names: tuple[str, ...]) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "enum": list(names)})


_PROGRAMS, _PAYMENTS = VOCABULARY["contract_program"], tuple(PAYMENT_MODELS)
_ROUNDINGS, _AGGREGATES = VOCABULARY["rounding"], VOCABULARY["aggregate"]
Program = Annotated[str, _one_of("program", _PROGRAMS), _schema(_PROGRAMS)]
Payment = Annotated[str, _one_of("payment model", _PAYMENTS), _schema(_PAYMENTS)]
Rounding = Annotated[str, _one_of("rounding rule", _ROUNDINGS), _schema(_ROUNDINGS)]
Aggregate = Annotated[str, _one_of("aggregation", _AGGREGATES), _schema(_AGGREGATES)]


# The payment terms a contract may state in its own right (its program's parameter files
# may set them too; the contract's own value wins, as of every service date).
CONTRACT_TERMS = (
    "rate",
    "unit_minutes",
    "rounding",
    "aggregate",
    "min_services_per_month",
    "covers",
    "procedure_code",
    "modifiers",
)

# Money and quantities a contract states: finite, never negative, and of a size a contract
# can have (a rate of 1e308 would overflow every sum it enters).
Dollars = Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)]
Rate = Annotated[float, Field(ge=0, le=1e7, allow_inf_nan=False)]
Quantity = Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False)]


class RollingLimit(BaseModel):
    """At most ``limit`` in any window of ``months`` consecutive months ending on the service
    day (e.g. 13 grocery boxes every 3 months)."""

    model_config = ConfigDict(extra="forbid")
    limit: Quantity = Field(gt=0)
    months: int = Field(ge=1, le=120)


class EpisodeLimit(BaseModel):
    """At most ``limit`` within each episode: a recorded span of ``program`` in the coverage
    table with this contract's payer (an authorization, a transition, a stay). A service in
    no such span has nothing to count against and is not paid under the limit."""

    model_config = ConfigDict(extra="forbid")
    limit: Dollars = Field(gt=0)
    program: str = Field(min_length=1)

    @field_validator("program")
    @classmethod
    def _known_program(cls, value: str) -> str:
        from casefund.records.vocabulary import VOCABULARY, suggest

        if value not in VOCABULARY["program"]:
            raise ValueError(f"unknown coverage program '{value}'{suggest(value, 'program')}")
        return value


class Caps(BaseModel):
    """Per participant, except ``budget``, which is the whole contract's."""

    model_config = ConfigDict(extra="forbid")
    units_per_month: Quantity | None = None
    units_per_year: Quantity | None = None
    units_per_rolling: RollingLimit | None = None
    units_per_episode: EpisodeLimit | None = None
    amount_per_month: Dollars | None = None
    amount_per_year: Dollars | None = None
    amount_lifetime: Dollars | None = None
    amount_per_episode: EpisodeLimit | None = None
    budget: Dollars | None = None

    def episode_limits(self) -> dict[str, EpisodeLimit]:
        """The episode caps set, by the outcome id that reports them."""
        limits = {
            "cap.units_per_episode": self.units_per_episode,
            "cap.amount_per_episode": self.amount_per_episode,
        }
        return {cap: limit for cap, limit in limits.items() if limit is not None}


def npi_is_valid(npi: str) -> bool:
    """The NPI check digit: Luhn over the 9 digits prefixed with 80840 (CMS NPI standard)."""
    if len(npi) != 10 or not npi.isdigit():
        return False
    digits = [int(d) for d in "80840" + npi[:9]]
    total = 0
    for i, digit in enumerate(reversed(digits)):
        doubled = digit * 2 if i % 2 == 0 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return (10 - total % 10) % 10 == int(npi[9])


class Billing(BaseModel):
    """Identifiers an electronic claim needs (ASC X12 837P), set per contract."""

    model_config = ConfigDict(extra="forbid")
    submitter_id: str = Field(min_length=2, max_length=15)
    submitter_name: str
    contact_name: str
    contact_phone: str = Field(pattern=r"^\d{10}$")
    receiver_id: str = Field(min_length=2, max_length=15)
    receiver_name: str
    provider_npi: str
    provider_name: str
    address: str
    city: str
    state: str = Field(pattern=r"^[A-Z]{2}$")
    zip: str = Field(pattern=r"^\d{5}(\d{4})?$")
    tax_id: str = Field(pattern=r"^\d{9}$")
    payer_code: str
    claim_filing: str = "MC"
    place_of_service: str = "11"
    default_diagnosis: str | None = None

    @field_validator("*")
    @classmethod
    def _no_x12_delimiters(cls, value: Any) -> Any:
        # Every billing field is written into an X12 element (837P).
        if isinstance(value, str) and (
            any(d in value for d in "~*:^|") or any(ord(c) < 32 for c in value)
        ):
            raise ValueError(
                "may not contain ~ * : ^ | or control characters (they would "
                "break or inject X12 segments)"
            )
        return value

    @field_validator("provider_npi")
    @classmethod
    def _luhn(cls, value: str) -> str:
        if not npi_is_valid(value):
            raise ValueError(f"'{value}' is not a valid NPI (check digit fails)")
        return value


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1)
    payer: str
    program: Program
    payment: Payment
    rate: Rate | None = None
    unit_minutes: int | None = Field(default=None, gt=0, le=1440)
    rounding: Rounding | None = None
    aggregate: Aggregate | None = None
    min_services_per_month: int | None = Field(default=None, ge=0, le=1000)
    effective: Effective = Field(default_factory=Effective)
    priority: int = 100
    caps: Caps = Field(default_factory=Caps)
    admin_cap: float | None = Field(default=None, ge=0, le=1, allow_inf_nan=False)
    award: Dollars | None = Field(
        default=None,
        gt=0,
        description="the amount allocated under the grant for a budget period; caps that are "
        "shares 'of amounts received' are shares of it (default: caps.budget)",
    )
    ryan_white_part: Literal["A", "B", "C", "D"] | None = Field(
        default=None,
        description="the Ryan White part that funds the contract (Part B adds the planning and "
        "evaluation cap and the combined cap)",
    )
    covers: list[str] | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    payer_id: str | None = Field(
        default=None,
        description="the coverage table's payer code this contract bills (default: payer, "
        "lower-cased with spaces as underscores)",
    )
    procedure_code: str | None = None
    modifiers: str | None = None
    billing: Billing | None = None

    @field_validator("covers")
    @classmethod
    def _known_activities(cls, value: list[str] | None) -> list[str] | None:
        from casefund.records.vocabulary import VOCABULARY, suggest

        for code in value or []:
            if code not in VOCABULARY["activity"]:
                raise ValueError(f"unknown activity code '{code}'{suggest(code, 'activity')}")
        return value

    @model_validator(mode="after")
    def _rate_where_the_model_needs_one(self) -> Contract:
        if PAYMENT_MODELS[self.payment].rate == "required" and self.rate is None:
            raise ValueError(
                f"key 'rate': payment '{self.payment}' pays a rate, so state it "
                "(without one every billable line would pay $0)"
            )
        return self

    @model_validator(mode="after")
    def _part_for_ryan_white(self) -> Contract:
        if self.ryan_white_part is not None and self.program != "ryan_white_nmcm":
            raise ValueError(
                f"key 'ryan_white_part': for Ryan White contracts, not program '{self.program}'"
            )
        return self

    @property
    def coverage_payer(self) -> str:
        return payer_slug(self.payer_id or self.payer)

    @property
    def unit(self) -> str:
        """What the contract pays for: time units, encounters, member-months or costs (a grant
        pays time units where it states a unit rate, and costs otherwise)."""
        unit = PAYMENT_MODELS[self.payment].unit
        if unit == "time_units_or_cost":
            return "time_units" if self.unit_minutes and self.rate else "cost"
        return unit

    def pays_by_time(self) -> bool:
        """Whether the contract pays time units at a unit rate (so it needs a unit length and
        a rounding rule)."""
        return self.unit == "time_units"

    def pays_whole_units(self) -> bool:
        """Whether the contract pays whole units at a unit price (not recorded or hourly cost)."""
        return self.unit != "cost"

    @property
    def award_amount(self) -> float | None:
        """The denominator of the award-based caps: the award, else the budget."""
        return self.award if self.award is not None else self.caps.budget


def payer_slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


class ContractsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contracts: list[Contract]

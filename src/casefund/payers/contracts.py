"""The agency's own contracts (contracts.yaml): who pays, for what, and how.

Regulatory rules ship with casefund; contracts are the user's. Unknown keys are an error that
names the contract and the key, so a typo never silently turns a cap off.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from casefund.io.errors import InputError

Program = Literal["ecm", "community_supports", "tcm", "health_home", "ryan_white_nmcm", "grant"]
Payment = Literal[
    "pempm", "ffs_unit", "ffs_encounter", "monthly_case_rate", "cost_reimbursement", "grant"
]
Rounding = Literal["whole_units", "cms_8_minute", "midpoint", "encounter"]
Aggregate = Literal["per_activity", "per_day"]


class Effective(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    start: dt.date | None = Field(default=None, alias="from")
    end: dt.date | None = Field(default=None, alias="to")

    def contains(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


class RollingLimit(BaseModel):
    """At most ``limit`` in any window of ``months`` consecutive months ending on the service
    day (e.g. 13 grocery boxes every 3 months)."""

    model_config = ConfigDict(extra="forbid")
    limit: float = Field(gt=0)
    months: int = Field(ge=1, le=120)


class EpisodeLimit(BaseModel):
    """At most ``limit`` within each episode: a recorded span of ``program`` in the coverage
    table with this contract's payer (an authorization, a transition, a stay). A service in
    no such span has nothing to count against and is not paid under the limit."""

    model_config = ConfigDict(extra="forbid")
    limit: float = Field(gt=0)
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
    units_per_month: float | None = None
    units_per_year: float | None = None
    units_per_rolling: RollingLimit | None = None
    units_per_episode: EpisodeLimit | None = None
    amount_per_month: float | None = None
    amount_per_year: float | None = None
    amount_lifetime: float | None = None
    amount_per_episode: EpisodeLimit | None = None
    budget: float | None = None

    def episode_limits(self) -> dict[str, EpisodeLimit]:
        """The episode caps set, by the outcome id that reports them."""
        limits = {"cap.units_per_episode": self.units_per_episode,
                  "cap.amount_per_episode": self.amount_per_episode}
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
    rate: float | None = Field(default=None, ge=0)
    unit_minutes: int | None = Field(default=None, gt=0)
    rounding: Rounding | None = None
    aggregate: Aggregate | None = None
    min_services_per_month: int | None = Field(default=None, ge=0)
    effective: Effective = Field(default_factory=Effective)
    priority: int = 100
    caps: Caps = Field(default_factory=Caps)
    admin_cap: float | None = Field(default=None, ge=0, le=1)
    award: float | None = Field(
        default=None, gt=0,
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
    def _part_for_ryan_white(self) -> Contract:
        if self.ryan_white_part is not None and self.program != "ryan_white_nmcm":
            raise ValueError(f"'ryan_white_part' is for Ryan White contracts, not program "
                             f"'{self.program}'")
        return self

    @property
    def coverage_payer(self) -> str:
        return payer_slug(self.payer_id or self.payer)

    def pays_by_time(self) -> bool:
        """Whether the contract pays time units at a unit rate (so it needs a unit length and
        a rounding rule)."""
        return self.payment == "ffs_unit" or (
            self.payment == "grant" and bool(self.unit_minutes and self.rate))

    @property
    def award_amount(self) -> float | None:
        """The denominator of the award-based caps: the award, else the budget."""
        return self.award if self.award is not None else self.caps.budget


def payer_slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


class ContractsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contracts: list[Contract]


def parse_contracts(raw: Any, origin: str) -> list[Contract]:
    """Validated contracts, or an InputError naming the contract and key at fault."""
    if raw is None:
        return []
    if not isinstance(raw, dict) or "contracts" not in raw:
        raise InputError(f"{origin}: expected a top-level 'contracts:' list")
    items = raw["contracts"] or []
    if not isinstance(items, list):
        raise InputError(f"{origin}: 'contracts' must be a list")
    contracts: list[Contract] = []
    for index, item in enumerate(items, start=1):
        name = item.get("id", f"#{index}") if isinstance(item, dict) else f"#{index}"
        try:
            contracts.append(Contract.model_validate(item))
        except ValidationError as exc:
            problems = "; ".join(
                f"key '{'.'.join(str(p) for p in err['loc'])}': {err['msg']}"
                for err in exc.errors()
            )
            raise InputError(f"{origin}: contract '{name}': {problems}") from None
    seen: set[str] = set()
    for contract in contracts:
        if contract.id in seen:
            raise InputError(f"{origin}: contract '{contract.id}': key 'id': duplicate id")
        seen.add(contract.id)
    return contracts


def load_contracts(source: str | Path | list[Contract] | dict[str, Any] | None) -> list[Contract]:
    if source is None:
        return []
    if isinstance(source, list):
        return [c if isinstance(c, Contract) else Contract.model_validate(c) for c in source]
    if isinstance(source, dict):
        return parse_contracts(source, "contracts")
    path = Path(source)
    try:
        raw = yaml.safe_load(path.read_text("utf-8-sig"))
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({exc})") from None
    return parse_contracts(raw, str(path))

"""The schema of rule files and parameter files, validated by pydantic on load."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Citation(BaseModel):
    """Where a rule or value comes from: always the most official source read."""

    model_config = ConfigDict(extra="forbid")
    document: str = Field(min_length=3)
    section: str | None = None
    url: str | None = None
    status: Literal["confirmed", "confirmed_secondary", "unconfirmed"] = "confirmed"
    via: str | None = Field(
        default=None,
        description="the secondary source through which the document was read, where its own "
        "text was not (e.g. a plan's page restating a DHCS guide)",
    )

    def short(self) -> str:
        parts = [self.document]
        if self.section:
            parts.append(self.section)
        if self.via:
            parts.append(f"as restated by {self.via}")
        return ", ".join(parts)


class Effective(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    start: dt.date = Field(alias="from")
    end: dt.date | None = Field(default=None, alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> Effective:
        if self.end is not None and self.end < self.start:
            raise ValueError(f"'to' ({self.end}) is before 'from' ({self.start})")
        return self

    def label(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat() if self.end else ''}"

    def covers(self, other: Effective) -> bool:
        """Whether every day of ``other`` lies within this period."""
        ends_later = self.end is None or (other.end is not None and other.end <= self.end)
        return self.start <= other.start and ends_later

    def overlaps(self, other: Effective) -> bool:
        return (self.end is None or other.start <= self.end) and (
            other.end is None or self.start <= other.end)


Decision = Literal["require", "deny", "warn", "qualify"]
Kind = Literal["eligibility", "coverage", "units", "limit", "allocation"]
ScopeName = Literal["activity", "participant_month"]


class Then(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Decision
    reason: str = Field(min_length=10, description="plain language, shown when it denies")
    population: str | None = None
    decision_parameter: str | None = Field(
        default=None,
        description="a parameter whose value ('deny' or 'warn') chooses the decision, so a "
        "contract can switch a rule between warning and denying",
    )

    @model_validator(mode="after")
    def _population_with_qualify(self) -> Then:
        if (self.decision == "qualify") != (self.population is not None):
            raise ValueError("'population' goes with decision 'qualify', and only with it")
        return self


Expectation = Literal[
    "denied", "not denied", "warned", "not warned", "qualifies", "does not qualify", "off"
]


class RuleExample(BaseModel):
    """A situation, in the words of the source, and what the rule decides in it.

    Examples sit beside the rule they test and run under pytest (and in ``casefund rules
    check``), so a policy analyst reviews the rule and its cases in one place. Tables take the
    interchange contract's column names; ``participant_id`` is filled in.
    """

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=5)
    date: dt.date = Field(description="the service date (activity rules) or as-of day (months)")
    participant: dict[str, Any] = Field(default_factory=dict)
    activity: dict[str, Any] = Field(default_factory=dict)
    earlier_activities: list[dict[str, Any]] = Field(default_factory=list)
    coverage: list[dict[str, Any]] = Field(default_factory=list)
    events: list[dict[str, Any]] = Field(default_factory=list)
    assessments: list[dict[str, Any]] = Field(default_factory=list)
    parameters: dict[str, Any] = Field(default_factory=dict)
    payer: str | None = Field(default=None, description="the contract's payer code")
    expect: Expectation


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
    program: str = Field(default="", description="filled from the rule file's program")
    kind: Kind
    scope: ScopeName = "activity"
    applies_when: str | None = Field(
        default=None,
        description="a condition over parameters only (contract terms): where it does not "
        "hold the rule is not in effect at all, as outside its effective dates",
    )
    when: str
    then: Then
    cite: Citation
    effective: Effective
    notes: str | None = None
    examples: list[RuleExample] = Field(default_factory=list)


class CodingRule(BaseModel):
    """How a billed activity is coded: the first coding rule whose condition holds wins."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
    when: str
    procedure_code: str
    modifiers: str = ""
    cite: Citation
    effective: Effective
    notes: str | None = None


class RuleSet(BaseModel):
    """The span of service dates for which casefund encodes a program's rules.

    Outside it no contract of the program bills anything (rules fail closed): before it the
    program's earlier policy is not encoded, after it the authority the rules rest on ends.
    ``id`` and ``reason`` are what a line refused on that ground carries.
    """

    model_config = ConfigDict(extra="forbid")
    program: str
    title: str = Field(min_length=3)
    id: str = Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
    reason: str = Field(min_length=10, description="plain language, shown when it denies")
    in_force: Effective
    cite: Citation
    notes: str | None = None


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    program: str
    description: str | None = None
    rules: list[Rule] = Field(default_factory=list)
    coding: list[CodingRule] = Field(default_factory=list)


class RuleSetFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rule_set: RuleSet


class ParameterValue(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    start: dt.date = Field(alias="from")
    value: Any
    cite: Citation


ParameterKind = Literal["number", "text", "boolean", "list", "mapping", "date"]


def kind_of(value: Any) -> ParameterKind | None:
    """The kind of a parameter value as YAML gives it (None for an unset value)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return "text"


class Parameter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str = Field(min_length=5)
    unit: str | None = None
    kind: ParameterKind | None = Field(
        default=None, description="what a value is; needed where no value is set (a contract "
        "must give it), otherwise read from the values")
    choices: list[str] | None = Field(default=None, description="the values a text may take")
    codes: str | None = Field(
        default=None,
        description="the vocabulary its values (a list, or a mapping's list values) come from; "
        "`casefund rules check` refuses a code not in it",
    )
    verified: bool = True
    notes: str | None = None
    values: list[ParameterValue] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Parameter:
        starts = [v.start for v in self.values]
        if starts != sorted(starts) or len(set(starts)) != len(starts):
            raise ValueError("values must be in date order with distinct 'from' dates")
        kinds = {kind_of(v.value) for v in self.values} - {None}
        if self.kind is None and not kinds:
            raise ValueError("no value is set, so 'kind' must say what a contract gives")
        if len(kinds) > 1 or (self.kind is not None and kinds - {self.kind}):
            raise ValueError(f"values of different kinds ({sorted(k for k in kinds if k)})")
        return self

    def value_kind(self) -> ParameterKind:
        if self.kind is not None:
            return self.kind
        return next(k for v in self.values if (k := kind_of(v.value)) is not None)


class ParameterFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    program: str
    parameters: dict[str, Parameter]


class Outcome(BaseModel):
    """A decision the allocator makes itself (a cap reached, a month not engaged).

    Outcomes are not conditions over facts, but they deny minutes all the same, so each has an
    id, a plain-language reason and a citation, exactly like a rule.
    """

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
    reason: str = Field(min_length=10)
    cite: Citation
    effective: Effective
    notes: str | None = None


class OutcomeFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcomes: list[Outcome]

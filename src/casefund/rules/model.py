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

    def short(self) -> str:
        parts = [self.document]
        if self.section:
            parts.append(self.section)
        return ", ".join(parts)


class Effective(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    start: dt.date = Field(alias="from")
    end: dt.date | None = Field(default=None, alias="to")

    def label(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat() if self.end else ''}"


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


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
    program: str = Field(default="", description="filled from the rule file's program")
    kind: Kind
    scope: ScopeName = "activity"
    when: str
    then: Then
    cite: Citation
    effective: Effective
    notes: str | None = None
    tests: list[dict[str, Any]] = Field(default_factory=list)


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


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    program: str
    description: str | None = None
    rules: list[Rule] = Field(default_factory=list)
    coding: list[CodingRule] = Field(default_factory=list)


class ParameterValue(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    start: dt.date = Field(alias="from")
    value: Any
    cite: Citation


class Parameter(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str = Field(min_length=5)
    unit: str | None = None
    verified: bool = True
    notes: str | None = None
    values: list[ParameterValue] = Field(min_length=1)

    @model_validator(mode="after")
    def _ordered(self) -> Parameter:
        starts = [v.start for v in self.values]
        if starts != sorted(starts) or len(set(starts)) != len(starts):
            raise ValueError("values must be in date order with distinct 'from' dates")
        return self


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

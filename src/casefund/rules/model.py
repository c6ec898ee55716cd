"""The schema of rule files and parameter files, validated by pydantic on load."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from casefund.records.citations import Citation
from casefund.records.periods import Since

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


Remedy = Literal["enroll", "recertify", "document"]


class Fix(BaseModel):
    """What the agency can do about a denial that rests on its own records, not on the
    rules: record an enrollment or authorization it has (``enroll``), recertify
    (``recertify``), or correct or complete a field (``document``). A denial without a fix
    is not billable to that contract whatever the records say. A ``require`` rule that
    denies because a fact it reads is not known is also fixable (record the fact), with or
    without a fix of its own."""

    model_config = ConfigDict(extra="forbid")
    remedy: Remedy
    text: str = Field(min_length=10, description="what to do, in plain words")


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
    fix: Fix | None = None
    cite: Citation
    effective: Since
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
    effective: Since
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
    in_force: Since
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


class Outcome(BaseModel):
    """A decision the allocator makes itself (a cap reached, a month not engaged).

    Outcomes are not conditions over facts, but they deny minutes all the same, so each has an
    id, a plain-language reason and a citation, exactly like a rule.
    """

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
    reason: str = Field(min_length=10)
    fix: Fix | None = None
    cite: Citation
    effective: Since
    notes: str | None = None


class OutcomeFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcomes: list[Outcome]

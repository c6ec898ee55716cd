"""The input tables of the interchange contract, declared once as column specifications.

Validation, JSON Schema export and the pydantic record models are all derived from these
declarations, so a field is described in exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

from casefund.records.vocabulary import VOCABULARY

Kind = Literal["str", "date", "datetime", "int", "float", "bool", "code"]


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: Kind
    required: bool = False
    vocabulary: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    description: str = ""
    pattern: str | None = None  # the shape a text must have (codes that go into claims)
    shape: str = ""  # that shape in words, for the reject


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[ColumnSpec, ...]
    key: str | None = None
    description: str = ""
    references: dict[str, str] = field(default_factory=dict)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> ColumnSpec:
        for spec in self.columns:
            if spec.name == name:
                return spec
        raise KeyError(name)


# Values that are written into X12 claim elements must not carry its delimiters (~ * : ^)
# or control characters: one would end the element, or the segment, and start another.
_CLAIM_TEXT = r"^[^~*:^|\x00-\x1f]{1,100}$"
_CLAIM_TEXT_SHAPE = "text of up to 100 characters without ~ * : ^ | or control characters"

_FLAGS = tuple(
    ColumnSpec(flag, "bool", description="participant flag; blank means not known")
    for flag in VOCABULARY["participant_flags"]
)

PARTICIPANTS = TableSpec(
    "participants",
    (
        ColumnSpec("participant_id", "str", required=True, description="the system's own id"),
        ColumnSpec("birth_date", "date"),
        ColumnSpec("state", "str"),
        ColumnSpec("county", "str"),
        ColumnSpec("service_area", "str"),
        ColumnSpec("income_pct_fpl", "float", minimum=0, maximum=100_000),
        ColumnSpec(
            "annual_income",
            "float",
            minimum=0,
            maximum=1e9,
            description="gross household income in USD a year (Ryan White charge caps)",
        ),
        ColumnSpec("race", "code", vocabulary="race"),
        ColumnSpec("housing_loss_date", "date"),
        ColumnSpec("chronic_condition_count", "int", minimum=0, maximum=100),
        ColumnSpec(
            "member_id",
            "str",
            description="the payer's member id (claims)",
            pattern=r"^[A-Za-z0-9-]{1,80}$",
            shape="letters, digits and '-'",
        ),
        ColumnSpec(
            "first_name",
            "str",
            description="for claims only; never in reports",
            pattern=_CLAIM_TEXT,
            shape=_CLAIM_TEXT_SHAPE,
        ),
        ColumnSpec(
            "last_name",
            "str",
            description="for claims only; never in reports",
            pattern=_CLAIM_TEXT,
            shape=_CLAIM_TEXT_SHAPE,
        ),
        ColumnSpec("gender", "code", vocabulary="gender", description="for claims (F/M/U)"),
        ColumnSpec(
            "address",
            "str",
            description="for claims only",
            pattern=_CLAIM_TEXT,
            shape=_CLAIM_TEXT_SHAPE,
        ),
        ColumnSpec(
            "city",
            "str",
            description="for claims only",
            pattern=_CLAIM_TEXT,
            shape=_CLAIM_TEXT_SHAPE,
        ),
        ColumnSpec(
            "zip",
            "str",
            description="for claims only",
            pattern=r"^[0-9]{5}(?:-?[0-9]{4})?$",
            shape="a ZIP code (12345 or 12345-6789)",
        ),
        ColumnSpec(
            "diagnosis",
            "str",
            description="ICD-10-CM code for claims",
            pattern=r"^[A-Za-z][0-9][0-9A-Za-z](?:\.?[0-9A-Za-z]{1,4})?$",
            shape="an ICD-10-CM code (e.g. F11.20)",
        ),
        *_FLAGS,
    ),
    key="participant_id",
    description="one row per person",
)

ASSESSMENTS = TableSpec(
    "assessments",
    (
        ColumnSpec("participant_id", "str", required=True),
        ColumnSpec("date", "date", required=True),
        ColumnSpec("fact", "code", required=True, vocabulary="assessable_fact"),
        ColumnSpec("value", "str", required=True),
    ),
    description="dated observations of participant flags",
    references={"participant_id": "participants"},
)

COVERAGE = TableSpec(
    "coverage",
    (
        ColumnSpec("participant_id", "str", required=True),
        ColumnSpec("program", "code", required=True, vocabulary="program"),
        ColumnSpec("payer", "str"),
        ColumnSpec("start_date", "date", required=True),
        ColumnSpec("end_date", "date", description="inclusive; blank means open"),
    ),
    description="enrollment spans",
    references={"participant_id": "participants"},
)

EVENTS = TableSpec(
    "events",
    (
        ColumnSpec("participant_id", "str", required=True),
        ColumnSpec("date", "date", required=True),
        ColumnSpec("event", "code", required=True, vocabulary="event"),
        ColumnSpec("end_date", "date"),
        ColumnSpec("bh_related", "bool"),
        ColumnSpec("planned", "bool", description="defaults to false"),
        ColumnSpec("avoidable", "bool", description="defaults to true"),
    ),
    description="utilization and life events",
    references={"participant_id": "participants"},
)

ACTIVITIES = TableSpec(
    "activities",
    (
        ColumnSpec("activity_id", "str", required=True),
        ColumnSpec("participant_id", "str", required=True),
        ColumnSpec("date", "date", description="required unless start is given"),
        ColumnSpec("start", "datetime"),
        ColumnSpec("end", "datetime"),
        ColumnSpec("minutes", "int", minimum=0, maximum=1440, description="time spent"),
        ColumnSpec("activity", "code", required=True, vocabulary="activity"),
        ColumnSpec("mode", "code", vocabulary="mode"),
        ColumnSpec("staff_id", "str"),
        ColumnSpec("staff_role", "code", vocabulary="staff_role"),
        ColumnSpec("quantity", "float", minimum=0),
        ColumnSpec("amount", "float", minimum=0),
        ColumnSpec(
            "procedure_code",
            "str",
            pattern=r"^[A-Za-z0-9]{1,10}$",
            shape="a procedure code (1 to 10 letters and digits, e.g. H0044)",
        ),
        ColumnSpec(
            "modifiers",
            "str",
            pattern=r"^[A-Za-z0-9]{2}(?:[;, ]+[A-Za-z0-9]{2}){0,4}$",
            shape="up to five two-character modifiers separated by ';' (e.g. U2;GQ)",
        ),
        ColumnSpec("contract_id", "str", description="a hint, not a verdict"),
        ColumnSpec(
            "collateral_purpose",
            "code",
            vocabulary="collateral_purpose",
            description="for a contact with someone other than the participant: whether it "
            "was for the participant's care or for the other person's own needs",
        ),
    ),
    key="activity_id",
    description="service encounters (the billing input)",
    references={"participant_id": "participants", "contract_id": "contracts"},
)

EXPENSES = TableSpec(
    "expenses",
    (
        ColumnSpec("contract_id", "str", required=True),
        ColumnSpec("month", "str", required=True, description="YYYY-MM"),
        ColumnSpec("category", "code", required=True, vocabulary="expense_category"),
        ColumnSpec("amount", "float", required=True),
        ColumnSpec(
            "service_category",
            "code",
            vocabulary="service_category",
            description="for direct costs of a Ryan White award: core medical or support",
        ),
    ),
    description="cost lines (admin cap, funding mix)",
    references={"contract_id": "contracts"},
)

STAFF = TableSpec(
    "staff",
    (
        ColumnSpec("staff_id", "str", required=True),
        ColumnSpec("hourly_cost", "float", minimum=0),
        ColumnSpec("fte", "float", minimum=0, maximum=10),
        ColumnSpec(
            "program_model",
            "str",
            description="the case-management model the staff member works under: icm, act, "
            "or a model contracts.yaml defines",
        ),
        ColumnSpec("team", "str", description="the team the staff member belongs to"),
    ),
    key="staff_id",
    description="for costing time, and caseloads by program model",
    references={"program_model": "program_models"},
)

ASSIGNMENTS = TableSpec(
    "assignments",
    (
        ColumnSpec("participant_id", "str", required=True),
        ColumnSpec("staff_id", "str", required=True, description="the case manager"),
        ColumnSpec("start_date", "date", required=True),
        ColumnSpec("end_date", "date", description="the last day carried; blank: still carried"),
    ),
    description="which participants each case manager carries, and from when (caseloads)",
    references={"participant_id": "participants", "staff_id": "staff"},
)

CONSENTS = TableSpec(
    "consents",
    (
        ColumnSpec("participant_id", "str", required=True),
        ColumnSpec("recipient", "str", required=True),
        ColumnSpec("scope", "str"),
        ColumnSpec("start_date", "date"),
        ColumnSpec("end_date", "date"),
    ),
    description="consents to disclose records protected by 42 CFR Part 2",
    references={"participant_id": "participants"},
)

CHARGES = TableSpec(
    "charges",
    (
        ColumnSpec("participant_id", "str", required=True),
        ColumnSpec("date", "date", required=True),
        ColumnSpec("amount", "float", required=True, minimum=0, maximum=1e9),
        ColumnSpec("contract_id", "str", description="the contract the charge was made under"),
    ),
    description="what clients were charged (Ryan White annual charge caps)",
    references={"participant_id": "participants", "contract_id": "contracts"},
)

TABLES: Final[dict[str, TableSpec]] = {
    spec.name: spec
    for spec in (
        PARTICIPANTS,
        ASSESSMENTS,
        COVERAGE,
        EVENTS,
        ACTIVITIES,
        EXPENSES,
        STAFF,
        ASSIGNMENTS,
        CONSENTS,
        CHARGES,
    )
}

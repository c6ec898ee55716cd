"""Program models an agency runs its case management under (``program_models:`` in
contracts.yaml): how many participants a case manager may carry, and for how long.

casefund ships two cited models, ``icm`` (LEAD's intensive case management) and ``act``
(Co-LEAD's assertive community treatment), as parameters read as of each month. An agency
may adjust a shipped model (ACT's span, which the source leaves to the program) or define
its own, such as a Ryan White caseload target from its service standard; what it states is
the agency's, and is reported as coming from contracts.yaml.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

# The models casefund's parameters define (``<id>_caseload_max`` and friends).
BUILT_IN_MODELS = ("icm", "act")
_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class ProgramModelTerms(BaseModel):
    """What contracts.yaml says of one model; a key left out keeps the shipped value (for
    ``icm``/``act``) or means not stated (for the agency's own)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    caseload_max: int | None = Field(
        default=None, ge=1, le=10_000, description="most participants per full-time case manager"
    )
    time_limited: bool | None = None
    max_months: int | None = Field(
        default=None,
        ge=1,
        le=600,
        description="months a participant may be carried under a time-limited model",
    )
    availability_24h: bool | None = None
    description: str | None = Field(default=None, max_length=500)
    source: str | None = Field(
        default=None, max_length=500, description="where the agency's figure comes from"
    )


def valid_model_id(name: str) -> str:
    """A model id as staff.program_model names it: lower-case letters, digits and ``_``."""
    if not _ID.match(name):
        raise ValueError(
            f"program model id '{name}' must be lower-case letters, digits and '_' "
            "(up to 40, starting with a letter)"
        )
    return name


class AgencyProgramModels(BaseModel):
    """The ``program_models:`` mapping of contracts.yaml: model id → its terms."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    models: dict[str, ProgramModelTerms] = Field(default_factory=dict)

    @field_validator("models")
    @classmethod
    def _ids(cls, models: dict[str, ProgramModelTerms]) -> dict[str, ProgramModelTerms]:
        for name in models:
            valid_model_id(name)
        return models

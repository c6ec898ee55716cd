"""Where a rule, a parameter value or an outcome comes from."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Citation(BaseModel):
    """Always the most official source read; ``via`` names the secondary source through which
    it was read, where its own text was not."""

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

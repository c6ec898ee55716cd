"""Effective periods: the dates a rule, a rule set, a parameter or a contract applies on."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from casefund.records.days import day_number


class Effective(BaseModel):
    """From ``from`` through ``to`` (both inclusive; an open end where not given)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    start: dt.date | None = Field(default=None, alias="from")
    end: dt.date | None = Field(default=None, alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> Effective:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"'to' ({self.end}) is before 'from' ({self.start})")
        return self

    def label(self) -> str:
        start = self.start.isoformat() if self.start else ""
        return f"{start}..{self.end.isoformat() if self.end else ''}"

    def contains(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    def covers(self, other: Effective) -> bool:
        """Whether every day of ``other`` lies within this period."""
        starts_earlier = self.start is None or (
            other.start is not None and self.start <= other.start
        )
        ends_later = self.end is None or (other.end is not None and other.end <= self.end)
        return starts_earlier and ends_later

    def overlaps(self, other: Effective) -> bool:
        return (self.end is None or other.start is None or other.start <= self.end) and (
            other.end is None or self.start is None or self.start <= other.end
        )

    def mask(self, days: np.ndarray) -> np.ndarray:
        """Which day numbers lie within the period."""
        out = np.ones(len(days), dtype=bool)
        if self.start is not None:
            out &= days >= day_number(self.start)
        if self.end is not None:
            out &= days <= day_number(self.end)
        return out


def _starts(period: Effective) -> Effective:
    if period.start is None:
        raise ValueError("'from' is required: a rule applies from a date")
    return period


# A period that must say when it begins (rules, outcomes, rule sets).
Since = Annotated[Effective, AfterValidator(_starts)]

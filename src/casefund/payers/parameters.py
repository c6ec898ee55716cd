"""Program parameters: effective-dated, cited values (rates, thresholds, code lists), one
YAML file per program under ``payers/parameters``, validated on load.

A parameter file is the one home of each fact it holds; every value carries its source and
the date it takes effect, and is read as of a service date (see :mod:`casefund.payers.terms`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from casefund.records.bundled import parse_bundled
from casefund.records.citations import Citation

PARAMETER_PACKAGE = "casefund.payers"


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
        default=None,
        description="what a value is; needed where no value is set (a contract "
        "must give it), otherwise read from the values",
    )
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


@dataclass
class ProgramParameters:
    """Effective-dated parameters of one program."""

    program: str
    parameters: dict[str, Parameter]
    source: str

    def entry(self, name: str, day: dt.date) -> ParameterValue | None:
        """The value in force on ``day``, with its citation (None before the first)."""
        chosen = None
        for entry in self.parameters[name].values:
            if entry.start <= day:
                chosen = entry
        return chosen

    def value(self, name: str, day: dt.date) -> Any:
        chosen = self.entry(name, day)
        return None if chosen is None else chosen.value

    def breakpoints(self, names: set[str]) -> list[dt.date]:
        return sorted(
            {v.start for n in names if n in self.parameters for v in self.parameters[n].values}
        )


def read_parameter_files() -> tuple[dict[str, ProgramParameters], list[tuple[str, str]]]:
    """Every bundled parameter file, validated: the parameters by program, and each file's
    name and text (the rule book hashes them)."""
    root = resources.files(PARAMETER_PACKAGE).joinpath("parameters")
    parameters: dict[str, ProgramParameters] = {}
    texts: list[tuple[str, str]] = []
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml") or entry.is_dir():
            continue
        where, text = f"payers/parameters/{entry.name}", entry.read_text("utf-8")
        texts.append((where, text))
        parsed = parse_bundled(ParameterFile, text, where)
        parameters[parsed.program] = ProgramParameters(parsed.program, parsed.parameters, where)
    return parameters, texts

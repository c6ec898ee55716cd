"""Pydantic v2 models of every input table, generated from the table specifications.

For integrators who build typed records (``casefund.evaluate({"activities": [Activity(...),
...]})``) and for the JSON Schema export. The batch path never instantiates a model per row:
it validates whole columns against the same specifications.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from casefund.records.tables import TABLES, ColumnSpec, TableSpec
from casefund.records.vocabulary import VOCABULARY

_PYTHON_TYPES: dict[str, Any] = {
    "str": str,
    "date": dt.date,
    "datetime": dt.datetime,
    "int": int,
    "float": float,
    "bool": bool,
}


def _annotation(column: ColumnSpec) -> Any:
    if column.kind == "code":
        assert column.vocabulary is not None
        return Literal.__getitem__(VOCABULARY[column.vocabulary])
    return _PYTHON_TYPES[column.kind]


def _field(column: ColumnSpec) -> tuple[Any, Any]:
    annotation = _annotation(column)
    options: dict[str, Any] = {"description": column.description or None}
    if column.minimum is not None:
        options["ge"] = column.minimum
    if column.maximum is not None:
        options["le"] = column.maximum
    if column.pattern is not None:
        options["pattern"] = column.pattern
    if column.required:
        return annotation, Field(..., **options)
    return annotation | None, Field(None, **options)


_NAMES = {
    "participants": "Participant",
    "assessments": "Assessment",
    "coverage": "Coverage",
    "events": "Event",
    "activities": "Activity",
    "expenses": "Expense",
    "staff": "Staff",
    "assignments": "Assignment",
    "consents": "Consent",
    "charges": "Charge",
}


def model_for(spec: TableSpec) -> type[BaseModel]:
    name = _NAMES[spec.name]
    fields = {column.name: _field(column) for column in spec.columns}
    model: type[BaseModel] = create_model(  # type: ignore[call-overload]
        name, __config__=ConfigDict(extra="forbid"), __doc__=spec.description, **fields
    )
    return model


MODELS: Final[dict[str, type[BaseModel]]] = {name: model_for(s) for name, s in TABLES.items()}
Participant = MODELS["participants"]
Assessment = MODELS["assessments"]
Coverage = MODELS["coverage"]
Event = MODELS["events"]
Activity = MODELS["activities"]
Expense = MODELS["expenses"]
Staff = MODELS["staff"]
Consent = MODELS["consents"]
Charge = MODELS["charges"]

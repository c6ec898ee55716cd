"""JSON Schema for every input table and for contracts.yaml, for integrators' validators."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from casefund.payers.contracts import ContractsFile
from casefund.records.tables import TABLES, ColumnSpec, TableSpec
from casefund.records.vocabulary import VOCABULARY

_JSON_TYPES = {
    "str": {"type": "string"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "code": {"type": "string"},
}


def column_schema(column: ColumnSpec) -> dict[str, Any]:
    schema: dict[str, Any] = dict(_JSON_TYPES[column.kind])
    if column.vocabulary:
        schema["enum"] = list(VOCABULARY[column.vocabulary])
    if column.minimum is not None:
        schema["minimum"] = column.minimum
    if column.maximum is not None:
        schema["maximum"] = column.maximum
    if column.description:
        schema["description"] = column.description
    if not column.required:
        schema = {"anyOf": [schema, {"type": "null"}], **(
            {"description": column.description} if column.description else {})}
    return schema


def table_schema(spec: TableSpec) -> dict[str, Any]:
    """Schema of one row of the table (a record)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": spec.name,
        "description": spec.description,
        "type": "object",
        "properties": {c.name: column_schema(c) for c in spec.columns},
        "required": list(spec.required),
    }


def write_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, spec in TABLES.items():
        path = folder / f"{name}.schema.json"
        path.write_text(json.dumps(table_schema(spec), indent=2) + "\n")
        written.append(path)
    path = folder / "contracts.schema.json"
    path.write_text(json.dumps(ContractsFile.model_json_schema(by_alias=True), indent=2) + "\n")
    written.append(path)
    return written

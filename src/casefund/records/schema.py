"""JSON Schema for every input table and for contracts.yaml, for integrators' validators."""

from __future__ import annotations

import json
from pathlib import Path

from casefund.records.contracts import ContractsFile


def write_schemas(folder: Path) -> list[Path]:
    """A JSON Schema per input table (from its pydantic model) and for contracts.yaml."""
    from casefund.records.models import MODELS

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, model in MODELS.items():
        schema = model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        path = folder / f"{name}.schema.json"
        path.write_text(json.dumps(schema, indent=2) + "\n")
        written.append(path)
    path = folder / "contracts.schema.json"
    path.write_text(json.dumps(ContractsFile.model_json_schema(by_alias=True), indent=2) + "\n")
    written.append(path)
    return written

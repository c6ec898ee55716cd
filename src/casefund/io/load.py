"""Loading a whole dataset: every table validated, cross-table references checked.

Referential checks run after each table's own checks, so a row is refused for the first
reason that makes it unusable and every refused row lands in ``rejects`` exactly once per
problem found.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from casefund.errors import InputError, InputWarning
from casefund.io.contracts import load_agency
from casefund.io.sources import TableSource, folder_sources, read_source_digest
from casefund.io.validate import (
    ROW,
    Problem,
    Validated,
    empty_rejects,
    problems_to_rejects,
    validate_table,
)
from casefund.records.contracts import Contract
from casefund.records.program_models import BUILT_IN_MODELS, ProgramModelTerms
from casefund.records.suggestions import did_you_mean
from casefund.records.tables import TABLES, TableSpec

INPUT_ORDER = (
    "participants",
    "activities",
    "coverage",
    "events",
    "assessments",
    "expenses",
    "staff",
    "assignments",
    "consents",
    "charges",
)


@dataclass
class Dataset:
    """Accepted rows of every table (typed), the contracts, and every refused row."""

    tables: dict[str, pd.DataFrame]
    contracts: list[Contract]
    rejects: pd.DataFrame
    sources: dict[str, str] = field(default_factory=dict)
    input_rows: dict[str, int] = field(default_factory=dict)
    refused: dict[str, pd.DataFrame] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)  # what was present and not read
    # Per table read from a file: the digest of the file's bytes (what the manifest records).
    digests: dict[str, str] = field(default_factory=dict)
    # The program models contracts.yaml adjusts or defines (``program_models:``).
    program_models: dict[str, ProgramModelTerms] = field(default_factory=dict)

    def __getitem__(self, table: str) -> pd.DataFrame:
        return self.tables[table]

    @property
    def participants(self) -> pd.DataFrame:
        return self.tables["participants"]

    @property
    def activities(self) -> pd.DataFrame:
        return self.tables["activities"]


def _empty_table(spec: TableSpec) -> pd.DataFrame:
    return pd.DataFrame({c.name: pd.Series(dtype="object") for c in spec.columns})


# References to a short list of names (not to another table's ids): a refusal lists them.
NAMED_CHOICES = ("program_models",)


def _unknown_name(column: str, value: str, known: set[str] | pd.Index) -> str:
    choices = sorted(str(k) for k in known)
    return (
        f"unknown {column} '{value}'{did_you_mean(value, choices)} (use one of "
        f"{', '.join(choices)}, or define it under program_models: in contracts.yaml)"
    )


def _validate_source(
    source: TableSource | None, spec: TableSpec
) -> tuple[Validated, str, int, str | None]:
    digest = None
    if source is None:
        raw, origin = _empty_table(spec), f"{spec.name} (absent)"
    else:
        raw, origin, digest = read_source_digest(source, spec.name)
        if raw.shape == (0, 0):
            raw = _empty_table(spec)
    return validate_table(raw, spec, origin), origin, len(raw), digest


def _reference_problems(
    validated: Validated, spec: TableSpec, known: Mapping[str, set[str] | pd.Index]
) -> Validated:
    frame = validated.frame
    problems: list[Problem] = []
    for column, target in spec.references.items():
        if target not in known or column not in frame.columns:
            continue
        values = frame[column]
        dangling = values.notna().to_numpy() & ~values.isin(list(known[target])).to_numpy()
        if not dangling.any():
            continue
        text = pd.Series("", index=frame.index, dtype="object")
        quoted = f"unknown {column} '" + values[dangling].astype(str) + f"' (not in {target})"
        if target in NAMED_CHOICES:  # a short list the user chooses from: name it
            named = [_unknown_name(column, str(v), known[target]) for v in values[dangling]]
            quoted = pd.Series(named, index=values[dangling].index, dtype=object)
        text[dangling] = quoted.to_numpy()
        problems.append(Problem(column, dangling, text))
    if not problems:
        return validated
    bad = np.zeros(len(frame), dtype=bool)
    for problem in problems:
        bad |= problem.mask
    rejects = problems_to_rejects(spec.name, frame[ROW].to_numpy(), problems)
    return Validated(
        frame.loc[~bad].reset_index(drop=True),
        pd.concat([validated.rejects, rejects], ignore_index=True),
        pd.concat([validated.refused, frame.loc[bad]], ignore_index=True),
    )


def input_sources(
    tables: Mapping[str, TableSource | None] | str | Path,
    contracts: str | Path | list[Contract] | dict[str, object] | None,
) -> tuple[dict[str, TableSource | None], Any, list[str]]:
    """Each input table's source (``None``: absent), the contracts to read (a folder's own
    ``contracts.yaml`` unless given) and notices of files not read. One pass and every
    partitioned run name tables through here: a misspelt table name is refused alike."""
    if isinstance(tables, str | Path):
        folder = folder_sources(Path(tables), INPUT_ORDER)
        notices = unread_notices(Path(tables), folder.unread)
        return dict(folder.tables), folder.contracts if contracts is None else contracts, notices
    unknown = set(tables) - set(INPUT_ORDER)
    if unknown:
        raise InputError(
            f"unknown table(s) {sorted(unknown)}; expected {list(INPUT_ORDER)}"
            + did_you_mean(sorted(unknown)[0], INPUT_ORDER)
        )
    return {name: tables.get(name) for name in INPUT_ORDER}, contracts, []


def load_dataset(
    tables: Mapping[str, TableSource | None] | str | Path,
    contracts: str | Path | list[Contract] | dict[str, object] | None = None,
    program_models: dict[str, ProgramModelTerms] | None = None,
) -> Dataset:
    """Validate every table; ``tables`` is a data folder or a mapping of table name to source.
    ``program_models`` stands in for those of a contracts file already read (a list of
    contracts defines none)."""
    sources, contracts, notices = input_sources(tables, contracts)
    contract_list, models = load_agency(contracts)
    if program_models is not None:
        models = program_models
    known: dict[str, set[str] | pd.Index] = {
        "contracts": {c.id for c in contract_list},
        "program_models": {*BUILT_IN_MODELS, *models},
    }
    contracts_origin = str(contracts) if isinstance(contracts, str | Path) else "contracts"
    accepted: dict[str, pd.DataFrame] = {}
    rejects = [empty_rejects()]
    origins: dict[str, str] = {}
    refused: dict[str, pd.DataFrame] = {}
    counts: dict[str, int] = {}
    digests: dict[str, str] = {}
    for name in INPUT_ORDER:
        spec = TABLES[name]
        validated, origin, count, digest = _validate_source(sources[name], spec)
        if digest is not None:
            digests[name] = digest
        validated = _reference_problems(validated, spec, known)
        notices.extend(validated.notices)
        accepted[name] = validated.frame
        refused[name] = validated.refused.sort_values(ROW, kind="stable").reset_index(drop=True)
        rejects.append(validated.rejects)
        origins[name] = origin
        counts[name] = count
        if name == "participants":
            known["participants"] = pd.Index(validated.frame["participant_id"])
        known.update(staff_known(name, validated.frame))
    all_rejects = pd.concat(rejects, ignore_index=True)
    order = {name: i for i, name in enumerate(INPUT_ORDER)}
    all_rejects = (
        all_rejects.assign(_t=all_rejects["table"].map(order))
        .sort_values(["_t", "row", "field"], kind="stable")
        .drop(columns="_t")
        .reset_index(drop=True)
    )
    for notice in notices:
        warnings.warn(notice, InputWarning, stacklevel=2)
    origins["contracts"] = contracts_origin
    return Dataset(
        accepted, contract_list, all_rejects, origins, counts, refused, notices, digests, models
    )


def staff_known(name: str, frame: pd.DataFrame) -> dict[str, set[str] | pd.Index]:
    """After the staff table: its ids, which assignments must name. An empty or absent staff
    table checks nothing (caseloads then count FTE as 1)."""
    if name != "staff" or frame.empty:
        return {}
    return {"staff": pd.Index(frame["staff_id"])}


def unread_notices(folder: Path, names: list[str]) -> list[str]:
    return [
        f"{folder / name}: not read (not one of the input tables: {', '.join(INPUT_ORDER)})"
        for name in names
    ]


def as_dataset(
    data: str | Path | Mapping[str, TableSource | None] | Dataset | None,
    contracts: str | Path | list[Contract] | dict[str, Any] | None,
    tables: Mapping[str, TableSource | None],
) -> Dataset:
    """The validated dataset of what a caller handed in: a folder, a mapping of table name to
    source, an already loaded dataset, or tables passed by keyword."""
    if isinstance(data, Dataset):
        return data
    if data is None:
        return load_dataset(dict(tables), contracts)
    if isinstance(data, Mapping):
        return load_dataset({**data, **tables}, contracts)
    return load_dataset(data, contracts)

"""Partitions straight from the raw input tables (files are dealt in batches).

Each participant's rows of every per-participant table go to one partition, chosen by a
stable hash of the trimmed participant id. With a spill folder, a file is read in batches
and appended to the partitions' Arrow files, so the input is never held whole; a DataFrame
given in memory is sliced. Ids repeated anywhere in the activities table are settled here,
over the whole table, so each partition refuses exactly the copies one pass would.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from casefund.io.contracts import load_agency
from casefund.io.digests import file_digest
from casefund.io.load import Dataset, input_sources, load_dataset
from casefund.io.own_files import create_new
from casefund.io.sources import TableSource, read_source_digest
from casefund.io.validate import (
    ROW,
    check_columns,
    normalise_columns,
    repeated_keys,
    repeated_text,
)
from casefund.records.contracts import Contract
from casefund.records.tables import TABLES, TableSpec
from casefund.scaleout.files import split_file_by_participant
from casefund.scaleout.parts import PER_PARTICIPANT, SHARED, Part, RawPart


def _participant_part(raw: pd.DataFrame, parts: int) -> np.ndarray:
    """Each raw row's partition, from a stable hash of its trimmed participant id."""
    text = raw["participant_id"].astype("string").str.strip()
    codes, uniques = pd.factorize(text)
    if len(uniques) == 0:
        return np.zeros(len(raw), dtype=np.int64)
    hashed = pd.util.hash_array(np.asarray(uniques, dtype=object), categorize=False)
    of_unique = (hashed % np.uint64(parts)).astype(np.int64)
    return np.where(codes >= 0, of_unique[np.maximum(codes, 0)], 0)


def raw_partitions(
    tables: Mapping[str, TableSource | None] | str | Path,
    contracts: str | Path | list[Contract] | dict[str, Any] | None,
    parts: int,
    spill: str | Path | None = None,
) -> tuple[list[Part], Dataset]:
    """Partitions of raw input tables and the validated shared tables (expenses, staff).

    With ``spill`` (a folder), each partition's raw rows are written there as Arrow files
    and read back by whoever evaluates it, so no process keeps the whole input. The returned
    dataset holds the shared tables, their rejects and the input row counts.
    """
    sources, contracts, notices = input_sources(tables, contracts)
    contract_list, models = load_agency(contracts)
    origins: dict[str, str] = {
        "contracts": str(contracts) if isinstance(contracts, str | Path) else "contracts"
    }
    shared_only = load_dataset({n: sources[n] for n in SHARED}, contract_list, models)
    notices.extend(shared_only.notices)
    raw: dict[str, pd.DataFrame] = {}
    dealt: dict[str, dict[int, int]] = {}  # rows dealt into each partition's file
    counts = {n: shared_only.input_rows[n] for n in SHARED}
    repeated: dict[str, str] = {}
    digests = dict(shared_only.digests)
    for name in PER_PARTICIPANT:
        spec = TABLES[name]
        source = sources[name]
        if source is None:
            frame, origin = (
                pd.DataFrame({c.name: pd.Series(dtype="str") for c in spec.columns}),
                f"{name} (absent)",
            )
        elif spill is not None and isinstance(source, str | Path) and _arrow_available():
            # A file is dealt in batches straight into the partitions' Arrow files.
            origin = str(source)
            digests[name] = file_digest(Path(source))
            count, keys, found, per_part = split_file_by_participant(
                Path(source),
                spec,
                origin,
                Path(spill),
                lambda batch: _participant_part(batch, parts),
            )
            notices.extend(found)
            dealt[name] = per_part
            origins[name], counts[name] = origin, count
            if name == "activities":
                repeated = _repeated_in_files(keys, spec, origin, Path(spill), parts)
            continue
        else:
            frame, origin, digest = read_source_digest(source, name)
            if digest is not None:
                digests[name] = digest
            if frame.shape == (0, 0):
                frame = pd.DataFrame({c.name: pd.Series(dtype="str") for c in spec.columns})
        frame = normalise_columns(frame)
        notices.extend(check_columns(frame, spec, origin))
        raw[name], origins[name], counts[name] = frame, origin, len(frame)
        if name == "activities":
            repeated = repeated_keys(frame, spec, origin)
    template = RawPart(
        origins=origins,
        shared=dict(shared_only.tables),
        contracts=contract_list,
        repeated=repeated,
        hash_rows=tuple(n for n in PER_PARTICIPANT if n not in digests),
    )
    out = _dealt_parts(template, raw, dealt, parts, spill)
    shared = Dataset(
        {n: shared_only.tables[n] for n in SHARED},
        contract_list,
        shared_only.rejects,
        {**shared_only.sources, **origins},
        counts,
        {n: shared_only.refused[n] for n in SHARED},
        notices,
        digests,
        models,
    )
    return out, shared


def _dealt_parts(
    template: RawPart,
    raw: dict[str, pd.DataFrame],
    dealt: dict[str, dict[int, int]],
    parts: int,
    spill: str | Path | None,
) -> list[Part]:
    """The partitions: each holds (or spills to its folder) its participants' raw rows of
    the tables read whole, and knows how many rows of each streamed table were dealt to it."""
    where = {name: _participant_part(frame, parts) for name, frame in raw.items()}
    out: list[Part] = []
    for k in range(parts):
        mine = {name: np.flatnonzero(where[name] == k) for name in raw}
        part = RawPart(
            origins=template.origins,
            shared=template.shared,
            contracts=template.contracts,
            repeated=template.repeated,
            hash_rows=template.hash_rows,
        )
        if spill is not None:
            part.folder = Path(spill) / f"part-{k:04d}"
            part.folder.mkdir(parents=True, exist_ok=True)
        part.spilled = {name: counts.get(k, 0) for name, counts in dealt.items()}
        for name, rows in mine.items():
            piece = raw[name].iloc[rows].reset_index(drop=True)
            if part.folder is not None and _spilled(piece, rows, part.folder / f"{name}.arrow"):
                part.spilled[name] = len(piece)
                continue
            part.raw[name], part.rows[name] = piece, (rows + 1).astype(np.int64)
        out.append(part)
    return out


def _arrow_available() -> bool:
    try:
        import pyarrow  # type: ignore[import-untyped,unused-ignore]  # noqa: F401
    except ImportError:  # the 'parquet' extra is absent: partitions stay in memory
        return False
    return True


def _repeated_in_files(
    keys: pd.DataFrame, spec: TableSpec, origin: str, spill: Path, parts: int
) -> dict[str, str]:
    """Repeated keys of a table dealt into partition files: the few rows whose key text
    repeats are read back from the partitions and settled as over the whole table."""
    maybe = repeated_text(keys["key"])
    if not maybe.any():
        return {}
    wanted = keys[ROW].to_numpy(np.int64)[maybe]
    found = []
    for k in range(parts):
        path = spill / f"part-{k:04d}" / f"{spec.name}.arrow"
        if path.exists():
            frame = pd.read_feather(path)
            found.append(frame.loc[frame[ROW].isin(wanted).to_numpy(dtype=bool)])
    rows = pd.concat(found, ignore_index=True).sort_values(ROW).reset_index(drop=True)
    return repeated_keys(rows.drop(columns=ROW), spec, origin, rows[ROW].to_numpy(np.int64))


def _spilled(piece: pd.DataFrame, rows: np.ndarray, path: Path) -> bool:
    """Write a partition's raw rows as Arrow; False when Arrow is absent or a column has no
    Arrow type (a DataFrame of mixed Python objects): those rows then stay in memory."""
    if not _arrow_available():
        return False
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    try:
        with create_new(path) as file:
            piece.assign(**{ROW: (rows + 1).astype(np.int64)}).to_feather(file)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, ValueError):
        path.unlink(missing_ok=True)
        return False
    return True

"""What a partition keeps between scale-out stages, in data formats only.

Settling a budget re-runs the payer waterfall over a partition's adjudication. Rebuilding it
from the partition's *validated* tables costs a fraction of validating again, and the rule
decisions already made are plain boolean arrays, so that is all a partition keeps: nothing
in the file is code or an object graph (no pickle). One file holds, in order,

- a 32-byte tag: HMAC-SHA256, under the partition's seal, of everything after it;
- each validated table as an Arrow IPC stream, the rule decisions as an ``.npz`` of
  bit-packed boolean arrays and the waterfall paused before the first budgeted contract
  (:class:`~casefund.allocate.checkpoint.Checkpoint`) as another ``.npz`` (both read with
  ``allow_pickle=False``);
- a JSON manifest (where each section lies, each column's exact pandas dtype, how the
  decisions are laid out) and its length in 8 bytes.

The file is read once into memory and its tag checked before any byte of it is parsed, so a
file this run did not write (changed, cut short, or planted by someone else) is refused.
Arrow keeps the values; the manifest gives back what Arrow does not carry exactly (Python- or
Arrow-backed strings, a categorical's categories even when no row uses them), so the kept
tables are the validated ones, dtype for dtype.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

from casefund.allocate.checkpoint import Checkpoint
from casefund.engine.decide import Decisions
from casefund.io.arrow_frames import Columns, FrameSpecError, describe, frame_of, table_of
from casefund.io.own_files import create_new, open_own

FORMAT = 2  # 2: the paused waterfall
_TAG = hashlib.sha256().digest_size
_LENGTH = 8  # bytes of the manifest's length, at the end of the file
KeptDecisions = dict[str, tuple[Decisions, Decisions]]


class KeptStateError(RuntimeError):
    """A kept file that is not what this run wrote for the partition."""


def keep(
    path: Path,
    seal: bytes,
    tables: dict[str, pd.DataFrame],
    decisions: KeptDecisions,
    paused: Checkpoint | None = None,
) -> None:
    """Write ``tables``, ``decisions`` and the ``paused`` waterfall to ``path`` behind a tag
    under ``seal`` (a file or link already there is removed, never written through)."""
    mac = hmac.new(seal, digestmod=hashlib.sha256)
    manifest: dict[str, Any] = {"format": FORMAT, "tables": {}}
    path.unlink(missing_ok=True)
    with create_new(path) as file:
        file.write(bytes(_TAG))  # the tag goes here once everything after it is written
        offset = _TAG

        def section(data: bytes | memoryview) -> dict[str, int]:
            nonlocal offset
            mac.update(data)
            file.write(data)
            where = {"offset": offset, "length": len(data)}
            offset += len(data)
            return where

        for name, frame in tables.items():
            columns = describe(frame)
            manifest["tables"][name] = {**section(_arrow_bytes(frame)), "columns": columns}
        layout, arrays = _decision_arrays(decisions)
        manifest["decisions"] = {**section(_npz_bytes(arrays)), "layout": layout}
        if paused is not None:
            layout, arrays = paused.to_arrays()
            manifest["paused"] = {**section(_npz_bytes(arrays)), "layout": layout}
        text = json.dumps(manifest, separators=(",", ":")).encode()
        section(text)
        section(len(text).to_bytes(_LENGTH, "little"))
        file.seek(0)
        file.write(mac.digest())


def load_kept(
    path: Path, seal: bytes
) -> tuple[dict[str, pd.DataFrame], KeptDecisions, Checkpoint | None]:
    """The tables, decisions and paused waterfall kept at ``path``, once its tag proves this
    run wrote exactly these bytes under ``seal`` (what is checked is what is parsed: the
    file is read once)."""
    with open_own(path) as file:
        blob = memoryview(file.read())
    expected = hmac.new(seal, blob[_TAG:], digestmod=hashlib.sha256).digest()
    if len(blob) < _TAG + _LENGTH or not hmac.compare_digest(bytes(blob[:_TAG]), expected):
        raise KeptStateError(
            f"{path}: not the state this run kept for the partition (changed, cut short, "
            "or written by another run); refusing to read it"
        )
    size = int.from_bytes(blob[-_LENGTH:], "little")
    manifest = json.loads(bytes(blob[-_LENGTH - size : -_LENGTH]))
    if manifest.get("format") != FORMAT:
        raise KeptStateError(f"{path}: kept in format {manifest.get('format')!r}, not {FORMAT}")
    tables = {
        name: _frame(_slice(blob, entry), entry["columns"])
        for name, entry in manifest["tables"].items()
    }
    entry = manifest["decisions"]
    with np.load(io.BytesIO(_slice(blob, entry)), allow_pickle=False) as arrays:
        decisions = _decisions(entry["layout"], {name: arrays[name] for name in arrays.files})
    paused = None
    if "paused" in manifest:
        entry = manifest["paused"]
        with np.load(io.BytesIO(_slice(blob, entry)), allow_pickle=False) as arrays:
            paused = Checkpoint.from_arrays(
                entry["layout"], {name: arrays[name] for name in arrays.files}
            )
    return tables, decisions, paused


def _slice(blob: memoryview, entry: dict[str, Any]) -> memoryview:
    start = int(entry["offset"])
    return blob[start : start + int(entry["length"])]


# --- tables -------------------------------------------------------------------------------


def _arrow_bytes(frame: pd.DataFrame) -> memoryview:
    table = table_of(frame)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return memoryview(sink.getvalue())


def _frame(data: memoryview, columns: Columns) -> pd.DataFrame:
    """The kept table, each column converted straight to its recorded dtype."""
    table = pa.ipc.open_stream(pa.py_buffer(data)).read_all()
    try:
        return frame_of(table, columns)
    except FrameSpecError as exc:
        raise KeptStateError(str(exc)) from None


# --- decisions ----------------------------------------------------------------------------


def _decision_arrays(decisions: KeptDecisions) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    arrays: dict[str, np.ndarray] = {}

    def array(values: np.ndarray) -> dict[str, Any]:
        name = f"a{len(arrays)}"
        values = np.asarray(values)
        if values.dtype == bool:
            arrays[name] = np.packbits(values)
            return {"array": name, "bits": int(values.size)}
        if values.dtype.hasobject:
            raise TypeError("a decision of Python objects cannot be kept")
        arrays[name] = values
        return {"array": name}

    def layout(d: Decisions) -> dict[str, Any]:
        return {
            "denied": [[rule, array(mask)] for rule, mask in d.denied],
            "unknown": {rule: array(mask) for rule, mask in d.unknown.items()},
            "warned": [[rule, array(mask)] for rule, mask in d.warned],
            "qualified": {
                key: [population, array(tested), array(met)]
                for key, (population, tested, met) in d.qualified.items()
            },
            "skipped": list(d.skipped),
        }

    return {key: [layout(a), layout(m)] for key, (a, m) in decisions.items()}, arrays


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    return buffer.getvalue()


def _decisions(layout: dict[str, Any], arrays: dict[str, np.ndarray]) -> KeptDecisions:
    def array(entry: dict[str, Any]) -> np.ndarray:
        values = arrays[entry["array"]]
        if "bits" in entry:
            return np.unpackbits(values, count=int(entry["bits"])).astype(bool)
        return values

    def decisions(d: dict[str, Any]) -> Decisions:
        return Decisions(
            denied=[(rule, array(mask)) for rule, mask in d["denied"]],
            unknown={rule: array(mask) for rule, mask in d["unknown"].items()},
            warned=[(rule, array(mask)) for rule, mask in d["warned"]],
            qualified={
                key: (population, array(tested), array(met))
                for key, (population, tested, met) in d["qualified"].items()
            },
            skipped=list(d["skipped"]),
        )

    return {key: (decisions(a), decisions(m)) for key, (a, m) in layout.items()}

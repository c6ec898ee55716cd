"""Reading one activity back from a folder ``casefund evaluate`` wrote, without evaluating.

``lines.csv`` and ``denials.csv`` open with the activity id, so the activity's rows are found
by searching the files' bytes for the id as it was written (formula guard and CSV quoting
applied), through a memory map: only the pages around the matches are parsed, and a
300,000-activity folder answers in milliseconds. The catalog and terms files are small and
read whole. Nothing here needs pandas or the rule book — except a folder written with
``--format parquet``, read through pyarrow (rows filtered by id, then given as the CSV
would hold them).
"""

from __future__ import annotations

import csv
import io
import json
import mmap
from pathlib import Path
from typing import Any

from casefund.errors import InputError
from casefund.reports.cells import MANIFEST, neutralized
from casefund.reports.explanation import ActivityRecords, Row

NEEDED = ("lines", "denials", "reasons", "terms")


def _manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder (--from names a folder casefund evaluate wrote)")
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        raise InputError(
            f"{path}: missing or unreadable; --from names a folder casefund evaluate wrote"
        ) from None
    if not isinstance(manifest, dict) or "casefund_version" not in manifest:
        raise InputError(f"{path}: not a casefund manifest")
    if manifest.get("deidentified"):
        raise InputError(f"{folder}: a de-identified folder holds no lines to explain")
    if manifest.get("command", "evaluate") != "evaluate":
        raise InputError(
            f"{folder}: written by casefund {manifest.get('command')}, which "
            "writes no lines; explain reads a folder casefund evaluate wrote"
        )
    suffix = _suffix(manifest)
    missing = [name + suffix for name in NEEDED if not (folder / (name + suffix)).is_file()]
    if missing:
        raise InputError(
            f"{folder}: no {', '.join(missing)} (written by casefund "
            f"{manifest['casefund_version']}, before explanations could be read "
            "from a folder); run casefund evaluate again"
        )
    return manifest


def _suffix(manifest: dict[str, Any]) -> str:
    return ".parquet" if manifest.get("format") == "parquet" else ".csv"


def _parquet_rows(path: Path, activity_id: str | None) -> list[Row]:
    """Rows of a Parquet output (those of one activity, or all), as the CSV would hold
    them: text by column name, blank where missing."""
    try:
        import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]
        import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        raise InputError(f"{path}: reading Parquet outputs needs pyarrow") from None
    table = pq.read_table(path)
    if activity_id is not None:
        table = table.filter(pc.equal(table["activity_id"], neutralized(activity_id)))
    from casefund.reports.csv_text import write_frame

    buffer = io.BytesIO()
    write_frame(table.to_pandas(), buffer)
    return list(csv.DictReader(io.StringIO(buffer.getvalue().decode("utf-8"), newline="")))


def _field(value: str) -> bytes:
    """The bytes a CSV writer gives ``value`` as a first field (after the formula guard)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow([neutralized(value), ""])
    return buffer.getvalue()[:-2].encode("utf-8")


def _record_end(data: mmap.mmap, start: int) -> int:
    """Where the CSV record starting at ``start`` ends (a quoted field may hold newlines)."""
    end = data.find(b"\n", start)
    while end >= 0 and data[start:end].count(b'"') % 2:
        end = data.find(b"\n", end + 1)
    return len(data) if end < 0 else end


def rows_of(path: Path, activity_id: str) -> list[Row]:
    """The rows of a CSV whose first field is ``activity_id``, as text by column name."""
    with path.open("rb") as file:
        if path.stat().st_size == 0:
            return []
        with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
            header_end = _record_end(data, 0)
            header = next(csv.reader([data[:header_end].decode("utf-8")]))
            needle = b"\n" + _field(activity_id) + b","
            found, at = [], data.find(needle, header_end)
            while at >= 0:
                end = _record_end(data, at + 1)
                found.append(data[at + 1 : end].decode("utf-8"))
                at = data.find(needle, end)
    return [dict(zip(header, row, strict=False)) for row in csv.reader(found)]


def _table(path: Path) -> list[Row]:
    if path.suffix == ".parquet":
        return _parquet_rows(path, None)
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def _rows(path: Path, activity_id: str) -> list[Row]:
    return (
        _parquet_rows(path, activity_id)
        if path.suffix == ".parquet"
        else rows_of(path, activity_id)
    )


def read_activity(folder: Path, activity_id: str) -> ActivityRecords:
    """What ``folder`` says about one activity; an error naming the id if it has none."""
    manifest = _manifest(folder)
    suffix = _suffix(manifest)
    lines = _rows(folder / f"lines{suffix}", activity_id)
    if not lines:
        raise InputError(f"{folder / ('lines' + suffix)}: no activity '{activity_id}'")
    reasons = {r["rule_id"]: r for r in _table(folder / f"reasons{suffix}")}
    return ActivityRecords(
        activity_id=activity_id,
        lines=lines,
        denials=_rows(folder / f"denials{suffix}", activity_id),
        reasons=reasons,
        terms=_table(folder / f"terms{suffix}"),
        version=str(manifest["casefund_version"]),
        rules_hash=str(manifest.get("rules_hash", "")),
    )

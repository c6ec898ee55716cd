"""Reading one activity back from a folder ``casefund evaluate`` wrote, without evaluating.

``lines.csv`` and ``denials.csv`` open with the activity id, so the activity's rows are found
by searching the files' bytes for the id as it was written (formula guard and CSV quoting
applied), through a memory map: only the pages around the matches are parsed, and a
300,000-activity folder answers in milliseconds. The catalog and terms files are small and
read whole. Nothing here needs pandas or the rule book.
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

NEEDED = ("lines.csv", "denials.csv", "reasons.csv", "terms.csv")


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
    missing = [name for name in NEEDED if not (folder / name).is_file()]
    if missing:
        raise InputError(
            f"{folder}: no {', '.join(missing)} (written by casefund "
            f"{manifest['casefund_version']}, before explanations could be read "
            "from a folder); run casefund evaluate again"
        )
    return manifest


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
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def read_activity(folder: Path, activity_id: str) -> ActivityRecords:
    """What ``folder`` says about one activity; an error naming the id if it has none."""
    manifest = _manifest(folder)
    lines = rows_of(folder / "lines.csv", activity_id)
    if not lines:
        raise InputError(f"{folder / 'lines.csv'}: no activity '{activity_id}'")
    reasons = {r["rule_id"]: r for r in _table(folder / "reasons.csv")}
    return ActivityRecords(
        activity_id=activity_id,
        lines=lines,
        denials=rows_of(folder / "denials.csv", activity_id),
        reasons=reasons,
        terms=_table(folder / "terms.csv"),
        version=str(manifest["casefund_version"]),
        rules_hash=str(manifest.get("rules_hash", "")),
    )

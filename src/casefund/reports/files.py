"""Writing output files safely: folders a run owns, CSV and XLSX no spreadsheet can be
tricked by, workbooks that are the same bytes every time.

- A cell of user text that begins with ``= + - @`` (or a tab or carriage return) is a formula
  to Excel and LibreOffice; an activity id of ``=cmd|' /C calc'!A0`` would run a command when
  finance staff open the file. Every text cell written is neutralized as the OWASP guidance
  on CSV injection says: a single quote is put in front of it.
- An output folder belongs to the run that writes it: a folder holding files casefund did
  not write is refused (never overwritten piecemeal, never mixed), and every file an earlier
  casefund run wrote there is removed first, so a de-identified run can never leave an
  identified ``lines.csv`` behind under a manifest that says ``deidentified: true``.
- XLSX files are zip archives stamped with the time they were written; they are rewritten
  with fixed stamps so ``casefund verify`` can compare them byte for byte.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]

from casefund.errors import InputError
from casefund.reports.cells import FORMULA_START, MANIFEST, neutralized
from casefund.reports.columns import Kind
from casefund.reports.csv_text import write_frame
from casefund.reports.workbook import ChartMaker, SheetKinds, workbook_bytes

# Files earlier casefund versions wrote before manifests listed their files.
_KNOWN_OUTPUTS = {
    "lines.csv",
    "claims.csv",
    "eligibility.csv",
    "breakdown.csv",
    "admin_cap.csv",
    "rejects.csv",
    "recertification.csv",
    "charge_caps.csv",
    "summary.csv",
    "eligibility_summary.csv",
    "casefund.xlsx",
    MANIFEST,
}
_FIXED_STAMP = (1980, 1, 1, 0, 0, 0)
FORMULA_PATTERN = "^[" + re.escape("".join(FORMULA_START)) + "]"


def stamped(
    frame: pd.DataFrame, version: str, rules_hash: str, columns: list[str] | None = None
) -> pd.DataFrame:
    """The frame (``columns`` of it, if given) with the provenance columns every written
    output carries, built in one copy."""
    kept = list(frame.columns) if columns is None else columns
    out = pd.DataFrame({name: frame[name] for name in kept}, index=frame.index)
    out["casefund_version"] = version
    out["rules_hash"] = rules_hash
    return out


def neutralize(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell that a spreadsheet would read as a formula quoted.

    Categorical and text columns are fixed per distinct value, never per row."""
    out = frame.copy(deep=False)
    # Headers can be user text too (a pivot with one column per funder).
    out.columns = _unique_names([neutralized(c) for c in out.columns])
    for name in out.columns:
        column = out[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            categories = column.cat.categories
            if categories.dtype == object or pd.api.types.is_string_dtype(categories):
                fixed = [neutralized(c) for c in categories]
                if fixed != list(categories):
                    out[name] = column.cat.rename_categories(_unique_names(fixed))
        elif column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
            risky = _formula_rows(column)
            if risky.any():
                fixed_column = column.astype(object).copy()
                fixed_column[risky.to_numpy(dtype=bool)] = (
                    "'" + column[risky.to_numpy(dtype=bool)].astype(str)
                ).to_numpy()
                out[name] = fixed_column
    return out


def _formula_rows(column: pd.Series) -> pd.Series:
    """Rows of a text column that start like a formula: by Arrow's prefix kernels where the
    column converts to Arrow text (no Python string per row), else by pandas."""
    try:
        text = pa.array(column, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        text = None
    if text is not None and (pa.types.is_string(text.type) or pa.types.is_large_string(text.type)):
        # One prefix test per formula character: a third cheaper than the regex kernel.
        found = pc.starts_with(text, FORMULA_START[0])
        for start in FORMULA_START[1:]:
            found = pc.or_(found, pc.starts_with(text, start))
        found = pc.fill_null(found, False)
        return pd.Series(found.to_numpy(zero_copy_only=False), index=column.index)
    matched: pd.Series = column.astype("string").str.match(FORMULA_PATTERN).fillna(False)
    return matched


def _unique_names(names: list[Any]) -> list[Any]:
    # Quoting can make two categories equal ('=a' and "'=a"); keep them apart.
    seen: dict[Any, int] = {}
    out = []
    for name in names:
        count = seen.get(name, 0)
        seen[name] = count + 1
        out.append(name if count == 0 else f"{name} ({count + 1})")
    return out


def claim_folder(out: Path, keep: Iterable[str] = ()) -> None:
    """Make ``out`` this run's folder: create it, refuse a file or a folder holding files
    casefund did not write, and remove what an earlier casefund run wrote there (``keep``:
    entries this run has already written, such as the demo's input folder)."""
    if out.is_symlink():
        raise InputError(f"{out}: is a symbolic link; --out must be a real folder")
    if out.exists() and not out.is_dir():
        raise InputError(
            f"{out}: is a file; --out must be a folder (it will hold one file per output)"
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{out}: cannot be created ({exc.strerror or exc})") from None
    kept = set(keep)
    entries = sorted(e for e in out.iterdir() if e.name not in kept)
    if not entries:
        return
    ours = _previous_files(out)
    strangers = [e.name for e in entries if e.name not in ours]
    if strangers:
        shown = ", ".join(strangers[:5]) + (" …" if len(strangers) > 5 else "")
        raise InputError(
            f"{out}: holds files casefund did not write ({shown}); write the "
            "outputs to an empty folder or to a folder of an earlier casefund run"
        )
    for entry in entries:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _previous_files(out: Path) -> set[str]:
    """What an earlier run recorded writing in ``out`` (nothing if it is not casefund's)."""
    manifest = out / MANIFEST
    if not manifest.is_file() or manifest.is_symlink():
        return set()
    try:
        recorded = json.loads(manifest.read_text("utf-8"))
    except (OSError, ValueError):
        return set()
    if not isinstance(recorded, dict) or "casefund_version" not in recorded:
        return set()
    files = recorded.get("files")
    listed = set(files) if isinstance(files, list) else set(_KNOWN_OUTPUTS)
    return {str(name) for name in listed} | {MANIFEST}


def write_manifest(out: Path, manifest: Mapping[str, Any], written: Iterable[Path]) -> Path:
    """``manifest.json``, listing every file the run wrote (so the next run may replace
    exactly those, and ``casefund verify`` checks each)."""
    body = dict(manifest)
    body["files"] = sorted({p.name for p in written} | set(body.get("files", [])))
    path = out / MANIFEST
    path.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n")
    return path


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """A CSV with every formula-looking text cell neutralized."""
    write_frame(neutralize(frame), path)
    return path


FORMATS = ("csv", "parquet")


def write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    """A Parquet file of the frame, text neutralized as in the CSV (the same values), with
    categorical columns dictionary-encoded; the same bytes every time for the same frame
    and library versions (no timestamps are written)."""
    import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

    table = pa.Table.from_pandas(neutralize(frame), preserve_index=False)
    pq.write_table(table, path, compression="zstd")
    return path


def write_table(frame: pd.DataFrame, out: Path, name: str, form: str) -> Path:
    """One output as ``<name>.csv`` or ``<name>.parquet``."""
    if form == "parquet":
        return write_parquet(frame, out / f"{name}.parquet")
    return write_csv(frame, out / f"{name}.csv")


def write_chunks(chunks: Iterable[pd.DataFrame], out: Path, name: str, form: str) -> Path:
    """One output given in consecutive chunks of rows (at least one, maybe empty), written
    as ``write_table`` would write it whole: the same CSV bytes, the same Parquet values
    (one row group per chunk, every categorical column as one dictionary type)."""
    if form == "parquet":
        return _parquet_chunks(chunks, out / f"{name}.parquet")
    path = out / f"{name}.csv"
    with path.open("wb") as handle:
        for at, chunk in enumerate(chunks):
            write_frame(neutralize(chunk), handle, header=at == 0)
    return path


def _parquet_chunks(chunks: Iterable[pd.DataFrame], path: Path) -> Path:
    import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

    writer: Any = None
    schema: Any = None
    try:
        for chunk in chunks:
            table = pa.Table.from_pandas(neutralize(chunk), preserve_index=False)
            if schema is None:
                schema = pa.schema(
                    [_chunk_field(f) for f in table.schema], metadata=table.schema.metadata
                )
                writer = pq.ParquetWriter(path, schema, compression="zstd")
            writer.write_table(table.cast(schema))
    finally:
        if writer is not None:
            writer.close()
    return path


def _chunk_field(field: Any) -> Any:
    """A type every chunk's column converts to (chunks' dictionaries differ in size)."""
    kind = field.type
    if pa.types.is_dictionary(kind):
        return pa.field(field.name, pa.dictionary(pa.int32(), pa.large_string()))
    if pa.types.is_string(kind):
        return pa.field(field.name, pa.large_string())
    return field


def write_workbook(
    sheets: Mapping[str, pd.DataFrame],
    path: Path,
    kinds: SheetKinds | None = None,
    charts: ChartMaker | None = None,
) -> Path:
    """An XLSX workbook, one sheet per frame (``kinds``: per sheet name, each column's
    declared kind), text neutralized, the same bytes every time."""
    neutral: dict[str, pd.DataFrame] = {}
    declared: dict[str, dict[str, Kind]] = {}
    for name, frame in sheets.items():
        title = _sheet_title(name)
        neutral[title] = neutralize(frame)
        mine = (kinds or {}).get(name, {})
        # Headers may have been quoted by neutralize: kinds follow the columns' positions.
        declared[title] = {
            str(new): mine[str(old)]
            for old, new in zip(frame.columns, neutral[title].columns, strict=True)
            if str(old) in mine
        }
        if "*" in mine:
            declared[title]["*"] = mine["*"]
    path.write_bytes(_reproducible(workbook_bytes(neutral, declared, charts)))
    return path


def _sheet_title(name: str) -> str:
    # Excel forbids []:*?/\ in sheet names and allows 31 characters.
    return re.sub(r"[\[\]:*?/\\]", "_", name)[:31] or "sheet"


def _reproducible(data: bytes) -> bytes:
    """The archive rewritten with fixed timestamps, in and out of its document properties."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*",
                    rb"\g<1>2000-01-01T00:00:00Z",
                    content,
                )
            entry = zipfile.ZipInfo(info.filename, date_time=_FIXED_STAMP)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            target.writestr(entry, content)
    return out.getvalue()


def contains_formula_text(values: Iterable[Any]) -> bool:
    """Whether any value would be read as a formula by a spreadsheet (for tests and asserts)."""
    return any(isinstance(v, str) and v.startswith(FORMULA_START) for v in values)

"""Turning a user's table, in whatever form it arrives, into a raw DataFrame."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]
import pyarrow.csv as pacsv  # type: ignore[import-untyped,unused-ignore]
from pydantic import BaseModel

from casefund.errors import InputError
from casefund.io.digests import bytes_digest
from casefund.records.suggestions import closest

TableSource: TypeAlias = str | Path | pd.DataFrame | Sequence[Mapping[str, Any] | BaseModel]

_SUFFIXES = (".csv", ".parquet", ".xlsx")
CONTRACTS_FILE = "contracts.yaml"


@dataclass
class FolderSources:
    tables: dict[str, Path | None]
    contracts: Path | None
    unread: list[str]  # table-like files that are not one of the tables (reported, not read)


def folder_sources(folder: Path, tables: Sequence[str]) -> FolderSources:
    """The table files and contracts.yaml of a data folder, by table name.

    A file is read only under its exact name (``activities.csv``); a name that is a near miss
    of one — another case, a typo, another extension — is an error naming it, never quietly
    ignored, and so are two files for one table. Other files (notes, sub-folders) are left
    alone.
    """
    if not folder.exists():
        raise InputError(f"{folder}: no such folder (the --data folder of input tables)")
    if not folder.is_dir():
        raise InputError(f"{folder}: is a file, not a folder of input tables")
    expected = {f"{t}{suffix}": t for t in tables for suffix in _SUFFIXES}
    expected[CONTRACTS_FILE] = "contracts"
    found: dict[str, list[Path]] = {}
    unread = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.startswith(".") or entry.is_dir():
            continue
        if entry.name in expected:
            found.setdefault(expected[entry.name], []).append(entry)
            continue
        near = _near_miss(entry.name, expected)
        if near is not None:
            raise InputError(
                f"{entry}: not read — its name is a near miss of '{near}'; "
                f"rename it '{near}' (names are lower case, as the contract "
                "spells them) or move it out of the folder"
            )
        if entry.suffix.lower() in (*_SUFFIXES, ".yaml", ".yml", ".xls", ".xlsm", ".tsv"):
            unread.append(entry.name)
    for table, paths in found.items():
        if len(paths) > 1:
            raise InputError(
                f"{folder}: {' and '.join(p.name for p in paths)} both hold "
                f"table '{table}'; keep one"
            )
    contracts = found.pop("contracts", [None])[0]
    return FolderSources({t: found.get(t, [None])[0] for t in tables}, contracts, unread)


def _near_miss(name: str, expected: Mapping[str, str]) -> str | None:
    """The expected file name ``name`` was most likely meant to be, if it is close."""
    lowered = name.lower()
    for known in expected:
        if lowered == known:  # another case
            return known
    stem, _, suffix = lowered.rpartition(".")
    variants = {
        "yml": "yaml",
        "xls": "xlsx",
        "xlsm": "xlsx",
        "pq": "parquet",
        "txt": "csv",
        "tsv": "csv",
    }
    suffix = variants.get(suffix, suffix)
    guess = closest(f"{stem}.{suffix}" if stem else lowered, list(expected), cutoff=0.85)
    if guess is not None:
        return guess
    # A known table name under another extension (activities.json, coverage.tsv).
    return next(
        (known for known, table in expected.items() if stem == table and known != lowered), None
    )


def read_source(source: TableSource, table: str) -> tuple[pd.DataFrame, str]:
    """The raw frame and a name for it that error messages can point at."""
    frame, origin, _ = read_source_digest(source, table)
    return frame, origin


def read_source_digest(source: TableSource, table: str) -> tuple[pd.DataFrame, str, str | None]:
    """:func:`read_source`, and for a file the digest of the bytes it was read from."""
    if isinstance(source, pd.DataFrame):
        return source.copy(deep=False), f"{table} (DataFrame)", None
    if isinstance(source, str | Path):
        frame, digest = _read_file(Path(source), table)
        return frame, str(source), digest
    rows = [r.model_dump() if isinstance(r, BaseModel) else dict(r) for r in source]
    return pd.DataFrame.from_records(rows), f"{table} (records)", None


def _read_file(path: Path, table: str) -> tuple[pd.DataFrame, str]:
    """The file's frame, parsed from its bytes read once, and their digest."""
    if not path.exists():
        raise InputError(f"{path}: file not found (table '{table}')")
    if not path.is_file():
        raise InputError(f"{path}: is not a file (table '{table}')")
    suffix = path.suffix.lower()
    if suffix not in (*_SUFFIXES, ".xlsm"):
        raise InputError(f"{path}: unsupported file type {suffix!r}; use .csv, .parquet or .xlsx")
    check_header(path, table)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    return _parsed(path, table, data), bytes_digest(data)


def _parsed(path: Path, table: str, data: bytes) -> pd.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            if not data:
                return pd.DataFrame()
            return read_csv_bytes(data)
        if suffix == ".parquet":
            return pd.read_parquet(io.BytesIO(data))
        return _one_sheet(path, table, data)
    except ImportError as exc:
        raise _missing_extra(path, suffix) from exc
    except InputError:
        raise
    except UNREADABLE as exc:
        raise InputError(
            f"{path}: cannot be read as a {suffix} table ({_first_line(exc)})"
        ) from None


_BLANKS = b" \t\x0b\x0c"  # what pandas' parser takes a line of only for a blank line
_SPACES_ONLY_LINE = re.compile(rb"(?:^|[\r\n])[" + re.escape(_BLANKS) + rb"]+(?:[\r\n]|$)")
_BLANK_BYTES = np.frombuffer(_BLANKS, dtype=np.uint8)
_SCAN = 1 << 20


def _needs_pandas_or_trim(data: bytes) -> tuple[bool, bool]:
    """Whether the file holds a quote or a line of blanks only (read by pandas, see
    below), and whether a cell starts with a space (to trim). A vectorized scan of the
    bytes in cache-sized pieces (Python's substring searches cost a second a million
    rows, and whole-file temporaries nearly as much)."""
    if b'"' in data:
        return True, False
    octets = np.frombuffer(data, dtype=np.uint8)
    trim = False
    previous = ord("\n")  # the byte before the file: the file starts a line
    for start in range(0, len(octets), _SCAN):
        piece = octets[start : start + _SCAN]
        before = np.r_[previous, piece[:-1]]
        after = (before == ord("\n")) | (before == ord("\r"))  # the first byte of a line
        if (after & np.isin(piece, _BLANK_BYTES)).any() and _SPACES_ONLY_LINE.search(data):
            return True, False
        trim = trim or bool(((piece == ord(" ")) & (after | (before == ord(",")))).any())
        previous = int(piece[-1])
    return False, trim


def read_csv_text(path: Path) -> pd.DataFrame:
    """A CSV file as text columns (see :func:`read_csv_bytes`)."""
    return read_csv_bytes(path.read_bytes())


_LONE_CARRIAGE_RETURN = re.compile(rb"\r(?!\n)")


def read_csv_bytes(data: bytes) -> pd.DataFrame:
    """A CSV file's bytes as text columns, every cell as written (empty cells empty, never NaN;
    spaces after a delimiter skipped).

    Arrow parses the file into string columns without one Python string per cell (a
    million activities: 0.7–1.2 s through pandas' parser, about 0.5 s here). Where Arrow and pandas'
    parser could read a file differently — quoted cells (pandas skips spaces before the
    quote and keeps those inside it), a row with too few or too many cells, a header cell
    that is blank, bytes that are not UTF-8 — the file is read by pandas, as before; a test
    holds the two readers to the same frame.
    """
    frame = _arrow_csv(data)
    if frame is not None:
        return frame
    if b'"' not in data:
        # pandas' parser misreads the line after an empty line ended by a lone carriage
        # return (it drops a row of empty cells, shifts one that opens with an empty cell);
        # with no quotes in the file a lone carriage return can only end a line, so it is
        # given to pandas as the line feed it means.
        data = _LONE_CARRIAGE_RETURN.sub(b"\n", data)
    return pd.read_csv(
        io.BytesIO(data),
        dtype=str,
        keep_default_na=False,
        encoding="utf-8-sig",
        skipinitialspace=True,
    )


def _arrow_csv(data: bytes) -> pd.DataFrame | None:
    """The file read by Arrow, or None where pandas must read it (see above)."""
    use_pandas, trim = _needs_pandas_or_trim(data)
    if use_pandas:
        # Quotes, or a line of blanks only (pandas skips it; Arrow reads a row).
        return None
    first_line = data.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0].rstrip(b"\r")
    try:
        names = first_line.decode("utf-8").split(",")
    except UnicodeDecodeError:
        return None
    stripped = [name.lstrip(" ") for name in names]
    if any(not name for name in stripped) or len(set(stripped)) < len(stripped):
        return None
    try:
        table = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(column_names=stripped, skip_rows=1),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(stripped, pa.string()),
                strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    if trim:
        # pandas skips the spaces after a delimiter (``skipinitialspace``): with no quotes
        # in the file, that is every cell's leading spaces.
        table = pa.table(
            [pc.utf8_ltrim(column, characters=" ") for column in table.columns], names=stripped
        )
    text = pd.StringDtype("pyarrow", na_value=np.nan)  # pandas' own dtype for read text
    frame: pd.DataFrame = table.to_pandas(types_mapper=lambda kind: text)
    return frame


# What a damaged or mislabelled file raises, from pandas, pyarrow or openpyxl.
UNREADABLE = (
    ValueError,
    UnicodeDecodeError,
    pd.errors.ParserError,
    OSError,
    KeyError,
    TypeError,
    IndexError,
    zipfile.BadZipFile,
    csv.Error,
    EOFError,
)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def _missing_extra(path: Path, suffix: str) -> InputError:
    extra = "parquet" if suffix == ".parquet" else "xlsx"
    return InputError(
        f"{path}: reading {suffix} files needs the '{extra}' extra "
        f"(pip install 'casefund[{extra}]')"
    )


def _one_sheet(path: Path, table: str, data: bytes) -> pd.DataFrame:
    """A workbook's one table sheet; rows on a second sheet would otherwise be lost."""
    sheets = pd.read_excel(io.BytesIO(data), sheet_name=None, dtype=object)
    used = {
        name: frame
        for name, frame in sheets.items()
        if not (frame.empty and len(frame.columns) == 0)
    }
    if len(used) > 1:
        names = ", ".join(f"'{name}'" for name in used)
        raise InputError(
            f"{path}: holds {len(used)} sheets with data ({names}); a table file "
            f"holds one table (table '{table}'): keep its rows on one sheet"
        )
    return next(iter(used.values()), pd.DataFrame())


def raw_header(path: Path) -> list[str]:
    """A file's column names exactly as written (pandas would rename a repeated one)."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            with path.open(encoding="utf-8-sig", newline="") as file:
                return next(csv.reader(file), [])
        if suffix == ".parquet":
            import pyarrow.parquet as pq  # type: ignore[import-untyped]

            return list(pq.read_schema(path).names)
        from openpyxl import load_workbook  # type: ignore[import-untyped]

        book = load_workbook(path, read_only=True, data_only=True)
        try:
            headers = [
                [
                    str(c)
                    for c in next(sheet.iter_rows(max_row=1, values_only=True), ())
                    if c is not None
                ]
                for sheet in book.worksheets
            ]
        finally:
            book.close()
        return next((h for h in headers if h), [])
    except ImportError as exc:
        raise _missing_extra(path, suffix) from exc
    except UNREADABLE as exc:
        raise InputError(
            f"{path}: cannot be read as a {suffix} table ({_first_line(exc)})"
        ) from None


def check_header(path: Path, table: str) -> None:
    """Refuse a file that names a column twice: the second copy would be dropped."""
    names = [str(n).replace("\ufeff", "").strip().lower() for n in raw_header(path)]
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name in seen and name:
            raise InputError(
                f"{path}: table '{table}' has column '{name}' twice (columns "
                f"{seen[name]} and {position}); keep one"
            )
        seen.setdefault(name, position)

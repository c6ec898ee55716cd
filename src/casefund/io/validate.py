"""Whole-column validation of one input table.

Each column is parsed once, vectorized, into its typed form; every cell that fails yields a
reject naming the table, the 1-based data row, the field and the problem. Rows with any
problem are refused; the rest proceed. Nothing raises for bad data except a missing column.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from casefund.errors import InputError
from casefund.records.suggestions import closest
from casefund.records.tables import ColumnSpec, TableSpec
from casefund.records.vocabulary import VOCABULARY, suggest

REJECT_COLUMNS = ["table", "row", "field", "problem"]
ROW = "_row"

_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}
_MIN_DATE = pd.Timestamp("1900-01-01")
_FULL_DATE = r"^\d{4}-\d{2}-\d{2}(?:$|[T ])"
_MAX_DATE = pd.Timestamp("2100-12-31")


@dataclass(frozen=True)
class Problem:
    field: str
    mask: np.ndarray
    text: pd.Series | str


@dataclass
class Validated:
    frame: pd.DataFrame
    rejects: pd.DataFrame
    refused: pd.DataFrame  # the refused rows as far as they parsed, for 'rejected' lines
    notices: list[str] = field(default_factory=list)  # columns present but not read


def empty_rejects() -> pd.DataFrame:
    """A rejects table with no rows (a fresh frame: callers may add to it)."""
    return pd.DataFrame(
        {c: np.zeros(0, dtype=np.int64 if c == "row" else object) for c in REJECT_COLUMNS}
    )


def normalise_columns(raw: pd.DataFrame) -> pd.DataFrame:
    """Column names as the contract spells them: trimmed, lower case, no byte-order mark."""
    renamed = {c: str(c).replace("\ufeff", "").strip().lower() for c in raw.columns}
    return raw.rename(columns=renamed)


def _blank(series: pd.Series) -> np.ndarray:
    if series.dtype == object or pd.api.types.is_string_dtype(series):
        text = series.astype("string").str.strip()
        return np.asarray(text.isna() | (text == ""), dtype=bool)
    return np.asarray(series.isna(), dtype=bool)


_TEXT = pd.StringDtype("python")


def _parse_text(series: pd.Series) -> pd.Series:
    """Trimmed text, blank as missing. Python-backed strings: every later stage reorders and
    indexes these columns, and numpy takes of Python strings are many times cheaper than
    Arrow takes at a million rows."""
    text = series.astype("string").str.strip()  # Arrow strips fast ...
    return text.mask(text == "").astype(_TEXT)  # ... Python strings reorder fast


def _parse_dates(series: pd.Series, spec: ColumnSpec) -> tuple[pd.Series, list[Problem]]:
    blank = _blank(series)
    partial = np.zeros(len(series), dtype=bool)
    if pd.api.types.is_datetime64_any_dtype(series):
        parsed = (
            pd.to_datetime(series).dt.tz_localize(None)
            if getattr(series.dt, "tz", None)
            else pd.to_datetime(series)
        )
    else:
        text = _parse_text(series)
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
        # ISO 8601 also reads '2024' and '2024-03' as the 1st: a service date must name its
        # day, so a partial date is refused rather than billed on a day nobody recorded.
        partial = (parsed.notna() & ~text.str.match(_FULL_DATE).fillna(False)).to_numpy(dtype=bool)
        parsed = parsed.mask(partial)
        # Spreadsheets export dates as day serials; accept them rather than refuse a whole
        # file. Only cells that did not parse as dates can be serials.
        serial = np.full(len(text), np.nan)
        unparsed = parsed.isna().to_numpy() & ~blank & ~partial
        if unparsed.any():
            serial[unparsed] = pd.to_numeric(text[unparsed], errors="coerce").to_numpy(
                dtype=float, na_value=np.nan
            )
        with np.errstate(invalid="ignore"):
            looks_serial = unparsed & (serial >= 1) & (serial <= 80_000) & (np.mod(serial, 1) == 0)
        if looks_serial.any():
            days = np.where(looks_serial, serial, 0).astype(np.int64).astype("timedelta64[D]")
            from_serial = pd.Series(np.datetime64("1899-12-30") + days, index=parsed.index)
            parsed = parsed.mask(looks_serial, from_serial)
    unreadable = parsed.isna().to_numpy() & ~blank & ~partial
    # Compare before converting to nanoseconds: a year like -1 or 9999 would overflow it.
    in_range = parsed.between(_MIN_DATE, _MAX_DATE).to_numpy()
    out_of_range = ~blank & ~unreadable & ~in_range
    parsed = parsed.where(in_range).astype("datetime64[ns]")
    if spec.kind == "date":
        parsed = parsed.dt.normalize()
    problems = [
        Problem(spec.name, partial, "not a full date: give the day (YYYY-MM-DD, e.g. 2024-03-15)"),
        Problem(spec.name, unreadable, "not a date (expected ISO 8601, e.g. 2024-03-15)"),
        Problem(spec.name, out_of_range, "date outside 1900-01-01..2100-12-31"),
    ]
    return parsed, problems


def _text_to_numbers(series: pd.Series) -> pd.Series:
    """Numbers from text: Arrow's cast when every cell is a plain number (the common case,
    several times faster), pandas' forgiving parse otherwise."""
    text = series.astype("string").str.strip()
    text = text.mask(text == "")
    cast = _arrow_numbers(text)
    if cast is not None:
        return cast
    return pd.to_numeric(text.astype(_TEXT), errors="coerce").astype("Float64")


def _arrow_numbers(text: pd.Series) -> pd.Series | None:
    """Arrow's cast of Arrow-backed text to numbers; None when Arrow is absent or a cell is
    not a plain number (pyarrow's ArrowInvalid is a ValueError)."""
    if getattr(text.dtype, "storage", None) != "pyarrow":
        return None
    try:
        import pyarrow as pa  # type: ignore[import-untyped]
        import pyarrow.compute as pc  # type: ignore[import-untyped]

        cast = pc.cast(pa.array(text.array), pa.float64())
    except (ImportError, ValueError, TypeError, ArithmeticError):
        return None
    return pd.Series(cast.to_numpy(zero_copy_only=False), index=text.index, dtype="Float64")


def _parse_number(series: pd.Series, spec: ColumnSpec) -> tuple[pd.Series, list[Problem]]:
    blank = _blank(series)
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        numbers = series.astype("Float64")
    else:
        numbers = _text_to_numbers(series)
    values = numbers.to_numpy(dtype=float, na_value=np.nan)
    unreadable = np.isnan(values) & ~blank
    infinite = np.isinf(values)
    problems = [
        Problem(spec.name, unreadable, "not a number"),
        Problem(spec.name, infinite, "not a finite number"),
    ]
    if spec.kind == "int":
        with np.errstate(invalid="ignore"):
            fractional = ~np.isnan(values) & ~infinite & (np.mod(values, 1) != 0)
        problems.append(Problem(spec.name, fractional, "not a whole number"))
    with np.errstate(invalid="ignore"):
        if spec.minimum is not None:
            problems.append(
                Problem(spec.name, values < spec.minimum, f"must be at least {spec.minimum:g}")
            )
        if spec.maximum is not None:
            problems.append(
                Problem(spec.name, values > spec.maximum, f"must be at most {spec.maximum:g}")
            )
    bad = np.zeros(len(values), dtype=bool)
    for problem in problems:
        bad |= problem.mask
    clean = numbers.mask(bad)
    if spec.kind == "int":
        return clean.round().astype("Int64"), problems
    return clean, problems


def _parse_bool(series: pd.Series, spec: ColumnSpec) -> tuple[pd.Series, list[Problem]]:
    if pd.api.types.is_bool_dtype(series):
        return series.astype("boolean"), []
    text = _parse_text(series).str.lower()
    parsed = pd.Series(pd.NA, index=series.index, dtype="boolean")
    parsed[text.isin(_TRUE).fillna(False).to_numpy(dtype=bool)] = True
    parsed[text.isin(_FALSE).fillna(False).to_numpy(dtype=bool)] = False
    bad = np.asarray(text.notna() & parsed.isna(), dtype=bool)
    return parsed, [Problem(spec.name, bad, "not a yes/no value (true/false, yes/no, 1/0, Y/N)")]


def _parse_code(series: pd.Series, spec: ColumnSpec) -> tuple[pd.Series, list[Problem]]:
    assert spec.vocabulary is not None
    text = _parse_text(series).str.lower()
    known = VOCABULARY[spec.vocabulary]
    bad = np.asarray(text.notna() & ~text.isin(known), dtype=bool)
    if not bad.any():
        return text.astype("category"), []
    bad_values = text[bad]
    hints = {
        v: f"unknown {spec.vocabulary} code '{v}'{suggest(str(v), spec.vocabulary)}"
        for v in bad_values.unique()
    }
    message = pd.Series("", index=series.index, dtype="object")
    message[bad] = bad_values.map(hints).to_numpy()
    return text.mask(bad).astype("category"), [Problem(spec.name, bad, message)]


_BY_DISTINCT = ("date", "datetime", "code", "bool", "str")
_DISTINCT_MIN_ROWS = 1024


def parse_column(series: pd.Series, spec: ColumnSpec) -> tuple[pd.Series, list[Problem]]:
    """Typed form of one column and the problems found in it.

    Dates, codes and most text repeat heavily (a year of service dates has 365 distinct
    values in a million rows), so a long column is parsed once per distinct value and
    spread back to its rows: the same answer, row for row, as parsing every cell.
    """
    if spec.kind in _BY_DISTINCT and len(series) >= _DISTINCT_MIN_ROWS and _all_text(series):
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        if 4 * len(uniques) <= len(series):
            return _parse_distinct(series, spec, np.asarray(codes), pd.Series(uniques))
    return _parse_cells(series, spec)


def _all_text(series: pd.Series) -> bool:
    """Only text is grouped by value: Python objects 1, 1.0 and True are one value to a hash
    table but three different texts."""
    if isinstance(series.dtype, pd.StringDtype):
        return True
    return bool(
        series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) == "string"
    )


def _parse_distinct(
    series: pd.Series, spec: ColumnSpec, codes: np.ndarray, distinct: pd.Series
) -> tuple[pd.Series, list[Problem]]:
    missing = np.flatnonzero(codes < 0)
    if len(missing):  # a missing cell parses as the parser says, like any other value
        distinct = pd.concat([distinct, series.iloc[missing[:1]]], ignore_index=True)
        codes = np.where(codes < 0, len(distinct) - 1, codes)
    parsed, problems = _parse_cells(distinct.reset_index(drop=True), spec)
    spread = [
        Problem(
            p.field,
            p.mask[codes],
            p.text if isinstance(p.text, str) else p.text.iloc[codes].set_axis(series.index),
        )
        for p in problems
    ]
    return parsed.iloc[codes].set_axis(series.index), spread


def _parse_cells(series: pd.Series, spec: ColumnSpec) -> tuple[pd.Series, list[Problem]]:
    if spec.kind in ("date", "datetime"):
        return _parse_dates(series, spec)
    if spec.kind in ("int", "float"):
        return _parse_number(series, spec)
    if spec.kind == "bool":
        return _parse_bool(series, spec)
    if spec.kind == "code":
        return _parse_code(series, spec)
    text = _parse_text(series)
    if spec.pattern is None:
        return text, []
    bad = (text.notna() & ~text.str.fullmatch(spec.pattern).fillna(False)).to_numpy(dtype=bool)
    return text.mask(bad), [Problem(spec.name, bad, f"not {spec.shape}")]


def problems_to_rejects(table: str, rows: np.ndarray, problems: list[Problem]) -> pd.DataFrame:
    parts = []
    for problem in problems:
        if not problem.mask.any():
            continue
        text = problem.text
        texts = (
            np.asarray(text.to_numpy()[problem.mask], dtype=object)
            if isinstance(text, pd.Series)
            else np.full(int(problem.mask.sum()), text, dtype=object)
        )
        parts.append(
            pd.DataFrame(
                {
                    "table": table,
                    "row": rows[problem.mask].astype("int64"),
                    "field": problem.field,
                    "problem": texts,
                }
            )
        )
    if not parts:
        return empty_rejects()
    return pd.concat(parts, ignore_index=True)


def column_notices(columns: list[str], spec: TableSpec, origin: str) -> list[str]:
    """Columns the table does not know are reported and not read; one whose name is a near
    miss of a known column that is absent is refused — read as 'not known', a misspelt
    optional column (``homless``) would silently flip eligibility."""
    known = [c.name for c in spec.columns]
    present = set(columns)
    notices = []
    for name in columns:
        if name in known or name == ROW or not name:
            continue
        near = closest(name, [k for k in known if k not in present], cutoff=0.8)
        if near is not None:
            raise InputError(
                f"{origin}: table '{spec.name}' has column '{name}' — did you mean "
                f"'{near}'? A misspelt column would be read as not known, so "
                f"the file is refused: rename the column"
            )
        notices.append(
            f"{origin}: column '{name}' is not a column of table '{spec.name}' and is not read"
        )
    return notices


def check_columns(frame: pd.DataFrame, spec: TableSpec, origin: str) -> list[str]:
    """Refuse a table whose columns cannot be used (a required one missing, one repeated,
    a near miss of a known one); the notices for the columns that are not read."""
    repeated = frame.columns[frame.columns.duplicated()].tolist()
    if repeated:
        raise InputError(f"{origin}: table '{spec.name}' repeats column(s) {repeated}")
    check_required_columns(frame, spec, origin)
    return column_notices([str(c) for c in frame.columns], spec, origin)


def check_required_columns(frame: pd.DataFrame, spec: TableSpec, origin: str) -> None:
    missing = [name for name in spec.required if name not in frame.columns]
    if spec.name == "activities" and "date" not in frame.columns and "start" not in frame.columns:
        missing.append("date")
    if missing:
        raise InputError(
            f"{origin}: table '{spec.name}' is missing required column(s) "
            f"{', '.join(repr(m) for m in missing)}; found {', '.join(map(str, frame.columns))}"
        )


def validate_table(
    raw: pd.DataFrame,
    spec: TableSpec,
    origin: str,
    rows: np.ndarray | None = None,
    repeated: Mapping[str, str] | None = None,
) -> Validated:
    """Parse every known column of ``raw`` and split its rows into accepted and refused.

    A slice of a larger table (one participant partition) passes its rows' 1-based
    ``rows`` numbers in the whole table and, as ``repeated``, the keys found repeated across
    the whole table (key → problem text), which replace the slice's own repeated-key check.
    """
    frame = normalise_columns(raw)
    notices = check_columns(frame, spec, origin)
    if rows is None:
        rows = np.arange(1, len(frame) + 1, dtype="int64")
    typed: dict[str, pd.Series] = {ROW: pd.Series(rows, index=frame.index)}
    problems: list[Problem] = []
    flags = _parse_flags_together(frame, spec)
    for column in spec.columns:
        if column.name not in frame.columns:
            continue
        parsed, found = flags.get(column.name) or parse_column(frame[column.name], column)
        typed[column.name] = parsed
        problems.extend(found)
        if column.required:
            missing = parsed.isna().to_numpy().copy()
            for earlier in found:
                missing &= ~earlier.mask
            problems.append(Problem(column.name, missing, "required value is blank"))
    out = pd.DataFrame(typed).reset_index(drop=True)
    for column in spec.columns:
        if column.name not in out.columns:
            out[column.name] = _absent(column, out.index)
    problems.extend(_table_checks(out, spec))
    bad = np.zeros(len(out), dtype=bool)
    for problem in problems:
        bad |= problem.mask
    key_problems = (
        _duplicate_keys(out, spec, bad)
        if repeated is None
        else _settled_keys(out, spec, bad, repeated)
    )
    for problem in key_problems:
        bad |= problem.mask
    # One reject per row and field: the first problem found is the one worth fixing first.
    rejects = problems_to_rejects(spec.name, rows, problems + key_problems).drop_duplicates(
        ["row", "field"], keep="first"
    )
    return Validated(
        out.loc[~bad].reset_index(drop=True),
        rejects,
        out.loc[bad].reset_index(drop=True),
        notices,
    )


def _parse_flags_together(
    frame: pd.DataFrame, spec: TableSpec
) -> dict[str, tuple[pd.Series, list[Problem]]]:
    """The table's yes/no columns held as text, parsed as one long column and split back.

    A participants table has two dozen flags; parsing each costs pandas' fixed cost per
    operation, which is most of a partition's validation when it holds a few hundred
    participants. Parsing a cell depends on nothing but the cell, so parsing the flags laid
    end to end gives every cell its own answer, with a problem text that names no column.
    """
    columns = [
        c for c in spec.columns if c.kind == "bool" and c.name in frame and _all_text(frame[c.name])
    ]
    if len(columns) < 2:
        return {}
    n = len(frame)
    together = pd.concat([frame[c.name].astype(object) for c in columns], ignore_index=True)
    parsed, problems = parse_column(together, columns[0])
    out: dict[str, tuple[pd.Series, list[Problem]]] = {}
    for k, column in enumerate(columns):
        part = slice(k * n, (k + 1) * n)
        found = []
        for problem in problems:
            assert isinstance(problem.text, str)  # yes/no problems name no value or column
            found.append(Problem(column.name, problem.mask[part], problem.text))
        out[column.name] = (parsed.iloc[part].set_axis(frame.index), found)
    return out


def _absent(column: ColumnSpec, index: pd.Index) -> pd.Series:
    dtype = {
        "date": "datetime64[ns]",
        "datetime": "datetime64[ns]",
        "int": "Int64",
        "float": "Float64",
        "bool": "boolean",
        "code": "category",
        "str": "string[python]",
    }[column.kind]
    return pd.Series(pd.NA if dtype != "datetime64[ns]" else pd.NaT, index=index, dtype=dtype)


def _table_checks(frame: pd.DataFrame, spec: TableSpec) -> list[Problem]:
    """Checks that span columns: date order, time from start/end, and the like."""
    problems: list[Problem] = []
    if spec.name in ("coverage", "consents", "assignments"):
        backwards = (frame["end_date"] < frame["start_date"]).to_numpy(dtype=bool, na_value=False)
        problems.append(Problem("end_date", backwards, "end_date is before start_date"))
    if spec.name == "events":
        backwards = (frame["end_date"] < frame["date"]).to_numpy(dtype=bool, na_value=False)
        problems.append(Problem("end_date", backwards, "end_date is before date"))
    if spec.name == "activities":
        problems.extend(_activity_time_checks(frame))
    if spec.name == "expenses":
        month = pd.to_datetime(frame["month"].astype("string"), format="%Y-%m", errors="coerce")
        bad = month.isna().to_numpy() & frame["month"].notna().to_numpy()
        problems.append(Problem("month", bad, "not a month (expected YYYY-MM)"))
    return problems


def _activity_time_checks(frame: pd.DataFrame) -> list[Problem]:
    start, end = frame["start"], frame["end"]
    backwards = (end < start).to_numpy(dtype=bool, na_value=False)
    span = ((end - start).dt.total_seconds() / 60).round()
    too_long = (span > 1440).to_numpy(dtype=bool, na_value=False)
    # The date follows from start where only start/end were recorded.
    frame["date"] = frame["date"].fillna(start.dt.normalize())
    minutes_from_span = span.where(~pd.Series(backwards | too_long)).astype("Int64")
    frame["minutes"] = frame["minutes"].fillna(minutes_from_span)
    no_date = frame["date"].isna().to_numpy()
    no_minutes = frame["minutes"].isna().to_numpy()
    return [
        Problem("end", backwards, "end is before start"),
        Problem("end", too_long, "start to end is longer than a day"),
        Problem("date", no_date, "required value is blank (give date or start)"),
        Problem(
            "minutes",
            no_minutes & ~no_date & ~backwards & ~too_long,
            "required value is blank (give minutes or start and end)",
        ),
    ]


def _settled_keys(
    frame: pd.DataFrame, spec: TableSpec, bad: np.ndarray, repeated: Mapping[str, str]
) -> list[Problem]:
    """Repeated keys decided over the whole table (see :func:`repeated_keys`)."""
    if spec.key is None or not repeated:
        return []
    key = frame[spec.key]
    dup = ~bad & key.isin(list(repeated)).to_numpy(dtype=bool, na_value=False)
    message = pd.Series("", index=frame.index, dtype="object")
    message[dup] = key[dup].astype(object).map(repeated).to_numpy()
    return [Problem(spec.key, dup, message)]


def repeated_text(keys: pd.Series) -> np.ndarray:
    """Rows whose trimmed, non-blank key text appears more than once (Arrow strings: no
    Python objects even for ten million keys)."""
    text = keys.astype("string").str.strip()
    text = text.mask(text == "")
    codes, _ = pd.factorize(text)  # Arrow's dictionary encoding for Arrow strings
    codes = np.asarray(codes)
    known = codes >= 0
    counts = np.bincount(codes[known])
    repeated = np.zeros(len(codes), dtype=bool)
    repeated[known] = counts[codes[known]] > 1
    return repeated


def repeated_keys(
    raw: pd.DataFrame, spec: TableSpec, origin: str, rows: np.ndarray | None = None
) -> dict[str, str]:
    """Keys repeated among a whole table's otherwise valid rows, with the problem text.

    Only rows whose key text appears more than once can be involved, so only those few rows
    are validated here; the answer is exactly what validating the whole table would find.
    ``raw`` may be just those rows of a larger table, with their 1-based ``rows`` numbers.
    """
    if spec.key is None:
        return {}
    frame = normalise_columns(raw)
    if spec.key not in frame.columns:
        return {}
    maybe = repeated_text(frame[spec.key])
    if not maybe.any():
        return {}
    numbers = np.arange(1, len(frame) + 1, dtype="int64") if rows is None else rows
    candidates = validate_table(
        frame.loc[maybe].reset_index(drop=True),
        spec,
        origin,
        rows=numbers[maybe].astype("int64"),
        repeated={},
    ).frame
    out: dict[str, str] = {}
    for problem in _duplicate_keys(candidates, spec, np.zeros(len(candidates), dtype=bool)):
        assert isinstance(problem.text, pd.Series)
        keys = candidates.loc[problem.mask, spec.key].astype(str)
        out.update(zip(keys, problem.text[problem.mask].astype(str), strict=True))
    return out


def _duplicate_keys(frame: pd.DataFrame, spec: TableSpec, bad: np.ndarray) -> list[Problem]:
    """Every copy of a repeated key is refused.

    Which copy is the right one cannot be told from the data, and keeping "the first" would
    make the result depend on row order; refusing all copies is order-free and conservative.
    """
    if spec.key is None:
        return []
    key = frame[spec.key]
    candidates = ~bad & key.notna().to_numpy()
    dup = np.zeros(len(frame), dtype=bool)
    if candidates.any():
        dup[np.flatnonzero(candidates)] = key[candidates].duplicated(keep=False).to_numpy()
    if not dup.any():
        return []
    rows = frame.loc[dup, ROW].astype("int64").astype(str)
    listed = rows.groupby(key[dup].to_numpy()).agg(", ".join)
    message = pd.Series("", index=frame.index, dtype="object")
    message[dup] = (
        f"{spec.key} '"
        + key[dup].astype(str)
        + "' is repeated on rows "
        + key[dup].map(listed).astype(str)
        + "; every copy is refused"
    ).to_numpy()
    return [Problem(spec.key, dup, message)]

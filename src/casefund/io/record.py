"""One record typed without the whole-column machinery, for systems that post one at a time.

Validating a one-row frame column by column costs pandas' per-call overhead sixteen times
over. A record whose values are already plain (text, ISO dates, numbers, known codes) is
typed here directly into the same dtypes :func:`validate_table` produces; anything else —
a blank required field, an unknown code, a start/end pair, an odd type — goes through
:func:`validate_table` itself, so a refusal always carries the batch's own messages.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from casefund.io.frozen import Frozen
from casefund.io.validate import ROW
from casefund.records.tables import ColumnSpec, TableSpec
from casefund.records.vocabulary import VOCABULARY

_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_DTYPES: dict[str, Any] = {
    "str": pd.StringDtype("python"),
    "int": "Int64",
    "float": "Float64",
    "bool": "boolean",
    "date": "datetime64[ns]",
    "datetime": "datetime64[ns]",
}


class NotPlain(Exception):
    """The value needs the full validator (to be refused, or parsed the general way)."""


def _blank(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _day(value: Any) -> pd.Timestamp:
    if isinstance(value, str) and _ISO_DAY.fullmatch(value.strip()):
        try:
            stamp = pd.Timestamp(dt.date.fromisoformat(value.strip()))
        except ValueError:
            raise NotPlain from None
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        stamp = pd.Timestamp(value)
    elif isinstance(value, pd.Timestamp) and value.tzinfo is None and value == value.normalize():
        stamp = value
    else:
        raise NotPlain
    if not dt.date(1900, 1, 1) <= stamp.date() <= dt.date(2100, 12, 31):
        raise NotPlain
    return stamp


def _number(value: Any, spec: ColumnSpec) -> float:
    if isinstance(value, bool):
        raise NotPlain
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise NotPlain from None
    else:
        raise NotPlain
    if not math.isfinite(number) or (spec.kind == "int" and number != int(number)):
        raise NotPlain
    if (spec.minimum is not None and number < spec.minimum) or (
        spec.maximum is not None and number > spec.maximum
    ):
        raise NotPlain
    return number


def _typed(value: Any, spec: ColumnSpec) -> Any:
    if _blank(value):
        if spec.required:
            raise NotPlain
        return None
    if spec.kind == "str":
        if not isinstance(value, str | int):
            raise NotPlain
        return str(value).strip()
    if spec.kind == "date":
        return _day(value)
    if spec.kind in ("int", "float"):
        number = _number(value, spec)
        return int(number) if spec.kind == "int" else number
    if spec.kind == "code":
        assert spec.vocabulary is not None
        code = str(value).strip().lower() if isinstance(value, str) else None
        if code is None or code not in VOCABULARY[spec.vocabulary]:
            raise NotPlain
        return code
    if spec.kind == "bool" and isinstance(value, bool):
        return value
    raise NotPlain  # datetimes (start/end) need the span checks of the full validator


def plain_record(
    record: Mapping[str, Any], spec: TableSpec, row: int | None = 1
) -> pd.DataFrame | None:
    """The record as a one-row typed frame, or None when it needs :func:`validate_table`.
    ``row``: its position, in the validator's ``_row`` column (None: no such column)."""
    typed = _typed_values(record, spec)
    if typed is None:
        return None
    columns: dict[str, Any] = {} if row is None else {ROW: np.array([row], dtype=np.int64)}
    for column in spec.columns:
        columns[column.name] = _one(typed[column.name], column.kind)
    return pd.DataFrame(columns)


@dataclass(frozen=True)
class PlainRecord:
    """One plain record typed: its values by column, and the one-row frame
    :func:`plain_record` gives, frozen (see :class:`casefund.io.frozen.Frozen`)."""

    values: dict[str, Any]
    frozen: Frozen


def plain_frozen(record: Mapping[str, Any], spec: TableSpec) -> PlainRecord | None:
    """:func:`plain_record` without its ``_row``, typed straight into the arrays a frozen
    frame holds: a live post keeps the record frozen, and building the pandas frame only
    to take it apart again was two thirds of reading the record. None when the record
    needs :func:`validate_table`."""
    typed = _typed_values(record, spec)
    if typed is None:
        return None
    blanks = tuple(typed[c.name] is None for c in spec.columns)
    columns = _DESCRIPTIONS.get((spec.name, blanks))
    if columns is None:  # what Frozen says of this table's one-row frame, blanks alike
        columns = Frozen(_frame_of(typed, spec)).columns
        _DESCRIPTIONS[(spec.name, blanks)] = columns
    leaves = tuple(_leaf(typed[c.name], c.kind) for c in spec.columns)
    return PlainRecord(typed, Frozen.of_parts(columns, leaves, 1))


# Column descriptions by table and blank fields: a description depends on the dtypes only,
# and a code column's on whether it is blank (no category then).
_DESCRIPTIONS: dict[tuple[str, tuple[bool, ...]], str] = {}


def _frame_of(typed: dict[str, Any], spec: TableSpec) -> pd.DataFrame:
    return pd.DataFrame({c.name: _one(typed[c.name], c.kind) for c in spec.columns})


def _leaf(value: Any, kind: str) -> tuple[np.ndarray, ...]:
    """The arrays Frozen keeps for ``_one(value, kind)``."""
    if kind == "code":
        if value is None:
            return np.array([-1], dtype=np.int8), np.zeros(0, dtype="float64")
        return np.array([0], dtype=np.int8), np.array([value], dtype=object)
    if kind in ("date", "datetime"):  # a datetime is plain only when blank (NaT)
        return (_one(value, "date"),)
    if kind == "str":
        return (np.array([value], dtype=object),)
    numpy_dtype = _NUMPY[kind]
    data = np.array([numpy_dtype.type(0) if value is None else value], dtype=numpy_dtype)
    return data, np.array([value is None], dtype=bool)


_NUMPY = {"int": np.dtype("int64"), "float": np.dtype("float64"), "bool": np.dtype("bool")}


def _typed_values(record: Mapping[str, Any], spec: TableSpec) -> dict[str, Any] | None:
    """Each column's typed value (None: blank), or None when the record is not plain."""
    values = {str(k).replace("\ufeff", "").strip().lower(): v for k, v in record.items()}
    if spec.name == "activities" and (_blank(values.get("date")) or _blank(values.get("minutes"))):
        return None  # date or minutes from start/end: the full validator's cross checks
    try:
        return {column.name: _typed(values.get(column.name), column) for column in spec.columns}
    except NotPlain:
        return None


def _one(value: Any, kind: str) -> Any:
    """A one-value column of the validator's dtype, built the cheap way for its kind
    (``pd.Categorical([value])`` alone costs 0.2 ms; these are the same arrays)."""
    if kind == "code":  # the categories pd.Categorical([value]) infers
        categories = pd.Index([value]) if value is not None else pd.Index([], dtype="float64")
        codes = np.array([0 if value is not None else -1], dtype=np.int8)
        return pd.Categorical.from_codes(codes, categories=categories, validate=False)
    if kind == "date":  # _typed sends start/end datetimes to the full validator
        stamp = np.datetime64("NaT", "ns") if value is None else np.datetime64(value.value, "ns")
        return np.array([stamp], dtype="datetime64[ns]")
    return pd.array([value], dtype=_DTYPES[kind])

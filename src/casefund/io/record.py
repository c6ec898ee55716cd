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
from typing import Any

import numpy as np
import pandas as pd

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
    values = {str(k).replace("\ufeff", "").strip().lower(): v for k, v in record.items()}
    if spec.name == "activities" and (_blank(values.get("date")) or _blank(values.get("minutes"))):
        return None  # date or minutes from start/end: the full validator's cross checks
    columns: dict[str, Any] = {} if row is None else {ROW: np.array([row], dtype=np.int64)}
    try:
        for column in spec.columns:
            columns[column.name] = _one(_typed(values.get(column.name), column), column.kind)
    except NotPlain:
        return None
    return pd.DataFrame(columns)


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

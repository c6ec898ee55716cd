"""Outputs as a pandas user expects them: days as datetimes, months as periods, missing as
missing.

Files hold text — ISO days, ``YYYY-MM`` months, a blank cell where there is no value — and
inside a run most text columns are categorical, which is what keeps a million lines small.
Handed to Python code as they are, they surprise: ``lines["service_date"].dt`` fails, a
line no contract took has ``contract_id == ""`` rather than a missing value, and every
column's categories follow it through ``groupby``. The Python API therefore converts each
output once, from the kinds declared in :mod:`casefund.reports.columns`: days to
``datetime64[s]`` (seconds, so an open-ended ``9999-12-31`` fits), months to
``period[M]``, vocabularies casefund defines to categories, every other text column to
pandas' ``string`` dtype with ``<NA>`` for a blank cell. Numbers and flags are as built.
Each conversion works on a categorical column's distinct values, and on any other text
column as a whole (an id column's values are nearly all distinct).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from casefund.reports.columns import CATEGORIES, KINDS, Kind


def typed(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The output ``name`` as the Python API returns it (a new frame; ``frame`` as built)."""
    kinds = KINDS.get(name, {})
    categories = CATEGORIES.get(name, frozenset())
    columns: dict[str, pd.Series] = {}
    for label in frame.columns:
        column = frame[label]
        kind = kinds.get(str(label))
        if kind is Kind.DATE:
            columns[str(label)] = _by_distinct(column, _days)
        elif kind is Kind.MONTH:
            columns[str(label)] = _by_distinct(column, _months)
        elif _is_text(column) and str(label) in categories:
            columns[str(label)] = _by_distinct(column, _vocabulary)
        elif isinstance(column.dtype, pd.CategoricalDtype) and _is_text(column):
            columns[str(label)] = _by_distinct(column, _text)
        elif _is_text(column):
            # Ids are nearly all distinct: converted as a column, not value by value.
            text = column.astype("string")
            columns[str(label)] = text.mask(text == "", pd.NA)
        else:
            columns[str(label)] = column
    return pd.DataFrame(columns, index=frame.index)


def _is_text(column: pd.Series) -> bool:
    if isinstance(column.dtype, pd.CategoricalDtype):
        return not pd.api.types.is_numeric_dtype(column.cat.categories.dtype)
    return pd.api.types.is_string_dtype(column.dtype) or column.dtype == object


def _by_distinct(
    column: pd.Series, convert: Callable[[list[str], np.ndarray], pd.Series]
) -> pd.Series:
    """``convert`` applied to the column's distinct values, spread back over its rows. The
    distinct values are handled as a Python list and spread by one ``take``: a live post
    reads a few lines, where each pandas step per column cost more than the values."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = np.asarray(column.cat.codes, dtype=np.intp)
        distinct = column.cat.categories.tolist()
    else:
        codes, uniques = pd.factorize(column.astype(object), use_na_sentinel=True)
        distinct = list(uniques)
    texts = ["" if _missing(v) else str(v) for v in distinct]
    return convert(texts, codes).set_axis(column.index)


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value))


def _spread(values: Any, codes: np.ndarray) -> pd.Series:
    """Row ``i`` holds ``values[codes[i]]``; a code below zero holds the values' missing
    value (``values``: an extension array, filled by ``take``)."""
    return pd.Series(values.take(np.asarray(codes, dtype=np.intp), allow_fill=True))


def _days(texts: list[str], codes: np.ndarray) -> pd.Series:
    days = np.array([t or "NaT" for t in texts], dtype="datetime64[s]")
    return _spread(pd.array(days), codes)


def _months(texts: list[str], codes: np.ndarray) -> pd.Series:
    return _spread(pd.PeriodIndex([t or None for t in texts], freq="M").array, codes)


def _text(texts: list[str], codes: np.ndarray) -> pd.Series:
    return _spread(pd.array([t or None for t in texts], dtype="string"), codes)


def _vocabulary(texts: list[str], codes: np.ndarray) -> pd.Series:
    """Categories of the values rows hold (a blank is missing, an unused category gone)."""
    distinct = np.array(texts, dtype=object)
    used = distinct[np.unique(codes[codes >= 0])]
    kinds = pd.CategoricalDtype(sorted({t for t in used if t}))
    position = {t: i for i, t in enumerate(kinds.categories)}
    recoded = np.array([position.get(t, -1) for t in distinct] + [-1], dtype=np.int64)
    rows = recoded[np.where(codes < 0, len(distinct), codes)]
    return pd.Series(pd.Categorical.from_codes(rows, dtype=kinds))

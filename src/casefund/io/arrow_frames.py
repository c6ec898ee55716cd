"""DataFrames held as Arrow tables, given back dtype for dtype (a partition's kept file),
and the exact column descriptions that make that possible (also what a live session's
frozen frames, :mod:`casefund.io.frozen`, are thawed by).

Arrow keeps the values; a JSON description gives back what Arrow does not carry exactly
(Python- or Arrow-backed strings, a categorical's categories even when no row uses them),
so a frame comes back with the dtypes it went in with.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

Columns = dict[str, dict[str, Any]]


class FrameSpecError(ValueError):
    """A column description this module did not write."""


def describe(frame: pd.DataFrame) -> Columns:
    """Each column's exact dtype as JSON-ready values (the kinds casefund's tables hold)."""
    return {str(c): describe_column(frame[c]) for c in frame.columns}


def table_of(frame: pd.DataFrame) -> pa.Table:
    """The frame's values as an Arrow table (no index)."""
    return pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)


def frame_of(table: pa.Table, columns: Columns) -> pd.DataFrame:
    """The frame ``table_of`` was given, each column converted straight to its described
    dtype (text and categories from Arrow's buffers; other columns through Arrow's pandas
    conversion)."""
    plain = [name for name, spec in columns.items() if spec["kind"] == "plain"]
    converted = table.select(plain).to_pandas() if plain else pd.DataFrame(index=range(len(table)))
    out: dict[str, Any] = {}
    for name, spec in columns.items():
        if spec["kind"] == "plain":
            dtype = column_dtype(spec)
            column = converted[name]
            out[name] = column if column.dtype == dtype else column.astype(dtype)
        elif spec["kind"] == "string":
            values = table.column(name).to_numpy(zero_copy_only=False)
            out[name] = pd.array(values, dtype=column_dtype(spec))
        elif spec["kind"] == "category":
            out[name] = _categorical(table.column(name), spec)
        else:
            raise FrameSpecError(f"unknown kind of column {spec['kind']!r}")
    return pd.DataFrame(out, index=pd.RangeIndex(len(table)))


def describe_column(series: pd.Series) -> dict[str, Any]:
    """One column's exact dtype as JSON-ready values."""
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = dtype.categories
        return {
            "kind": "category",
            "ordered": bool(dtype.ordered),
            "categories": describe_dtype(categories.dtype, categories),
            "values": [_plain(v) for v in categories.tolist()],
        }
    return describe_dtype(dtype, None)


def describe_dtype(dtype: Any, values: pd.Index | None) -> dict[str, Any]:
    """A dtype as JSON; ``values``: categories, which must be text if held as objects."""
    if isinstance(dtype, pd.StringDtype):
        return {"kind": "string", "storage": dtype.storage, "na": _na_name(dtype.na_value)}
    if isinstance(dtype, pd.CategoricalDtype):
        raise TypeError("categories of categories cannot be kept")
    name = str(dtype)
    if name == "object" and values is not None and not all(isinstance(v, str) for v in values):
        raise TypeError(f"an object column of non-text values cannot be kept ({name})")
    return {"kind": "plain", "dtype": name}


def _na_name(value: object) -> str:
    return "NA" if value is pd.NA else "nan"


def _plain(value: object) -> object:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"a category of type {type(value).__name__} cannot be kept")


def column_dtype(spec: dict[str, Any]) -> Any:
    if spec["kind"] == "string":
        return pd.StringDtype(spec["storage"], na_value=pd.NA if spec["na"] == "NA" else np.nan)
    if spec["kind"] == "plain":
        return pd.api.types.pandas_dtype(spec["dtype"])
    raise FrameSpecError(f"unknown kind of column {spec['kind']!r}")


def category_dtype(spec: dict[str, Any]) -> pd.CategoricalDtype:
    """A categorical column's dtype from its description: its categories, in order, with
    their own dtype, even those no row uses."""
    categories = pd.Index(spec["values"], dtype=column_dtype(spec["categories"]))
    return pd.CategoricalDtype(categories, ordered=spec["ordered"])


def _categorical(column: Any, spec: dict[str, Any]) -> pd.Categorical:
    dtype = category_dtype(spec)
    array = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if pa.types.is_dictionary(array.type) and array.dictionary.to_pylist() == spec["values"]:
        # Arrow kept the categories as its dictionary, in order: the codes carry over.
        codes = array.indices.fill_null(-1).to_numpy(zero_copy_only=False)
        return pd.Categorical.from_codes(codes.astype(np.int64), dtype=dtype)
    return pd.Categorical(np.asarray(array.to_pylist(), dtype=object), dtype=dtype)

"""DataFrames held between calls as NumPy arrays and text, which the garbage collector
never walks.

A live session keeps every posted participant's activities and lines until the next post
changes them. As pandas objects each frame is a few hundred objects the cyclic garbage
collector tracks (blocks, indexes, dtypes, copy-on-write weak references), and every full
collection walks them all: with 1,373 participants posted, one collection took 557 ms, far
longer than the post it interrupted, and it grows with the session. NumPy arrays (of any
dtype) and strings are not tracked, so a frozen frame is one tracked object, whatever it
holds. Thawing builds the same frame again, dtype for dtype (categories included).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
from pandas.core.arrays.masked import BaseMaskedArray

from casefund.io.arrow_frames import column_dtype, describe_dtype

# A column's values: NumPy arrays only (data and mask for nullable numbers and flags).
Leaf = tuple[np.ndarray, ...]


class Frozen:
    """A frame as a JSON description of its columns and a tuple of NumPy arrays."""

    __slots__ = ("_columns", "_leaves", "_rows")

    def __init__(self, frame: pd.DataFrame) -> None:
        specs = {}
        leaves = []
        for name, column in frame.items():
            spec, leaf = _frozen(column)
            specs[str(name)] = spec
            leaves.append(leaf)
        self._columns = json.dumps(specs, separators=(",", ":"))
        self._leaves = tuple(leaves)
        self._rows = len(frame)

    def __len__(self) -> int:
        return self._rows

    def thaw(self) -> pd.DataFrame:
        """The frame as it was frozen (a new DataFrame each time, with a RangeIndex)."""
        specs: dict[str, dict[str, Any]] = json.loads(self._columns)
        out = {
            name: _column(leaf, spec)
            for (name, spec), leaf in zip(specs.items(), self._leaves, strict=True)
        }
        return pd.DataFrame(out, index=pd.RangeIndex(self._rows))


def _frozen(column: pd.Series) -> tuple[dict[str, Any], Leaf]:
    """The column's description (with how its values are stored) and its values as NumPy
    arrays. A categorical keeps its categories as an array beside its codes, not in the
    description: a lines frame has fifteen of them, and writing each category into JSON
    cost more than the rest of freezing."""
    array = column.array
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = dtype.categories
        spec = {
            "kind": "category",
            "ordered": bool(dtype.ordered),
            "categories": describe_dtype(categories.dtype, categories),
            "store": "codes",
        }
        return spec, (np.asarray(array.codes).copy(), categories.to_numpy(copy=True))
    spec = describe_dtype(dtype, None)
    if spec["kind"] == "string":
        spec["store"] = "text"
        return spec, (column.to_numpy(dtype=object, na_value=None),)  # type: ignore[call-overload]
    if isinstance(array, BaseMaskedArray):
        numpy_dtype = array.dtype.numpy_dtype  # type: ignore[attr-defined]
        data = array.to_numpy(dtype=numpy_dtype, na_value=numpy_dtype.type(0))
        spec["store"] = "masked"
        return spec, (np.asarray(data), np.asarray(array.isna(), dtype=bool))
    values = column.to_numpy()
    spec["store"] = "objects" if values.dtype == object else "numpy"
    return spec, (values.copy(),)


def _column(leaf: Leaf, spec: dict[str, Any]) -> Any:
    store = spec["store"]
    if store == "codes":
        categories = pd.Index(leaf[1], dtype=column_dtype(spec["categories"]), copy=True)
        kinds = pd.CategoricalDtype(categories, ordered=spec["ordered"])
        return pd.Categorical.from_codes(leaf[0].copy(), dtype=kinds, validate=False)
    if store == "text":
        return pd.array(leaf[0], dtype=column_dtype(spec))
    dtype = column_dtype(spec)
    if store == "masked":
        return dtype.construct_array_type()(leaf[0].copy(), leaf[1].copy())
    if store == "objects":  # a Series, or pandas would read text as its str dtype
        return pd.Series(leaf[0].copy(), dtype=dtype, copy=False)
    return leaf[0].copy()

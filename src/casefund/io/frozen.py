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

    @classmethod
    def of_parts(cls, columns: str, leaves: tuple[Leaf, ...], rows: int) -> Frozen:
        """A frozen frame from a column description (as a frozen frame of the same dtypes
        has it) and its leaves: for a record typed straight into arrays."""
        out = cls.__new__(cls)
        out._columns = columns
        out._leaves = leaves
        out._rows = rows
        return out

    @property
    def columns(self) -> str:
        """The column description (JSON): equal for frames of the same columns and dtypes."""
        return self._columns

    @property
    def leaves(self) -> tuple[Leaf, ...]:
        """Each column's arrays (shared: read only)."""
        return self._leaves

    def __len__(self) -> int:
        return self._rows

    def appended(self, other: Frozen) -> Frozen:
        """This frame with ``other``'s rows after its own, joined array by array: what a
        live post does to a participant's activities, where thawing both, concatenating
        and freezing again cost three times as much. The values are those of
        ``pd.concat``; a code column whose categories differ keeps being a code column,
        over the sorted union of both (concat would fall back to text). Frames whose
        columns are not stored alike are concatenated by pandas."""
        if self._rows == 0:
            return other
        if other._rows == 0:
            return self
        mine: dict[str, dict[str, Any]] = json.loads(self._columns)
        theirs: dict[str, dict[str, Any]] = json.loads(other._columns)
        if list(mine) != list(theirs):
            return Frozen(pd.concat([self.thaw(), other.thaw()], ignore_index=True))
        leaves = []
        specs = {}
        for (name, spec), leaf, their_leaf in zip(
            mine.items(), self._leaves, other._leaves, strict=True
        ):
            joined = _joined(spec, theirs[name], leaf, their_leaf)
            if joined is None:
                return Frozen(pd.concat([self.thaw(), other.thaw()], ignore_index=True))
            specs[name], leaf_joined = joined
            leaves.append(leaf_joined)
        columns = self._columns if specs == mine else json.dumps(specs, separators=(",", ":"))
        return Frozen.of_parts(columns, tuple(leaves), self._rows + other._rows)

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


def _joined(
    spec: dict[str, Any], other: dict[str, Any], leaf: Leaf, other_leaf: Leaf
) -> tuple[dict[str, Any], Leaf] | None:
    """Two columns end to end (their description and leaves), or None where they are not
    stored alike. A code column with no categories on one side (a blank code: its
    categories have no type of their own) takes the other side's."""
    if spec["store"] != "codes":
        if spec != other:
            return None
        return spec, tuple(np.concatenate(pair) for pair in zip(leaf, other_leaf, strict=True))
    if other["store"] != "codes" or spec["ordered"] or other["ordered"]:
        return None  # an order of categories is the caller's; pandas decides
    (codes, categories), (other_codes, other_categories) = leaf, other_leaf
    if not len(other_categories):  # every code of theirs is blank (−1)
        return spec, (np.concatenate([codes, other_codes]), categories)
    if not len(categories):
        return other, (np.concatenate([codes, other_codes]), other_categories)
    if spec["categories"] != other["categories"]:
        return None
    if np.array_equal(categories, other_categories):
        return spec, (np.concatenate([codes, other_codes]), categories)
    try:
        union = np.array(sorted({*categories.tolist(), *other_categories.tolist()}), dtype=object)
    except TypeError:  # categories that do not sort together
        return None
    union = union.astype(categories.dtype) if categories.dtype != object else union

    def recoded(values: np.ndarray, own: np.ndarray) -> np.ndarray:
        mapping = np.searchsorted(union, own).astype(np.int64)
        taken = mapping[np.maximum(values, 0)] if len(own) else np.zeros(len(values), np.int64)
        return np.where(values < 0, -1, taken)

    joined = np.concatenate([recoded(codes, categories), recoded(other_codes, other_categories)])
    return spec, (joined, union)


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

"""Building output columns cheaply.

Output columns repeat a few values a million times (statuses, contract ids, reasons).
Categoricals built from integer codes with object categories avoid both a million Python
strings and pandas' conversion of object arrays to Arrow strings.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def categorical(values: Any) -> pd.Categorical:
    """A categorical of ``values`` with sorted object categories (codes follow sort order)."""
    array = np.asarray(values, dtype=object)
    codes, uniques = pd.factorize(array, sort=True)
    result: pd.Categorical = pd.Categorical.from_codes(
        codes, categories=pd.Index(np.asarray(uniques, dtype=object), dtype=object)
    )
    return result


def categorical_of(choices: Any, picks: np.ndarray) -> pd.Categorical:
    """``categorical(choices[picks])`` without touching a million Python strings: the few
    choices (one per contract) are factorized, then picked by integer code; only the
    choices picked are categories. Two passes over ``picks``: a count and a lookup."""
    codes, uniques = _factorized(choices)
    picked = np.bincount(picks, minlength=len(codes)) > 0
    used = np.zeros(len(uniques), dtype=bool)
    used[codes[picked & (codes >= 0)]] = True
    # A missing choice (code −1) takes the −1 appended: no category, even when no choice
    # has one.
    renumbered = np.append(np.cumsum(used) - 1, -1)
    table = renumbered[np.where(codes >= 0, codes, len(uniques))].astype(np.int32)
    result: pd.Categorical = pd.Categorical.from_codes(
        table[picks],
        categories=pd.Index(np.asarray(uniques, dtype=object)[used], dtype=object),
        validate=False,
    )
    return result


def distinct_texts(values: np.ndarray) -> list[str]:
    """The distinct texts of a column of a few choices (a rounding policy, a decision per
    row), sorted: a live post's few rows through a Python set, a million by hashing —
    never a sort of every row's text."""
    distinct = set(values.tolist()) if len(values) < 1024 else pd.unique(values)
    return sorted(str(value) for value in distinct)


def _factorized(choices: Any) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(choices, sort=True)``; a few choices that are all text are sorted in
    Python, without pandas' fixed cost (most of a live post's categorical columns)."""
    values = list(choices)
    if len(values) <= 512 and all(type(v) is str for v in values):
        distinct = sorted(set(values))
        position = {v: i for i, v in enumerate(distinct)}
        return (
            np.array([position[v] for v in values], dtype=np.int64),
            np.array(distinct, dtype=object),
        )
    codes, uniques = pd.factorize(np.asarray(choices, dtype=object), sort=True)
    return np.asarray(codes, dtype=np.int64), np.asarray(uniques, dtype=object)


def text_rank(column: pd.Series) -> np.ndarray:
    """Integer keys that sort like ``column.astype(str)`` (missing values read 'nan'),
    computed from categories or distinct values rather than from every row's text."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        texts = np.append(column.cat.categories.to_numpy(dtype=object).astype(str), "nan")
        codes = column.cat.codes.to_numpy()
        codes = np.where(codes < 0, len(texts) - 1, codes)
    else:
        codes, uniques = pd.factorize(column, use_na_sentinel=False)
        texts = np.asarray(pd.Index(uniques).astype(str), dtype=str)
    _, dense = np.unique(texts, return_inverse=True)  # equal texts share a rank
    rank: np.ndarray = np.asarray(dense).reshape(-1)[np.asarray(codes)]
    return rank


def text_order(frame: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """A stable order of ``frame`` by the text of ``keys`` (as sorting on ``astype(str)``)."""
    return np.lexsort(tuple(text_rank(frame[k]) for k in reversed(keys)))


def concat_frames(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate frames of the same columns (partitions' results, a day's stored pieces),
    each categorical column through one union of categories (never through Python strings).
    Columns are moved out of ``frames`` as they are joined, so the parts and the whole never
    both exist."""
    from pandas.api.types import union_categoricals

    frames = [f for f in frames if len(f)] or frames[:1]  # an empty part has no dtypes
    columns: dict[str, Any] = {}
    for name in list(frames[0].columns):
        parts = [f.pop(name) for f in frames]
        if all(isinstance(p.dtype, pd.CategoricalDtype) for p in parts):
            try:
                columns[name] = union_categoricals([p.array for p in parts])
                continue
            except TypeError:  # categories of different dtypes: unify them as objects
                parts = [p.astype(object) for p in parts]
                columns[name] = pd.Categorical(pd.concat(parts, ignore_index=True))
                continue
        columns[name] = pd.concat(parts, ignore_index=True)
    return pd.DataFrame(columns)


def coded(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """A text column as integer codes and its distinct values (blank for missing): lines
    hold their text as categoricals, so nothing is read a row at a time."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = np.asarray(column.cat.codes, dtype=np.int64)
        values = column.cat.categories.astype(object).to_numpy()
    else:
        factorized, uniques = pd.factorize(column.astype(object), sort=True)
        codes, values = np.asarray(factorized, dtype=np.int64), np.asarray(uniques, dtype=object)
    blank = len(values)
    return np.where(codes < 0, blank, codes), np.array([*values, ""], dtype=object)

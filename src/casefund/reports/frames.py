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
        codes, categories=pd.Index(np.asarray(uniques, dtype=object), dtype=object))
    return result


def categorical_of(choices: Any, picks: np.ndarray) -> pd.Categorical:
    """``categorical(choices[picks])`` without touching a million Python strings: the few
    choices (one per contract) are factorized, then picked by integer code."""
    codes, uniques = pd.factorize(np.asarray(choices, dtype=object), sort=True)
    result: pd.Categorical = pd.Categorical.from_codes(
        np.asarray(codes)[picks], categories=pd.Index(np.asarray(uniques, dtype=object),
                                                      dtype=object))
    return result.remove_unused_categories()

"""Reasons as bits, so that every row's set of rule ids is carried by a few integers.

Building reason strings row by row would be a Python loop over activities; instead each rule
or outcome id owns one bit, rows OR masks into a small uint64 matrix, and only the distinct
bit patterns are ever turned into text.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


class ReasonBits:
    def __init__(self, ids: list[str], rows: int) -> None:
        self.ids = sorted(set(ids))
        self.position = {rule_id: i for i, rule_id in enumerate(self.ids)}
        self.words = max(1, -(-len(self.ids) // 64))
        self.rows = rows

    def empty(self, rows: int | None = None) -> np.ndarray:
        """A (rows, words) matrix; columns are written with masked in-place ORs."""
        return np.zeros((self.rows if rows is None else rows, self.words), dtype=np.uint64)

    def set(self, matrix: np.ndarray, rule_id: str, mask: np.ndarray) -> None:
        word, bit = divmod(self.position[rule_id], 64)
        column = matrix[:, word]
        # A masked ufunc writes in place without building an index from the mask.
        np.bitwise_or(column, np.uint64(1) << np.uint64(bit), out=column, where=mask)

    def decode(self, matrix: np.ndarray) -> pd.Categorical:
        """';'-joined rule ids per row, in id order (deterministic), as a categorical."""
        if len(matrix) == 0:
            return pd.Categorical([])
        # One opaque value per row makes np.unique a 1-D sort instead of a row-wise one.
        rows = np.ascontiguousarray(matrix).view(np.dtype((np.void, 8 * self.words))).ravel()
        _, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
        patterns = np.ascontiguousarray(matrix[first])
        flags = np.unpackbits(patterns.view(np.uint8), axis=1, bitorder="little")
        flags = flags[:, : len(self.ids)].astype(bool)
        names = np.asarray(self.ids, dtype=object)
        texts = np.array([";".join(names[row]) for row in flags], dtype=object)
        codes = np.asarray(inverse).reshape(-1)
        # Distinct patterns can never decode to the same text, so categories are unique.
        return pd.Categorical.from_codes(codes, categories=pd.Index(texts, dtype=object))

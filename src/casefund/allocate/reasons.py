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
        return np.zeros((self.rows if rows is None else rows, self.words), dtype=np.uint64)

    def set(self, matrix: np.ndarray, rule_id: str, mask: np.ndarray) -> None:
        i = self.position[rule_id]
        word, bit = divmod(i, 64)
        matrix[mask, word] |= np.uint64(1) << np.uint64(bit)

    def decode(self, matrix: np.ndarray) -> pd.Categorical:
        """';'-joined rule ids per row, in id order (deterministic), as a categorical."""
        if len(matrix) == 0:
            return pd.Categorical([])
        # One opaque value per row makes np.unique a 1-D sort instead of a row-wise one.
        rows = np.ascontiguousarray(matrix).view(np.dtype((np.void, 8 * self.words))).ravel()
        _, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
        patterns = matrix[first]
        texts = np.empty(len(patterns), dtype=object)
        for p, pattern in enumerate(patterns):  # one pass per distinct pattern, not per row
            ids = [
                self.ids[w * 64 + b]
                for w in range(self.words)
                for b in range(64)
                if int(pattern[w]) >> b & 1 and w * 64 + b < len(self.ids)
            ]
            texts[p] = ";".join(ids)
        codes = np.asarray(inverse).reshape(-1)
        # Distinct patterns can never decode to the same text, so categories are unique.
        return pd.Categorical.from_codes(codes, categories=pd.Index(texts, dtype=object))

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
        first, inverse = distinct_rows(matrix)
        patterns = np.ascontiguousarray(matrix[first])
        flags = np.unpackbits(patterns.view(np.uint8), axis=1, bitorder="little")
        flags = flags[:, : len(self.ids)].astype(bool)
        names = np.asarray(self.ids, dtype=object)
        texts = np.array([";".join(names[row]) for row in flags], dtype=object)
        codes = np.asarray(inverse).reshape(-1)
        # Distinct patterns can never decode to the same text, so categories are unique.
        return pd.Categorical.from_codes(codes, categories=pd.Index(texts, dtype=object))


_FEW_ROWS = 4096
SPAN_LIMIT = 2**62  # combined codes stay below this (an int64 never overflows)


def distinct_rows(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(rows, return_index=True, return_inverse=True)`` over the rows of a
    ``uint64`` matrix, without sorting them: rows take few distinct patterns, so each word
    is hashed into codes (``pd.factorize``, linear), the words' codes are combined into one,
    and only the few distinct patterns are sorted (a sort of a million opaque rows was the
    costliest step of decoding). Returns each distinct row's first occurrence, in the
    patterns' byte order, and every row's place in that order."""
    rows, words = matrix.shape
    if rows < _FEW_ROWS:  # a live post's few rows: one small sort costs less than hashing
        opaque = np.ascontiguousarray(matrix).view(np.dtype((np.void, 8 * words))).ravel()
        _, first, inverse = np.unique(opaque, return_index=True, return_inverse=True)
        return first, np.asarray(inverse).reshape(-1)
    combined = np.zeros(rows, dtype=np.int64)
    span = 1
    for word in range(words):
        codes, uniques = pd.factorize(matrix[:, word], sort=False)
        if span * len(uniques) >= SPAN_LIMIT:  # too many combinations for one integer: re-code
            combined, found = pd.factorize(combined, sort=False)
            span = len(found)
        combined = combined * len(uniques) + codes
        span *= len(uniques)
    seen, _ = pd.factorize(combined, sort=False)  # in order of first appearance
    earlier = np.maximum.accumulate(np.concatenate(([-1], seen[:-1])))
    first = np.flatnonzero(seen > earlier)
    # The few distinct patterns in the byte order np.unique would give them.
    patterns = np.ascontiguousarray(matrix[first]).view(np.dtype((np.void, 8 * words))).ravel()
    _, sorted_first, place = np.unique(patterns, return_index=True, return_inverse=True)
    return first[sorted_first], np.asarray(place).reshape(-1)[seen]

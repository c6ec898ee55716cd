"""Cell suppression that no published total can undo.

A de-identified table hides every cell describing fewer participants than the minimum cell
size. That alone is not enough where totals are published too: a hidden month is the year's
total minus the visible months. So the table is published with its margins (each line's
total), and further cells are hidden until no hidden cell's value is *determined* by the
published ones: for the linear system "each line's cells add up to its total", a hidden
cell is recoverable exactly when its value is the same in every solution, i.e. when the null
space of the system over the hidden cells is zero at that cell. That is checked with an SVD,
one small system per contract (cells of different contracts share no line), and each
recoverable cell is protected by hiding the smallest visible cell of one of its lines, until
none is left.

Only additive values (activities, minutes, units, dollars) can be subtracted out; counts of
distinct participants are not additive, but a cell hides all its values together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

ALL = "all"


@dataclass(frozen=True)
class Lines:
    """Which cells add up to which total: per line, the cells' row numbers and the total's."""

    members: list[np.ndarray]
    totals: np.ndarray


def margins(
    lines: pd.DataFrame,
    keys: Sequence[str],
    across: Sequence[str],
    values: dict[str, tuple[str, str]],
) -> pd.DataFrame:
    """The cells of ``lines`` by ``keys``, plus each total over every key in ``across`` (and
    over all of them together); a total's key reads 'all'."""
    frames = []
    for collapsed in _subsets(list(across)):
        by = [k for k in keys if k not in collapsed]
        table = lines.groupby(by, dropna=False, sort=True).agg(**values).reset_index()
        for key in collapsed:
            table[key] = ALL
        frames.append(table[[*keys, *values]])
    return pd.concat(frames, ignore_index=True)


def _subsets(items: list[str]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = [()]
    for item in items:
        out += [(*s, item) for s in out]
    return out


def lines_of(table: pd.DataFrame, keys: Sequence[str], across: Sequence[str]) -> Lines:
    """Each published line: for every total (a row with 'all' in some keys of ``across``),
    the rows one more key finer that add up to it."""
    text = table[list(keys)].astype(str)
    index = {tuple(row): i for i, row in enumerate(text.itertuples(index=False, name=None))}
    members, totals = [], []
    for row in text.itertuples(index=False, name=None):
        for position, key in enumerate(keys):
            if key not in across or row[position] != ALL:
                continue
            # The total over `key`: the rows equal to this one except in `key`, not 'all'.
            same = np.ones(len(table), dtype=bool)
            for other, name in enumerate(keys):
                if other != position:
                    same &= (text[name] == row[other]).to_numpy()
            same &= (text[key] != ALL).to_numpy()
            parts = np.flatnonzero(same)
            if len(parts):
                members.append(parts)
                totals.append(index[row])
    return Lines(members, np.asarray(totals, dtype=np.int64))


def recoverable(lines: Lines, hidden: np.ndarray) -> np.ndarray:
    """Hidden cells whose value the published cells determine exactly."""
    found = np.zeros(len(hidden), dtype=bool)
    cells = np.flatnonzero(hidden)
    if len(cells) == 0 or not lines.members:
        return found
    position = {cell: j for j, cell in enumerate(cells)}
    rows = []
    for parts, total in zip(lines.members, lines.totals, strict=True):
        row = np.zeros(len(cells))
        for cell in parts:
            if cell in position:
                row[position[cell]] += 1.0
        if total in position:
            row[position[total]] -= 1.0
        if row.any():
            rows.append(row)
    if not rows:
        return found
    matrix = np.vstack(rows)
    _, singular, vt = np.linalg.svd(matrix)
    rank = int((singular > 1e-9).sum())
    null = vt[rank:].T  # one column per free direction of the hidden cells
    determined = np.abs(null).max(axis=1) < 1e-9 if null.size else np.ones(len(cells), bool)
    found[cells[determined]] = True
    return found


def protect(
    table: pd.DataFrame,
    count: str,
    minimum: int,
    keys: Sequence[str],
    across: Sequence[str],
    group: str,
) -> np.ndarray:
    """Which cells to hide: those under ``minimum``, and as many more as it takes that none
    of them can be recovered from what is shown (within each ``group``)."""
    hidden = (table[count] < minimum).to_numpy().copy()
    for _, block in table.groupby(table[group].astype(str), sort=True):
        rows = block.index.to_numpy()
        local = block.reset_index(drop=True)
        hide = hidden[rows].copy()
        if hide.any():
            hide = _close(local, hide, count, keys, across)
        hidden[rows] = hide
    return hidden


def _close(
    block: pd.DataFrame, hidden: np.ndarray, count: str, keys: Sequence[str], across: Sequence[str]
) -> np.ndarray:
    lines = lines_of(block, keys, across)
    order = np.lexsort(
        [block[k].astype(str).to_numpy() for k in reversed(keys)] + [block[count].to_numpy()]
    )
    rank = np.empty(len(block), dtype=np.int64)
    rank[order] = np.arange(len(block))  # smallest count first, then key order
    while True:
        exposed = np.flatnonzero(recoverable(lines, hidden))
        if len(exposed) == 0:
            return hidden
        cell = int(exposed[0])
        choices = [
            np.append(parts, total)
            for parts, total in zip(lines.members, lines.totals, strict=True)
            if cell in parts or cell == total
        ]
        # The line of this cell with the fewest hidden cells; its smallest visible cell.
        choices.sort(key=lambda members: int(hidden[members].sum()))
        visible = [m for m in choices[0] if not hidden[m]] if choices else []
        if not visible:
            visible = [m for members in choices for m in members if not hidden[m]]
        if not visible:  # its own lines are hidden, yet it is implied: widen the hiding
            visible = [int(m) for m in np.flatnonzero(~hidden)]
        hidden[min(visible, key=lambda m: rank[m])] = True

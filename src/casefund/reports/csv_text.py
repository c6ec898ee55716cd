"""CSV text built column by column in Arrow, byte for byte what ``DataFrame.to_csv`` writes.

Writing CSV through pandas formats every cell in Python (``to_csv`` spent 80% of a large
run). Here each column is turned into its cells once, natively: a categorical's categories
are formatted once and taken by code, a float column is formatted once per distinct bit
pattern, integers are cast by Arrow, text is quoted by Arrow's string kernels; the cells
of a block of rows are then joined into lines with one kernel call and written as one
buffer. The output keeps pandas' format (minimal quoting as the ``csv`` module does it,
``True``/``False``, floats as NumPy prints them, missing values empty), so files are the
same bytes as before; a frame with a column of another kind (dates, mixed objects) is
written by pandas, unchanged.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]

# Rows joined per block: bounds the memory of the joined text (about 100 bytes a row).
_BLOCK = 1 << 18
_SPECIAL = ',"\n\r'  # a cell holding one of these is quoted
_NEEDS_QUOTES = "[" + re.escape(_SPECIAL) + "]"
_THREADS = 2  # the block being written and the one being formatted

Cells = Callable[[int, int], pa.Array]
# Large strings throughout: no 2 GB limit per block, and one type for every kernel.
_TEXT = pa.large_string()


def _text(value: str) -> pa.Scalar:
    return pa.scalar(value, type=_TEXT)


class NotArrowWritable(Exception):
    """A column this writer does not format; the frame is written by pandas instead."""


def quoted(value: str) -> str:
    """One text cell as the ``csv`` module writes it with minimal quoting."""
    if any(c in value for c in _SPECIAL):
        return '"' + value.replace('"', '""') + '"'
    return value


def write_frame(frame: pd.DataFrame, target: Path | BinaryIO, header: bool = True) -> None:
    """``frame`` as CSV (no index, ``\n`` line ends), as pandas would write it, into a file
    at a path or an open binary file (``header=False``: its rows only, to append a part)."""
    try:
        columns = [_cells(frame[name]) for name in _column_list(frame)]
    except NotArrowWritable:
        frame.to_csv(target, index=False, lineterminator="\n", header=header)
        return
    if isinstance(target, Path):
        with target.open("wb") as handle:
            _write_cells(frame, columns, handle, header)
    else:
        _write_cells(frame, columns, target, header)


def _write_cells(frame: pd.DataFrame, columns: list[Cells], handle: BinaryIO, header: bool) -> None:
    if header:
        names = ",".join(quoted(str(name)) for name in frame.columns)
        if len(frame.columns) == 1 and names == "":
            names = '""'
        handle.write((names + "\n").encode("utf-8"))
    rows = len(frame)
    blocks = [(start, min(start + _BLOCK, rows)) for start in range(0, rows, _BLOCK)]
    if len(blocks) <= 1:
        for start, stop in blocks:
            handle.write(_block_text(columns, start, stop))
        return
    # Arrow's kernels release the GIL: the next blocks are formatted on a second thread
    # while this one writes, holding at most two blocks' text ahead.
    with ThreadPoolExecutor(max_workers=_THREADS) as pool:
        ahead: deque[Future[memoryview]] = deque()
        for start, stop in blocks:
            ahead.append(pool.submit(_block_text, columns, start, stop))
            if len(ahead) > _THREADS:
                handle.write(ahead.popleft().result())
        while ahead:
            handle.write(ahead.popleft().result())


def _column_list(frame: pd.DataFrame) -> list[Any]:
    if frame.columns.has_duplicates:
        raise NotArrowWritable("duplicate column names")
    return list(frame.columns)


def _block_text(columns: list[Cells], start: int, stop: int) -> memoryview:
    """The CSV lines of rows ``[start, stop)``, as one buffer."""
    cells = [column(start, stop) for column in columns]
    if len(cells) == 1:
        # The csv module writes a lone empty field as "" (an empty line would be no row).
        only = cells[0]
        lines = pc.if_else(pc.equal(only, ""), _text('""'), only)
    else:
        lines = pc.binary_join_element_wise(*cells, _text(","))
    lines = pc.binary_join_element_wise(lines, _text(""), _text("\n"))
    if isinstance(lines, pa.ChunkedArray):
        lines = lines.combine_chunks()
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)
    first, last = int(offsets[lines.offset]), int(offsets[lines.offset + len(lines)])
    data = lines.buffers()[2]
    if data is None or last <= first:
        return memoryview(b"")
    return memoryview(data)[first:last]


def _cells(column: pd.Series) -> Cells:
    """A function giving the cells of rows ``[start, stop)`` of the column as text."""
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _categorical_cells(column)
    if isinstance(dtype, np.dtype) and dtype.kind == "b":
        return _taken(np.asarray(column, dtype=np.int64), ["False", "True"])
    if isinstance(dtype, pd.BooleanDtype):
        values = column.array
        codes = np.where(values.isna(), 2, values.fillna(False).to_numpy(dtype=np.int64))
        return _taken(codes, ["False", "True", ""])
    if dtype.kind in "iu" and isinstance(dtype, np.dtype):
        text = pa.array(column.to_numpy()).cast(_TEXT)
        return lambda start, stop: text.slice(start, stop - start)
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.kind in "iu":
        text = pc.fill_null(pa.array(column.array).cast(_TEXT), _text(""))
        return lambda start, stop: text.slice(start, stop - start)
    if dtype.kind == "f" and isinstance(dtype, np.dtype):
        return _float_cells(column.to_numpy(dtype=np.float64))
    if pd.api.types.is_string_dtype(dtype):
        return _text_cells(column)
    raise NotArrowWritable(str(dtype))


def _taken(codes: np.ndarray, formatted: list[str]) -> Cells:
    dictionary = pa.array(formatted, type=_TEXT)
    indices = pa.array(codes.astype(np.int32, copy=False))
    return lambda start, stop: dictionary.take(indices.slice(start, stop - start))


def _categorical_cells(column: pd.Series) -> Cells:
    categories = column.cat.categories
    formatted = _formatted_values(categories)
    codes = np.asarray(column.cat.codes, dtype=np.int64)
    return _taken(np.where(codes < 0, len(formatted), codes), [*formatted, ""])


def _formatted_values(values: pd.Index) -> list[str]:
    """Each value of an index as pandas would write it."""
    if values.dtype.kind == "f":
        return [quoted(v) for v in _float_text(values.to_numpy(dtype=np.float64))]
    if values.dtype.kind in "iub":
        return [quoted(str(v)) for v in values.tolist()]
    if pd.api.types.is_string_dtype(values.dtype) or values.dtype == object:
        out = []
        for value in values.tolist():
            if not isinstance(value, str):
                raise NotArrowWritable(type(value).__name__)
            out.append(quoted(value))
        return out
    raise NotArrowWritable(str(values.dtype))


def _float_text(values: np.ndarray) -> list[str]:
    text: list[str] = np.where(np.isnan(values), "", values.astype(str)).tolist()
    return text


def _float_cells(values: np.ndarray) -> Cells:
    # One format per distinct bit pattern: -0.0 stays "-0.0", as pandas writes it.
    codes, uniques = pd.factorize(values.view(np.int64))
    formatted = _float_text(np.asarray(uniques, dtype=np.int64).view(np.float64))
    return _taken(codes, formatted)


def _text_cells(column: pd.Series) -> Cells:
    try:
        array = pa.array(column, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise NotArrowWritable(str(exc)) from None
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if not (
        pa.types.is_null(array.type)
        or pa.types.is_string(array.type)
        or pa.types.is_large_string(array.type)
    ):
        raise NotArrowWritable(str(array.type))
    array = array.cast(_TEXT)

    def cells(start: int, stop: int) -> pa.Array:
        part = pc.fill_null(array.slice(start, stop - start), _text(""))
        needs = pc.match_substring_regex(part, _NEEDS_QUOTES)
        if not pc.any(needs).as_py():
            return part
        escaped = pc.replace_substring(part, '"', '""')
        wrapped = pc.binary_join_element_wise(_text('"'), escaped, _text('"'), _text(""))
        return pc.if_else(needs, wrapped, part)

    return cells

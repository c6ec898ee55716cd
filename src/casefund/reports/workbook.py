"""Workbooks finance staff can use as they open them, the same bytes every time.

Written with XlsxWriter: every column formatted by its declared kind (currency, percent,
whole numbers, dates as dates — :mod:`casefund.reports.columns`, never guessed from a
header), a frozen and filterable header row, widths fitted to the values. Text is written
as text only (``strings_to_formulas`` off) after the OWASP quoting in
:func:`casefund.reports.files.neutralize`, so no cell of user text is ever a formula.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from casefund.errors import InputError
from casefund.reports.columns import EXCEL_FORMATS, Kind

# A worksheet's rows, less the header (Excel's limit is 1,048,576).
MAX_ROWS = 1_048_575
_WIDEST = 60
_HEADER = {
    "bold": True,
    "font_color": "#FFFFFF",
    "bg_color": "#1B6CA8",
    "text_wrap": True,
    "valign": "top",
}
_FIRST_EXACT_DAY = pd.Timestamp("1900-03-01")
_CREATED = dt.datetime(2000, 1, 1)  # fixed, so the same run writes the same bytes
# Sheet title → column → kind; "*" is the kind of any numeric column not named.
SheetKinds = Mapping[str, Mapping[str, Kind]]
# Adds charts to a finished workbook: (workbook, {sheet title: (worksheet, frame)}).
ChartMaker = Callable[[Any, dict[str, tuple[Any, pd.DataFrame]]], None]


def workbook_bytes(
    sheets: Mapping[str, pd.DataFrame],
    kinds: SheetKinds | None = None,
    charts: ChartMaker | None = None,
) -> bytes:
    """The workbook of ``sheets`` (already neutralized), one sheet per frame."""
    try:
        import xlsxwriter  # type: ignore[import-untyped,unused-ignore]
    except ImportError as exc:
        raise InputError(
            "writing XLSX needs the 'xlsx' extra: pip install 'casefund[xlsx]'"
        ) from exc
    for name, frame in sheets.items():
        if len(frame) > MAX_ROWS:
            raise InputError(
                f"{name}: {len(frame):,} rows, more than a worksheet holds "
                f"({MAX_ROWS:,}); write this output as CSV or Parquet (--format parquet) "
                "instead of a workbook"
            )
    buffer = io.BytesIO()
    options = {
        "in_memory": True,
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
    }
    book = xlsxwriter.Workbook(buffer, options)
    book.set_properties({"created": _CREATED})
    header = book.add_format(_HEADER)
    formats = {kind: book.add_format({"num_format": code}) for kind, code in EXCEL_FORMATS.items()}
    written: dict[str, tuple[Any, pd.DataFrame]] = {}
    for title, frame in sheets.items():
        sheet = book.add_worksheet(title)
        declared = (kinds or {}).get(title, {})
        for position, name in enumerate(frame.columns):
            kind = _kind(frame[name], declared.get(str(name)), declared.get("*"))
            _write_column(sheet, position, str(name), frame[name], kind, header, formats)
        sheet.freeze_panes(1, 0)
        if len(frame.columns):
            sheet.autofilter(0, 0, max(len(frame), 1), len(frame.columns) - 1)
        written[title] = (sheet, frame)
    if charts is not None:
        charts(book, written)
    book.close()
    return buffer.getvalue()


def _kind(column: pd.Series, named: Kind | None, default: Kind | None) -> Kind | None:
    if named is not None:
        return named
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        return Kind.DATE
    numeric = pd.api.types.is_numeric_dtype(column.dtype)
    if numeric and not pd.api.types.is_bool_dtype(column.dtype):
        return default
    return None


def _write_column(
    sheet: Any,
    position: int,
    name: str,
    column: pd.Series,
    kind: Kind | None,
    header: Any,
    formats: dict[Kind, Any],
) -> None:
    sheet.write_string(0, position, name, header)
    fmt = formats.get(kind) if kind is not None else None
    values, texts = _cells(column, kind)
    for row, value in enumerate(values, start=1):
        if value is None:
            continue
        if isinstance(value, str):
            sheet.write_string(row, position, value)
        elif isinstance(value, bool):
            sheet.write_boolean(row, position, value)
        elif isinstance(value, dt.datetime):
            sheet.write_datetime(row, position, value, fmt)
        else:
            sheet.write_number(row, position, value, fmt)
    width = max([len(name), *(len(t) for t in texts)]) + 2
    sheet.set_column(position, position, min(_WIDEST, width), fmt)


def _cells(column: pd.Series, kind: Kind | None) -> tuple[list[Any], list[str]]:
    """Each cell as a Python value for XlsxWriter (None: blank), and the distinct texts
    shown, for the column's width."""
    if kind in (Kind.DATE, Kind.MONTH):
        stamps = pd.to_datetime(column.astype("string"), format="ISO8601", errors="coerce")
        # Excel's day numbers are wrong before 1900-03-01 (its 1900 leap-year bug): such
        # a day (the rules' "no start" 1900-01-01) stays text.
        parsed = (stamps.notna() & (stamps >= _FIRST_EXACT_DAY)).to_numpy(dtype=bool)
        text = column.astype("string")
        values: list[Any] = [
            s.to_pydatetime() if ok else (None if pd.isna(t) or t == "" else str(t))
            for s, t, ok in zip(stamps, text, parsed, strict=True)
        ]
        return values, ["yyyy-mm-dd"]
    if isinstance(column.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(
        column.dtype
    ):
        text = column.astype(object).where(column.notna(), None)
        values = [None if v is None or v == "" else (v if isinstance(v, (str, bool)) else str(v))
                  for v in text.tolist()]  # fmt: skip
        distinct = pd.unique(np.asarray([v for v in values if isinstance(v, str)], dtype=object))
        return values, [str(v) for v in distinct[:10_000]]
    numbers = column.astype(object).where(column.notna(), None).tolist()
    values = [None if v is None else (bool(v) if isinstance(v, (bool, np.bool_)) else float(v))
              for v in numbers]  # fmt: skip
    shown = column.dropna()
    texts = [f"{v:,.2f}" for v in (shown.min(), shown.max())] if len(shown) and kind else []
    if len(shown) and not kind:
        texts = [str(v) for v in (shown.min(), shown.max())]
    return values, texts


def chart_series(sheet: str, column: int, rows: int, categories: int = 0) -> dict[str, Any]:
    """A native chart's series from a sheet's column (its header row names it), categories
    from another column of the same rows."""
    return {
        "name": [sheet, 0, column],
        "categories": [sheet, 1, categories, rows, categories],
        "values": [sheet, 1, column, rows, column],
    }


def titled(
    chart: Any,
    title: str,
    category: str,
    values: dict[str, Any],
    *,
    legend: bool = True,
    horizontal: bool = False,
    value_name: str = "Dollars",
    categories_top_down: bool = False,
) -> None:
    """Title, axis names and formats of a native chart (a bar chart's value axis is its x
    axis in Excel); ``categories_top_down`` lists a bar chart's categories in table order."""
    chart.set_title({"name": title})
    category_axis: dict[str, Any] = {"name": category}
    if categories_top_down:
        category_axis["reverse"] = True
    value_axis = {"name": value_name, **values}
    chart.set_x_axis(value_axis if horizontal else category_axis)
    chart.set_y_axis(category_axis if horizontal else value_axis)
    chart.set_legend({"position": "bottom"} if legend else {"none": True})

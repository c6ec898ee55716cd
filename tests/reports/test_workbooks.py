"""Workbooks as finance staff open them: declared number formats, dates as dates, a frozen
and filterable header, text never a formula (read back with openpyxl)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from typer.testing import CliRunner

from casefund.cli import app
from casefund.errors import InputError
from casefund.reports.columns import EXCEL_FORMATS, KINDS, Kind
from casefund.reports.files import write_workbook
from casefund.reports.workbook import MAX_ROWS, workbook_bytes


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("books")
    runner = CliRunner()
    result = runner.invoke(
        app, ["demo", "--participants", "40", "--out", str(root / "demo"), "--xlsx"]
    )
    assert result.exit_code == 0, result.output
    mix = root / "mix.xlsx"
    result = runner.invoke(
        app, ["report", "funding-mix", "--data", str(root / "demo" / "input"), "--out", str(mix)]
    )
    assert result.exit_code == 0, result.output
    return {"outputs": root / "demo" / "casefund.xlsx", "mix": mix}


def _header(sheet: object) -> list[str]:
    return [str(c.value) for c in sheet[1]]  # type: ignore[index]


def test_every_declared_column_has_its_format(books: dict[str, Path]) -> None:
    book = load_workbook(books["outputs"])
    checked = 0
    for name, kinds in KINDS.items():
        sheet = book[name]
        header = _header(sheet)
        if sheet.max_row < 2:
            continue
        for column, kind in kinds.items():
            if column not in header:
                continue
            cells = [row[header.index(column)] for row in sheet.iter_rows(min_row=2)]
            filled = [c for c in cells if c.value is not None]
            assert all(c.number_format == EXCEL_FORMATS[kind] for c in filled), (name, column)
            if kind is Kind.DATE:
                assert all(
                    isinstance(c.value, dt.datetime) or c.value == "1900-01-01" for c in filled
                ), (name, column)
            checked += 1
    assert checked >= 40


def test_shares_are_percentages_not_currency(books: dict[str, Path]) -> None:
    """Regression (issue 17): share_of_cost was formatted as currency (54 % as "$0.54")."""
    sheet = load_workbook(books["mix"])["funding by funder"]
    header = _header(sheet)
    share = sheet.cell(row=2, column=header.index("share_of_cost") + 1)
    cost = sheet.cell(row=2, column=header.index("cost") + 1)
    assert share.number_format == "0.00%" and 0 <= share.value <= 1
    assert cost.number_format == '"$"#,##0.00'
    month = load_workbook(books["mix"])["funding by month"]
    first = next(month.iter_rows(min_row=2))
    assert all(c.number_format == '"$"#,##0.00' for c in first[1:])


def test_every_sheet_has_a_frozen_filterable_header_and_no_formula(
    books: dict[str, Path],
) -> None:
    for path in books.values():
        for sheet in load_workbook(path).worksheets:
            assert sheet.freeze_panes == "A2", sheet.title
            assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:"), sheet.title
            for row in sheet.iter_rows():
                assert all(c.data_type != "f" for c in row), sheet.title
            widths = [d.width for d in sheet.column_dimensions.values() if d.width]
            assert widths and max(widths) <= 62


def test_user_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    frame = pd.DataFrame({"note": ['=HYPERLINK("http://x")', "+1", "plain"], "amount": [1.5, 2, 3]})
    write_workbook({"t": frame}, tmp_path / "t.xlsx", {"t": {"amount": Kind.MONEY}})
    sheet = load_workbook(tmp_path / "t.xlsx")["t"]
    values = [sheet.cell(row=r, column=1).value for r in (2, 3, 4)]
    assert values == ['\'=HYPERLINK("http://x")', "'+1", "plain"]
    assert all(sheet.cell(row=r, column=1).data_type == "s" for r in (2, 3, 4))


def test_the_same_sheets_write_the_same_bytes(tmp_path: Path) -> None:
    frame = pd.DataFrame({"day": ["2024-01-02", ""], "amount": [1.25, None]})
    kinds = {"t": {"day": Kind.DATE, "amount": Kind.MONEY}}
    write_workbook({"t": frame}, tmp_path / "a.xlsx", kinds)
    write_workbook({"t": frame}, tmp_path / "b.xlsx", kinds)
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    sheet = load_workbook(tmp_path / "a.xlsx")["t"]
    assert sheet["A2"].value == dt.datetime(2024, 1, 2) and sheet["A3"].value is None
    assert sheet["B2"].value == 1.25 and sheet["B3"].value is None


def test_a_sheet_larger_than_excel_allows_is_a_clear_error() -> None:
    frame = pd.DataFrame({"n": range(MAX_ROWS + 1)})
    with pytest.raises(InputError, match="more than a worksheet holds"):
        workbook_bytes({"lines": frame})


def test_the_funding_mix_workbook_has_native_charts(books: dict[str, Path]) -> None:
    book = load_workbook(books["mix"])
    charted = {sheet.title: sheet._charts for sheet in book.worksheets if sheet._charts}
    assert set(charted) == {
        "funding by funder",
        "funding by month",
        "unbillable reasons",
        "budget vs actual",
        "caseloads by model",
        "time by function",
    }
    month = charted["funding by month"][0]
    # Stacked columns of the funders; the expenses table is a line of its own, not a funder.
    assert month.grouping == "stacked"
    names = [s.tx.strRef.f for s in month.series]
    assert all("expenses" not in n for n in names) and "'funding by month'!$B$1" in names
    titles = [
        "".join(r.t for p in c.title.tx.rich.p for r in (p.r or []))
        for cs in charted.values()
        for c in cs
    ]
    assert "Cost of case management by funder and month" in titles
    assert "Staff minutes by case-management function" in titles
    assert charted["time by function"][0].grouping == "stacked"


def test_regression_a_payer_with_two_contracts_gets_two_named_bars(
    books: dict[str, Path],
) -> None:
    """Regression (session 9): MCP A pays an ECM and a Community Supports contract, and the
    cost-by-funder chart showed two bars both labelled 'MCP A'. Its categories now come
    from a 'funder (contract)' column beside the table."""
    sheet = load_workbook(books["mix"])["funding by funder"]
    chart = sheet._charts[0]
    reference = chart.series[0].cat.strRef.f  # e.g. 'funding by funder'!$K$2:$K$10
    column = reference.split("!")[1].split(":")[0].replace("$", "").rstrip("0123456789")
    header = sheet[f"{column}1"].value
    labels = [c.value for c in sheet[column][1:] if c.value is not None]
    assert header == "funder (contract)"
    assert len(labels) == len(set(labels))
    assert "MCP A (mcp_a_cs)" in labels and "MCP A (mcp_a_ecm)" in labels


def test_the_outputs_workbook_has_a_charted_summary_of_the_breakdown(
    books: dict[str, Path],
) -> None:
    """`evaluate --xlsx` charts too (issue 17): a summary sheet pivots the breakdown to a
    row per contract, and its numbers are the breakdown's, to the minute and the cent."""
    book = load_workbook(books["outputs"])
    assert book.sheetnames[-1] == "summary"
    summary = pd.DataFrame(book["summary"].values)
    summary = summary.iloc[1:].set_axis(list(summary.iloc[0]), axis=1)
    breakdown = pd.DataFrame(book["breakdown"].values)
    breakdown = breakdown.iloc[1:].set_axis(list(breakdown.iloc[0]), axis=1)
    for status in ("billable", "bundled", "unbillable"):
        expected = breakdown.loc[breakdown["status"] == status, "minutes"].sum()
        assert summary[f"{status}_minutes"].sum() == expected, status
    paid = breakdown.loc[breakdown["status"].isin(["billable", "bundled"]), "amount"].sum()
    assert round(float(summary["billed"].sum()), 2) == round(float(paid), 2)
    charts = book["summary"]._charts
    assert len(charts) == 2 and charts[0].grouping == "stacked"
    assert book["summary"]["E2"].number_format == '"$"#,##0.00'

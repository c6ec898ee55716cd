"""Writing the funding-mix report as a formatted workbook or one self-contained HTML page."""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from casefund.reports import charts
from casefund.reports.columns import Kind, number_text
from casefund.reports.files import write_workbook
from casefund.reports.funding_mix import FundingMix
from casefund.reports.workbook import chart_series, titled

_STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}"
    "td,th{border:1px solid #ccc;padding:4px 8px}td.n{text-align:right;white-space:nowrap}"
    "td.d{white-space:nowrap}td.w{min-width:16em}td{vertical-align:top}"
    "th{background:#1b6ca8;color:white}.note{background:#fff4d6;border-left:4px solid "
    "#f39c12;padding:6px 10px}figure{margin:1.5em 0}"
    ".table{overflow-x:auto;max-width:100%;margin-bottom:2em}"  # a wide table scrolls alone
)


def html_table(frame: pd.DataFrame, kinds: Mapping[str, Kind]) -> str:
    """A table whose numbers read as their declared kinds ($1,234.50, 27.18 %, 1,234),
    right-aligned, in a box that scrolls sideways when the table is wider than the page."""
    default = kinds.get("*")
    # A long column name may wrap after an underscore (share_of_unfunded_cost).
    head = "".join(f"<th>{html.escape(str(c)).replace('_', '_<wbr>')}</th>" for c in frame.columns)
    shown: list[list[str]] = []
    classes: list[str] = []
    for name in frame.columns:
        column = frame[name]
        is_number = pd.api.types.is_numeric_dtype(column.dtype) and not (
            pd.api.types.is_bool_dtype(column.dtype)
        )
        kind = kinds.get(str(name), default)
        texts = [
            "" if pd.isna(v) else (number_text(v, kind) if is_number else html.escape(str(v)))
            for v in column.tolist()
        ]
        dated = kinds.get(str(name)) in (Kind.DATE, Kind.MONTH)
        prose = not is_number and max((len(t) for t in texts), default=0) > 60
        kind_class = "n" if is_number else ("d" if dated else ("w" if prose else ""))
        classes.append(f" class='{kind_class}'" if kind_class else "")
        shown.append(texts)
    cells = (
        "".join(f"<td{classes[i]}>{col[row]}</td>" for i, col in enumerate(shown))
        for row in range(len(frame))
    )
    body = "".join(f"<tr>{row}</tr>" for row in cells)
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f"<div class='table'>{table}</div>"


def write_xlsx(mix: FundingMix, path: Path) -> Path:
    return write_workbook(mix.sheets(), path, mix.sheet_kinds(), _workbook_charts)


def _workbook_charts(book: Any, sheets: dict[str, tuple[Any, pd.DataFrame]]) -> None:
    """Native Excel charts beside their tables: cost by funder and month (the expenses
    table's spending a line, never stacked on the funders), cost by funder, unbillable cost
    by reason, and budget against billed."""
    money = {"num_format": '"$"#,##0', "major_gridlines": {"visible": True}}
    if "funding by month" in sheets:
        sheet, frame = sheets["funding by month"]
        rows = len(frame)
        funders = [i for i, c in enumerate(frame.columns) if i and str(c) != "expenses"]
        if rows and funders:
            chart = book.add_chart({"type": "column", "subtype": "stacked"})
            for i in funders:
                chart.add_series(chart_series("funding by month", i, rows))
            if "expenses" in frame.columns:
                spending = book.add_chart({"type": "line"})
                at = list(frame.columns).index("expenses")
                spending.add_series(
                    {**chart_series("funding by month", at, rows),
                     "name": "Expenses table (not a funder)", "line": {"dash_type": "dash"}}
                )  # fmt: skip
                chart.combine(spending)
            titled(chart, "Cost of case management by funder and month", "Month", money)
            sheet.insert_chart(1, len(frame.columns) + 1, chart, {"x_scale": 1.6, "y_scale": 1.4})
    for title, label, value, name, x_title in (
        ("funding by funder", "funder", "cost", "Cost by funder (unfunded included)", "Funder"),
        ("unbillable reasons", "rule", "cost", "Cost of unbillable time by reason", "Rule"),
    ):
        if title not in sheets or not len(sheets[title][1]):
            continue
        sheet, frame = sheets[title]
        columns = [str(c) for c in frame.columns]
        rows = min(len(frame), 10) if title == "unbillable reasons" else len(frame)
        categories = columns.index(label)
        if title == "funding by funder" and frame[label].duplicated().any():
            # A payer with two contracts (an ECM and a Community Supports contract) would
            # show as two bars of one name: the chart reads a column naming both.
            categories = _label_column(sheet, frame, len(columns))
        chart = book.add_chart({"type": "bar"})
        values = chart_series(title, columns.index(value), rows, categories)
        chart.add_series({**values, "name": name})
        titled(chart, name, x_title, money, legend=False, horizontal=True)
        sheet.insert_chart(1, len(columns) + 2, chart, {"x_scale": 1.6, "y_scale": 1.4})
    _workload_charts(book, sheets)
    if "budget vs actual" in sheets and len(sheets["budget vs actual"][1]):
        sheet, frame = sheets["budget vs actual"]
        columns = [str(c) for c in frame.columns]
        chart = book.add_chart({"type": "bar"})
        for column in ("budget", "billed"):
            at = columns.index(column)
            chart.add_series(chart_series("budget vs actual", at, len(frame)))
        titled(chart, "Budget and billed by contract", "Contract", money, horizontal=True)
        sheet.insert_chart(1, len(columns) + 1, chart, {"x_scale": 1.4, "y_scale": 1.2})


def _workload_charts(book: Any, sheets: dict[str, tuple[Any, pd.DataFrame]]) -> None:
    """Native charts of the work itself: minutes by case-management function (stacked by
    what became of them) and each case manager's largest caseload against the limit."""
    charts_of = (
        (
            "time by function",
            ("billable_minutes", "bundled_minutes", "unbillable_minutes"),
            "Staff minutes by case-management function",
            ("Function", "Minutes"),
        ),
        (
            "caseloads by model",
            ("most_participants", "limit_for_fte"),
            "Largest caseload and the program model's limit, by case manager",
            ("Case manager", "Participants"),
        ),
    )
    for name, series, title, (category, value_name) in charts_of:
        if name not in sheets or not len(sheets[name][1]):
            continue
        sheet, frame = sheets[name]
        columns = [str(c) for c in frame.columns]
        stacked = name == "time by function"  # minutes of one function add up; limits don't
        chart = book.add_chart({"type": "bar", **({"subtype": "stacked"} if stacked else {})})
        for column in series:
            chart.add_series(chart_series(name, columns.index(column), len(frame)))
        titled(
            chart,
            title,
            category,
            {"num_format": "#,##0", "major_gridlines": {"visible": True}},
            horizontal=True,
            value_name=value_name,
            categories_top_down=True,
        )
        height = 1.2 if stacked else 1.6
        sheet.insert_chart(1, len(columns) + 1, chart, {"x_scale": 1.4, "y_scale": height})


def _label_column(sheet: Any, frame: pd.DataFrame, position: int) -> int:
    """Write a 'funder (contract)' column after the table; its position."""
    labels = [
        f"{funder} ({contract})" if contract else str(funder)
        for funder, contract in zip(frame["funder"], frame["contract_id"], strict=True)
    ]
    sheet.write_string(0, position, "funder (contract)")
    for row, text in enumerate(labels, start=1):
        sheet.write_string(row, position, text)
    sheet.set_column(position, position, min(60, max(len(t) for t in labels) + 2))
    return position


def _fixable(mix: FundingMix) -> pd.DataFrame:
    fixable = mix.recoverable.loc[mix.recoverable["class"] == "fixable"]
    return fixable.groupby("contract_id", sort=True)["estimated_amount"].sum().reset_index()


def _figures(mix: FundingMix) -> list[str]:
    """The report's charts, each titled with what it measures and the period."""
    months = charts.period(mix.by_month["month"]) if "month" in mix.by_month else "no months"
    out = [
        charts.cost_by_month(
            mix.by_month.fillna(0.0), f"Cost of case management by funder and month, {months}"
        )
    ]
    if not mix.staff_costs_known and len(mix.hours_by_month):
        # No staff cost is known: the cost above is recorded amounts only, so the work
        # itself is shown as time, first.
        out.insert(
            0,
            charts.cost_by_month(
                mix.hours_by_month,
                f"Staff time by funder and month (hours; no staff costs known), {months}",
                hours=True,
            ),
        )
    reasons = mix.unbillable_reasons.head(10)
    if len(reasons):
        labelled = reasons.assign(
            label=reasons["contract_id"].astype(str).replace("", "no contract")
            + ": "
            + reasons["rule"].astype(str)
            + " — "
            + reasons["reason"]
        )
        out.append(
            charts.horizontal_bars(
                labelled,
                "label",
                "cost",
                f"Cost of unbillable time by contract and primary reason "
                f"(top {len(reasons)}), {months}",
                "Cost of the unbillable time",
                "Rule and reason",
            )
        )
    if len(mix.functions):
        out.append(
            charts.time_by_function(
                mix.functions, f"Staff time by case-management function (TIP 27), {months}"
            )
        )
    if len(mix.caseloads):
        basis = "assigned" if (mix.caseloads["basis"] == "assigned").all() else "served"
        out.append(
            charts.caseloads_against_limits(
                mix.caseloads,
                f"Caseloads against the program model's limit ({basis} participants), {months}",
            )
        )
    budgets = mix.budgets.dropna(subset=["budget"])
    if len(budgets):
        out.append(charts.budget_burn(budgets, f"Budget burn by contract, {months}"))
    fixable = _fixable(mix)
    if len(fixable):
        out.append(
            charts.horizontal_bars(
                fixable,
                "contract_id",
                "estimated_amount",
                f"Recoverable revenue: fixable unbillable time by contract, {months}",
                "Estimated at the refusing contract's rate",
                "Contract",
            )
        )
    return [f"<figure>{figure}</figure>" for figure in out]


def write_html(mix: FundingMix, path: Path) -> Path:
    notes = [f"<p class='note'>{html.escape(n)}</p>" for n in mix.notices]
    body = ["<h1>Funding mix</h1>", *notes, *_figures(mix)]
    kinds = mix.sheet_kinds()
    for name, frame in mix.sheets().items():
        body.append(f"<h2>{html.escape(name)}</h2>")
        body.append(html_table(frame, kinds.get(name, {})))
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>casefund funding mix"
        f"</title><style>{_STYLE}</style></head><body>" + "".join(body) + "</body></html>"
    )
    path.write_text(page, encoding="utf-8")
    return path


def write_chart(
    frame: pd.DataFrame,
    title: str,
    path: Path,
    extra: list[str] | None = None,
    kinds: Mapping[str, Kind] | None = None,
) -> Path:
    """A chart page (rate simulation): grouped bars per scenario, then any further figures
    (``extra``: inline SVG), then the table."""
    key = str(frame.columns[0])
    shown = frame[[key, "revenue", "cost"]] if {"revenue", "cost"} <= set(frame) else frame
    figures = [charts.grouped_bars(shown, key, title, "Dollars"), *(extra or [])]
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>"
        f"{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        + "".join(f"<figure>{figure}</figure>" for figure in figures)
        + html_table(frame, kinds or {})
        + "</body></html>"
    )
    path.write_text(page, encoding="utf-8")
    return path

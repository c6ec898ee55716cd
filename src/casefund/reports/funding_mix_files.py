"""Writing the funding-mix report as a formatted workbook or one self-contained HTML page."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from casefund.reports import charts
from casefund.reports.files import write_workbook
from casefund.reports.funding_mix import FundingMix

_STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse;"
    "margin-bottom:2em}td,th{border:1px solid #ccc;padding:4px 8px}"
    "th{background:#1b6ca8;color:white}.note{background:#fff4d6;border-left:4px solid "
    "#f39c12;padding:6px 10px}figure{margin:1.5em 0}"
)


def write_xlsx(mix: FundingMix, path: Path) -> Path:
    return write_workbook(mix.sheets(), path, mix.sheet_kinds())


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
    for name, frame in mix.sheets().items():
        body.append(f"<h2>{html.escape(name)}</h2>")
        body.append(frame.to_html(index=False, float_format=lambda v: f"{v:,.2f}", na_rep=""))
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>casefund funding mix"
        f"</title><style>{_STYLE}</style></head><body>" + "".join(body) + "</body></html>"
    )
    path.write_text(page, encoding="utf-8")
    return path


def write_chart(
    frame: pd.DataFrame, title: str, path: Path, extra: list[str] | None = None
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
        + frame.to_html(index=False, float_format=lambda v: f"{v:,.2f}", na_rep="")
        + "</body></html>"
    )
    path.write_text(page, encoding="utf-8")
    return path

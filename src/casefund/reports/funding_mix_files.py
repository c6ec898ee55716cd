"""Writing the funding-mix report as a formatted workbook or one self-contained HTML page."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from casefund.reports.files import write_workbook
from casefund.reports.funding_mix import FundingMix

PALETTE = [
    "#1b6ca8",
    "#f39c12",
    "#27ae60",
    "#8e44ad",
    "#c0392b",
    "#16a085",
    "#7f8c8d",
    "#d35400",
    "#2c3e50",
    "#bdc3c7",
]


def write_xlsx(mix: FundingMix, path: Path) -> Path:
    return write_workbook(mix.sheets(), path, mix.sheet_kinds())


def _stacked_bars(frame: pd.DataFrame, title: str) -> str:
    """An inline SVG stacked bar chart: one bar per row, one colour per numeric column."""
    series = [c for c in frame.columns[1:]]
    width, height, pad = 720, 300, 50
    totals = frame[series].sum(axis=1)
    top = float(totals.max()) or 1.0
    bar = (width - 2 * pad) / max(len(frame), 1)
    legend_rows = -(-len(series) // 5)
    parts = [
        f'<svg role="img" aria-label="{html.escape(title)}" width="{width}" '
        f'height="{height + 40 + 14 * legend_rows}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="{pad}" y="20" font-weight="bold">{html.escape(title)}</text>',
    ]
    for i, (_, row) in enumerate(frame.iterrows()):  # one bar per month: a dozen, not rows
        y: float = height
        for j, name in enumerate(series):
            h = float(row[name]) / top * (height - 40)
            y = y - h
            parts.append(
                f'<rect class="bar" x="{pad + i * bar + 2:.1f}" y="{y:.1f}" '
                f'width="{bar - 4:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[j % len(PALETTE)]}"><title>{html.escape(str(name))}: '
                f"{float(row[name]):,.2f}</title></rect>"
            )
        label = str(row.iloc[0])[: max(4, int(bar // 6))]  # fit the label under its bar
        parts.append(
            f'<text x="{pad + i * bar + bar / 2:.1f}" y="{height + 15}" '
            f'font-size="10" text-anchor="middle">{html.escape(label)}</text>'
        )
    for j, name in enumerate(series):
        x, y = pad + (j % 5) * 130, height + 30 + (j // 5) * 14  # five legend entries a row
        parts.append(
            f'<rect x="{x}" y="{y}" width="10" height="10" '
            f'fill="{PALETTE[j % len(PALETTE)]}"/><text x="{x + 14}" '
            f'y="{y + 10}" font-size="10">{html.escape(str(name))[:20]}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _side_by_side(frame: pd.DataFrame, title: str) -> str:
    """Grouped bars: one group per row, one bar per numeric column (not stacked)."""
    series = list(frame.columns[1:])
    width, height, pad = 720, 300, 50
    top = float(frame[series].to_numpy(dtype=float).max()) or 1.0
    group = (width - 2 * pad) / max(len(frame), 1)
    bar = group / (len(series) + 1)
    parts = [
        f'<svg role="img" aria-label="{html.escape(title)}" width="{width}" '
        f'height="{height + 60}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="{pad}" y="20" font-weight="bold">{html.escape(title)}</text>',
    ]
    for i, (_, row) in enumerate(frame.iterrows()):  # one group per scenario
        for j, name in enumerate(series):
            h = float(row[name]) / top * (height - 40)
            parts.append(
                f'<rect class="bar" x="{pad + i * group + j * bar:.1f}" '
                f'y="{height - h:.1f}" width="{bar - 2:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[j % len(PALETTE)]}"><title>{html.escape(name)}: '
                f"{float(row[name]):,.2f}</title></rect>"
            )
        label = str(row.iloc[0])[: max(4, int(group // 6))]
        parts.append(
            f'<text x="{pad + i * group + len(series) * bar / 2:.1f}" y="{height + 15}" '
            f'font-size="10" text-anchor="middle">{html.escape(label)}</text>'
        )
    for j, name in enumerate(series):
        parts.append(
            f'<rect x="{pad + j * 130}" y="{height + 30}" width="10" height="10" '
            f'fill="{PALETTE[j % len(PALETTE)]}"/><text x="{pad + j * 130 + 14}" '
            f'y="{height + 40}" font-size="10">{html.escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def write_chart(frame: pd.DataFrame, title: str, path: Path) -> Path:
    """A one-chart HTML page (used by rate simulation)."""
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>"
        f"{html.escape(title)}</title></head><body style='font-family:sans-serif'>"
        + _side_by_side(frame, title)
        + frame.to_html(index=False)
        + "</body></html>"
    )
    path.write_text(page, encoding="utf-8")
    return path


def _fixable(mix: FundingMix) -> pd.DataFrame:
    fixable = mix.recoverable.loc[mix.recoverable["class"] == "fixable"]
    return fixable.groupby("contract_id", sort=True)["estimated_amount"].sum().reset_index()


def write_html(mix: FundingMix, path: Path) -> Path:
    reasons = mix.unbillable_reasons.head(10)[["rule", "cost"]]
    budgets = mix.budgets.dropna(subset=["budget"])[["contract_id", "billed", "remaining"]]
    notes = "".join(f"<p class='note'>{html.escape(n)}</p>" for n in mix.notices)
    body = [
        "<h1>Funding mix</h1>",
        notes,
        _stacked_bars(mix.by_month.fillna(0.0), "Cost of case management by funder and month"),
        _stacked_bars(reasons, "Cost of unbillable time by reason (top 10)"),
        _stacked_bars(budgets.fillna(0.0), "Budget burn: billed and remaining by contract"),
        _stacked_bars(
            _fixable(mix),
            "Recoverable revenue: fixable unbillable time by contract "
            "(estimated at the contract's rate)",
        ),
    ]
    for name, frame in mix.sheets().items():
        body.append(f"<h2>{html.escape(name)}</h2>")
        body.append(frame.to_html(index=False, float_format=lambda v: f"{v:,.2f}", na_rep=""))
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>casefund funding mix"
        "</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:"
        "collapse;margin-bottom:2em}td,th{border:1px solid #ccc;padding:4px 8px}"
        "th{background:#1b6ca8;color:white}.note{background:#fff4d6;border-left:4px solid "
        "#f39c12;padding:6px 10px}</style></head><body>" + "".join(body) + "</body></html>"
    )
    path.write_text(page, encoding="utf-8")
    return path

"""Charts for the HTML reports: Vega-Altair specifications rendered to inline SVG.

Why this library: a chart is declared as data (a Vega-Lite specification: marks, encodings,
axis formats), which suits a rules-as-data project and is easy to test; vl-convert renders
it to SVG in process with its own bundled Vega, so a report needs no network when it is
written or viewed (no script, nothing fetched from a CDN) and is the same bytes every time.
Every chart has labelled axes with values, legends whose labels are never cut, and a title
saying what is measured over which period. Money is formatted as dollars on the axis.

Both packages are the ``charts`` extra; without it an HTML report is a clear error.
"""

from __future__ import annotations

import textwrap
from typing import Any

import pandas as pd

from casefund.errors import InputError

WIDTH = 640
_LABEL_WIDTH = 48  # characters a line of an axis label
_LINE_BREAK = "\u00a6"  # "¦" joins a wrapped label's lines (not in rule ids or reasons)
_MONEY = "$,.0f"
_LEGEND = {"labelLimit": 0, "orient": "bottom", "columns": 2, "titleFontSize": 12}
_TITLE = {"fontSize": 15, "anchor": "start"}


def _libraries() -> tuple[Any, Any]:
    try:
        import altair as alt
        import vl_convert as vlc
    except ImportError as exc:
        raise InputError(
            "HTML reports need the 'charts' extra: pip install 'casefund[charts]'"
        ) from exc
    return alt, vlc


def svg(chart: Any) -> str:
    """The chart rendered to one inline ``<svg>`` element."""
    _, vlc = _libraries()
    rendered: str = vlc.vegalite_to_svg(chart.to_dict())
    return rendered


def period(months: pd.Series) -> str:
    """'2024-01 to 2024-12' from a column of months."""
    values = sorted(str(m) for m in months.dropna().unique() if str(m))
    if not values:
        return "no months"
    return values[0] if values[0] == values[-1] else f"{values[0]} to {values[-1]}"


def cost_by_month(by_month: pd.DataFrame, title: str, hours: bool = False) -> str:
    """Stacked bars of each funder's cost per month (the unfunded cost a funder of its own);
    the expenses table's spending, which no funder stands for, is a line beside them,
    never stacked on them. ``hours``: the frame holds hours of staff time instead (where
    no staff cost is known, time is what can be shown)."""
    alt, _ = _libraries()
    funders = [c for c in by_month.columns if c not in ("month", "expenses")]
    long = by_month.melt(id_vars="month", value_vars=funders, var_name="funder", value_name="cost")
    y_title = (
        "Hours of staff time"
        if hours
        else "Cost of case management (staff time and recorded costs)"
    )
    axis = {"format": ",.0f"} if hours else {"format": _MONEY}
    bars = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("month:O", title="Month", axis={"labelAngle": -45}),
            y=alt.Y("cost:Q", title=y_title, axis=axis, stack="zero"),
            color=alt.Color("funder:N", title="Funder", legend=_LEGEND),
            tooltip=["month", "funder", alt.Tooltip("cost:Q", format=axis["format"])],
        )
    )
    layers = [bars]
    if "expenses" in by_month.columns and not hours:
        spending = by_month[["month", "expenses"]].assign(series="Expenses table (not a funder)")
        layers.append(
            alt.Chart(spending)
            .mark_line(point=True, color="#333333", strokeDash=[4, 3])
            .encode(
                x="month:O",
                y=alt.Y("expenses:Q", axis={"format": _MONEY}),
                shape=alt.Shape("series:N", title="", legend=_LEGEND),
            )
        )
    chart = alt.layer(*layers).properties(title={"text": title, **_TITLE}, width=WIDTH, height=320)
    return svg(chart)


def horizontal_bars(
    frame: pd.DataFrame, label: str, value: str, title: str, x_title: str, y_title: str
) -> str:
    """One bar per row, largest first, with its full label on the axis and its value at the
    bar's end."""
    alt, _ = _libraries()
    data = frame[[label, value]].rename(columns={label: "label", value: "value"})
    # Long labels (a rule's reason) are wrapped onto lines, never cut.
    wrapped = [textwrap.wrap(str(text), _LABEL_WIDTH) or [""] for text in data["label"]]
    data = data.assign(label=[_LINE_BREAK.join(lines) for lines in wrapped])
    lines = max((len(w) for w in wrapped), default=1)
    height = max(60, (14 * lines + 12) * len(data))
    base = alt.Chart(data).encode(
        y=alt.Y(
            "label:N",
            # Multi-line labels are wider than Vega reserves for them: the title would sit
            # on them, so a wrapped axis says what it lists in the chart's title instead.
            title=None if lines > 1 else y_title,
            sort="-x",
            axis={"labelLimit": 0, "labelExpr": f"split(datum.label, '{_LINE_BREAK}')"},
        ),
        x=alt.X("value:Q", title=x_title, axis={"format": _MONEY}),
    )
    chart = (
        base.mark_bar(color="#1b6ca8")
        + base.mark_text(align="left", dx=4).encode(text=alt.Text("value:Q", format="$,.2f"))
    ).properties(title={"text": title, **_TITLE}, width=WIDTH - 280, height=height)
    return svg(chart)


def budget_burn(budgets: pd.DataFrame, title: str) -> str:
    """Billed so far against each contract's budget: a bar for what was billed, a tick for
    the budget, both on one dollar axis."""
    alt, _ = _libraries()
    data = budgets[["contract_id", "billed", "budget"]].copy()
    height = max(60, 30 * len(data))
    y = alt.Y("contract_id:N", title="Contract", axis={"labelLimit": 0})
    billed = (
        alt.Chart(data)
        .mark_bar(color="#1b6ca8")
        .encode(y=y, x=alt.X("billed:Q", title="Dollars", axis={"format": _MONEY}))
    )
    budget = (
        alt.Chart(data)
        .mark_tick(color="#c0392b", thickness=3, size=22)
        .encode(y=y, x="budget:Q", tooltip=[alt.Tooltip("budget:Q", format="$,.2f")])
    )
    labels = (
        alt.Chart(data)
        .mark_text(align="left", dx=6)
        .encode(
            y=y,
            x="budget:Q",
            text=alt.Text("share:N"),
        )
        .transform_calculate(share="format(datum.billed / datum.budget, '.0%') + ' spent'")
    )
    chart = (billed + budget + labels).properties(
        title={"text": title, "subtitle": "bar: billed; red tick: budget", **_TITLE},
        width=WIDTH - 160,
        height=height,
    )
    return svg(chart)


def grouped_bars(frame: pd.DataFrame, key: str, title: str, y_title: str) -> str:
    """Side-by-side bars (never stacked): one group per ``key`` value, one bar per other
    column, each group's full label on the axis."""
    alt, _ = _libraries()
    series = [c for c in frame.columns if c != key]
    long = frame.melt(id_vars=key, value_vars=series, var_name="measure", value_name="dollars")
    chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X(
                f"{key}:N",
                title=key.replace("_", " ").capitalize(),
                axis={"labelLimit": 0, "labelAngle": -30},
            ),
            xOffset="measure:N",
            y=alt.Y("dollars:Q", title=y_title, axis={"format": _MONEY}),
            color=alt.Color("measure:N", title="", legend=_LEGEND),
            tooltip=[key, "measure", alt.Tooltip("dollars:Q", format="$,.2f")],
        )
        .properties(title={"text": title, **_TITLE}, width=WIDTH, height=320)
    )
    return svg(chart)


def margin_against_rate(
    points: pd.DataFrame, break_even: float | None, title: str, x_title: str
) -> str:
    """The swept contract's margin (revenue less the cost of the work it was paid for) at
    each swept value, with zero margin drawn and the solved break-even marked."""
    alt, _ = _libraries()
    data = points[["value", "margin"]].astype(float)
    line = (
        alt.Chart(data)
        .mark_line(point=True, color="#1b6ca8")
        .encode(
            x=alt.X("value:Q", title=x_title, axis={"format": _MONEY}, scale={"zero": False}),
            y=alt.Y("margin:Q", title="Margin (revenue less cost)", axis={"format": _MONEY}),
            tooltip=[
                alt.Tooltip("value:Q", format="$,.2f"),
                alt.Tooltip("margin:Q", format="$,.2f"),
            ],
        )
    )
    zero = (
        alt.Chart(pd.DataFrame({"margin": [0.0]})).mark_rule(color="#7f8c8d").encode(y="margin:Q")
    )
    layers = [zero, line]
    if break_even is not None and len(data):
        mark = pd.DataFrame(
            {"value": [break_even], "margin": [0.0], "label": [f"break-even ${break_even:,.2f}"]}
        )
        # The margin is linear in the rate: where the sweep stops short of the break-even,
        # a dashed segment carries the line from the nearest swept value to it.
        nearest = data.iloc[[int((data["value"] - break_even).abs().to_numpy().argmin())]]
        reach = pd.concat([nearest, mark[["value", "margin"]]], ignore_index=True)
        layers += [
            alt.Chart(mark).mark_rule(color="#c0392b", strokeDash=[5, 3]).encode(x="value:Q"),
            alt.Chart(reach)
            .mark_line(color="#1b6ca8", strokeDash=[4, 4])
            .encode(x="value:Q", y="margin:Q"),
            alt.Chart(mark)
            .mark_point(color="#c0392b", filled=True, size=80)
            .encode(x="value:Q", y="margin:Q"),
            alt.Chart(mark)
            .mark_text(align="left", dx=8, dy=-16, color="#c0392b", fontWeight="bold")
            .encode(x="value:Q", y="margin:Q", text="label:N"),
        ]
    chart = alt.layer(*layers).properties(title={"text": title, **_TITLE}, width=WIDTH, height=300)
    return svg(chart)


def time_by_function(frame: pd.DataFrame, title: str) -> str:
    """Hours of each case-management function, stacked by what became of them (billable,
    bundled, unbillable), functions in ``frame``'s order, hours on the axis."""
    alt, _ = _libraries()
    parts = {
        "billable_minutes": "billable",
        "bundled_minutes": "bundled into a paid line",
        "unbillable_minutes": "unbillable",
    }
    long = frame[["function", *parts]].melt(
        id_vars="function", value_vars=list(parts), var_name="status", value_name="spent"
    )
    long = long.assign(status=long["status"].map(parts), hours=(long["spent"] / 60.0).round(1))
    order = frame["function"].tolist()
    chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("function:N", title="Case-management function", sort=order),
            x=alt.X("hours:Q", title="Hours of staff time", axis={"format": ",.0f"}),
            color=alt.Color(
                "status:N",
                title="",
                sort=list(parts.values()),
                scale=alt.Scale(
                    domain=list(parts.values()), range=["#1b6ca8", "#7fb3d5", "#c0392b"]
                ),
                legend=_LEGEND,
            ),
            order=alt.Order("status_rank:Q"),
            tooltip=["function", "status", alt.Tooltip("hours:Q", format=",.1f")],
        )
        .transform_calculate(
            status_rank="indexof(['billable', 'bundled into a paid line', 'unbillable'], "
            "datum.status)"
        )
        .properties(
            title={"text": title, **_TITLE}, width=WIDTH - 160, height=max(60, 28 * len(order))
        )
    )
    return svg(chart)


def caseloads_against_limits(frame: pd.DataFrame, title: str) -> str:
    """Each case manager's largest caseload in the period (a bar, red where over) against
    their model's limit for their FTE (a tick)."""
    alt, _ = _libraries()
    data = frame.assign(
        label=frame["staff_id"].astype(str) + " (" + frame["program_model"].astype(str) + ")",
        state=frame["months_over"].map(lambda n: "over the limit" if n else "within the limit"),
    )
    height = max(60, 22 * len(data))
    y = alt.Y("label:N", title="Case manager (program model)", axis={"labelLimit": 0}, sort=None)
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=y,
            x=alt.X("most_participants:Q", title="Participants carried (largest month)"),
            color=alt.Color(
                "state:N",
                title="",
                scale=alt.Scale(
                    domain=["within the limit", "over the limit"], range=["#1b6ca8", "#c0392b"]
                ),
                legend=_LEGEND,
            ),
        )
    )
    limits = (
        alt.Chart(data.dropna(subset=["limit_for_fte"]))
        .mark_tick(color="#222222", thickness=3, size=18)
        .encode(y=y, x="limit_for_fte:Q")
    )
    chart = (bars + limits).properties(
        title={"text": title, "subtitle": "black tick: the model's limit for the FTE", **_TITLE},
        width=WIDTH - 200,
        height=height,
    )
    return svg(chart)

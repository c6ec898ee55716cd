"""The outputs workbook's summary sheet: minutes by contract and status, charted.

The breakdown output is long (a row per payer, contract and status), which is what a
filter wants and what a chart cannot read. The summary is the same numbers pivoted — a row
per contract, a column per status — so native Excel charts can stand beside it: where the
time went (stacked minutes by status) and what each contract was billed. It is an extra
sheet after the outputs; every output keeps its own sheet as before.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from casefund.reports.columns import Kind
from casefund.reports.workbook import chart_series, titled

SUMMARY = "summary"
_STATUSES = ("billable", "bundled", "unbillable")  # a refused row has no minutes
SUMMARY_KINDS: dict[str, Kind] = {
    **{f"{status}_minutes": Kind.MINUTES for status in _STATUSES},
    "billed": Kind.MONEY,
}


def summary_frame(breakdown: pd.DataFrame) -> pd.DataFrame:
    """A row per payer and contract (one for what no contract took): minutes per status and
    the amount billed (billable and bundled lines)."""
    rows = breakdown.astype({"payer": object, "contract_id": object, "status": object})
    contract = rows["contract_id"].fillna("").astype(str)
    label = (rows["payer"].fillna("").astype(str) + " (" + contract + ")").where(
        contract != "", "no contract (unbillable)"
    )
    rows = rows.assign(contract=label)
    minutes = rows.pivot_table(
        index="contract", columns="status", values="minutes", aggfunc="sum", fill_value=0
    )
    paid = rows.loc[rows["status"].isin(["billable", "bundled"])]
    billed = paid.groupby("contract")["amount"].sum()
    out = pd.DataFrame(index=minutes.index.union(billed.index, sort=False))
    for status in _STATUSES:
        out[f"{status}_minutes"] = minutes.get(status, 0)
    out = out.fillna(0).astype("int64")
    out["billed"] = billed.reindex(out.index).fillna(0.0).round(2)
    last = out.index == "no contract (unbillable)"
    order = sorted(range(len(out)), key=lambda i: (bool(last[i]), str(out.index[i])))
    return out.iloc[order].rename_axis("contract").reset_index()


def summary_charts(book: Any, sheets: dict[str, tuple[Any, pd.DataFrame]]) -> None:
    """Stacked minutes by status per contract, and the amount billed per contract."""
    if SUMMARY not in sheets or not len(sheets[SUMMARY][1]):
        return
    sheet, frame = sheets[SUMMARY]
    columns = [str(c) for c in frame.columns]
    rows = len(frame)

    def series(column: str, name: str) -> dict[str, Any]:
        return {**chart_series(SUMMARY, columns.index(column), rows), "name": name}

    grid = {"major_gridlines": {"visible": True}}
    time = book.add_chart({"type": "bar", "subtype": "stacked"})
    for status in _STATUSES:
        time.add_series(series(f"{status}_minutes", status))
    titled(time, "Staff minutes by contract and status", "Contract",
           {"num_format": "#,##0", **grid}, horizontal=True, value_name="Minutes",
           categories_top_down=True)  # fmt: skip
    sheet.insert_chart(1, len(columns) + 1, time, {"x_scale": 1.6, "y_scale": 1.4})
    money = book.add_chart({"type": "bar"})
    money.add_series(series("billed", "Billed (billable and bundled lines)"))
    titled(money, "Amount billed by contract", "Contract", {"num_format": '"$"#,##0', **grid},
           legend=False, horizontal=True, categories_top_down=True)  # fmt: skip
    sheet.insert_chart(24, len(columns) + 1, money, {"x_scale": 1.6, "y_scale": 1.4})

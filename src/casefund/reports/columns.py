"""What each number in an output is, declared once beside the output.

A column's kind decides how it is written everywhere: money to the cent, units to the
hundredth, shares to six places — in the frames the Python API returns, CSV, Parquet,
workbooks and claim files alike — and how a workbook formats it (currency, percent, whole
numbers, dates as dates). Sums of cents in binary floating point drift off the cent
(``0.33999999999999997``); rounding each declared column once, where an output is built,
is what keeps that noise out of every file. Formats come from these declarations, never
from a header's name.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

import numpy as np
import pandas as pd


class Kind(Enum):
    """What a number counts, and so how it is rounded and shown."""

    MONEY = "money"  # dollars, to the cent
    UNITS = "units"  # billing units as the payer counts them, to the hundredth
    SHARE = "share"  # a fraction of a whole (0.091 is 9.1 %), to six places
    RATIO = "ratio"  # a number on its own scale (income as % of the poverty line), 2 places
    COUNT = "count"  # activities, lines, members: whole numbers
    MINUTES = "minutes"  # staff time: whole minutes
    YEAR = "year"
    DATE = "date"  # a day, held as ISO text in files
    MONTH = "month"  # a calendar month, held as "YYYY-MM" in files


DECIMALS: dict[Kind, int] = {Kind.MONEY: 2, Kind.UNITS: 2, Kind.SHARE: 6, Kind.RATIO: 2}

# Excel number formats per kind (the workbook's view; the value is the rounded number).
EXCEL_FORMATS: dict[Kind, str] = {
    Kind.MONEY: '"$"#,##0.00',
    Kind.UNITS: "#,##0.00",
    Kind.SHARE: "0.00%",
    Kind.RATIO: "0.00",
    Kind.COUNT: "#,##0",
    Kind.MINUTES: "#,##0",
    Kind.YEAR: "0",
    Kind.DATE: "yyyy-mm-dd",
    Kind.MONTH: "yyyy-mm",
}

# How a number of each kind reads on a page or the console (the workbook's view is
# EXCEL_FORMATS); a kind not named reads with two decimals.
SHOWN: dict[Kind, str] = {
    Kind.MONEY: "${:,.2f}",
    Kind.UNITS: "{:,.2f}",
    Kind.SHARE: "{:.2%}",
    Kind.RATIO: "{:,.2f}",
    Kind.COUNT: "{:,.0f}",
    Kind.MINUTES: "{:,.0f}",
    Kind.YEAR: "{:.0f}",
}


def number_text(value: float, kind: Kind | None) -> str:
    """``value`` as text for its kind, a minus sign before the dollar sign (-$1,234.50)."""
    form = SHOWN.get(kind, "{:,.2f}") if kind is not None else "{:,.2f}"
    text = form.format(abs(value))
    return f"-{text}" if value < 0 else text


M, U, S, D, MO = Kind.MONEY, Kind.UNITS, Kind.SHARE, Kind.DATE, Kind.MONTH

# Every numeric column of every output (a test checks none is left undeclared), and the
# columns holding dates as ISO text (written to workbooks as dates).
KINDS: dict[str, dict[str, Kind]] = {
    "lines": {
        "minutes": Kind.MINUTES,
        "units": U,
        "amount": M,
        "federal_share": M,
        "estimated_amount": M,
        "hourly_cost": M,
        "pass_through": M,
        "service_date": D,
        "month": MO,
    },
    "denials": {"minutes": Kind.MINUTES, "service_date": D},
    "claims": {"units": U, "amount": M, "lines": Kind.COUNT, "service_date": D, "month": MO},
    "eligibility": {"as_of": D, "month": MO},
    "breakdown": {"activities": Kind.COUNT, "minutes": Kind.MINUTES, "units": U, "amount": M},
    "admin_cap": {
        "award": M,
        "direct": M,
        "administrative": M,
        "share": S,
        "cap": M,
        "excess": M,
        "share_of_expenditure": S,
        "indirect": M,
        "planning": M,
        "quality_management": M,
        "total": M,
        "planning_cap": M,
        "planning_excess": M,
        "combined_cap": M,
        "combined_excess": M,
        "cqm_limit": M,
        "cqm_excess": M,
        "core_medical_share": S,
        "core_medical_floor": S,
        "period_start": D,
        "period_end": D,
    },
    "recertification": {
        "days_left": Kind.COUNT,
        "eligible_through": D,
        "as_of": D,
        "start_date": D,
    },
    "charge_caps": {
        "year": Kind.YEAR,
        "income_pct_fpl": Kind.RATIO,
        "cap_share": S,
        "annual_income": M,
        "cap_amount": M,
        "charged": M,
        "charges": Kind.COUNT,
        "excess": M,
    },
    "rejects": {"row": Kind.COUNT},
    "recoverable": {
        "activities": Kind.COUNT,
        "minutes": Kind.MINUTES,
        "estimated_amount": M,
        "month": MO,
    },
    "terms": {"effective_from": D, "effective_to": D},
    "reasons": {"effective_from": D, "effective_to": D},
    "caseloads": {
        "month": MO,
        "participants": Kind.COUNT,
        "fte": Kind.RATIO,
        "participants_per_fte": Kind.RATIO,
        "caseload_max": Kind.COUNT,
        "limit_for_fte": Kind.RATIO,
        "over_by": Kind.RATIO,
        "max_months": Kind.COUNT,
        "past_span": Kind.COUNT,
    },
    "functions": {
        "month": MO,
        "minutes": Kind.MINUTES,
        "billable_minutes": Kind.MINUTES,
        "bundled_minutes": Kind.MINUTES,
        "unbillable_minutes": Kind.MINUTES,
        "share_billable": S,
    },
}


# Columns whose values come from a vocabulary casefund defines (a handful of values
# repeated on every row): categorical in the Python API. Every other text column is
# pandas' ``string`` dtype there, with a blank cell missing (``<NA>``), not ``""``.
CATEGORIES: dict[str, frozenset[str]] = {
    "lines": frozenset({"status", "program", "payment"}),
    "breakdown": frozenset({"status"}),
    "eligibility": frozenset({"program", "population"}),
    "recertification": frozenset({"program", "status"}),
    "recoverable": frozenset({"program", "class"}),
    "terms": frozenset({"program", "payment"}),
    "reasons": frozenset({"program", "decision", "kind"}),
    "rejects": frozenset({"table"}),
    "caseloads": frozenset({"basis"}),
    "functions": frozenset({"function", "program"}),
}


def exact(frame: pd.DataFrame, kinds: Mapping[str, Kind]) -> pd.DataFrame:
    """``frame`` with each declared float column rounded to its kind's places (``"*"``:
    the kind of every float column not named). A new frame where anything changed; whole
    numbers and missing values are left as they are."""
    default = kinds.get("*")
    rounded: dict[str, pd.Series] = {}
    for name in frame.columns:
        kind = kinds.get(str(name), default)
        places = DECIMALS.get(kind) if kind is not None else None
        if places is None:
            continue
        column = frame[name]
        if isinstance(column.dtype, np.dtype) and column.dtype.kind == "f":
            values = column.to_numpy()
            done = np.round(values, places)
            if not np.array_equal(done, values, equal_nan=True):
                rounded[str(name)] = pd.Series(done, index=frame.index, name=name)
        elif isinstance(column.dtype, pd.Float64Dtype):
            rounded[str(name)] = column.round(places)
    return frame.assign(**rounded) if rounded else frame

"""Dates as whole day numbers, so that windows and lookups are integer array operations."""

from __future__ import annotations

import numpy as np
import pandas as pd

# Far enough in the future that an open enrollment span never ends inside the data.
OPEN_END = 200_000
MISSING = np.iinfo(np.int64).min


def to_days(values: pd.Series | pd.Index | np.ndarray) -> np.ndarray:
    """Day numbers since 1970-01-01; missing dates become MISSING."""
    array = np.asarray(values, dtype="datetime64[ns]")
    days = array.astype("datetime64[D]").astype(np.int64)
    days[np.isnat(array)] = MISSING
    return days


def from_days(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]")


def shift_months(days: np.ndarray, months: int) -> np.ndarray:
    """The same day ``months`` calendar months away, clipped to the month's last day."""
    dates = days.astype("datetime64[D]")
    month_start = dates.astype("datetime64[M]")
    day_of_month = (dates - month_start.astype("datetime64[D]")).astype(np.int64)
    target = month_start + np.timedelta64(months, "M")
    target_len = (
        (target + np.timedelta64(1, "M")).astype("datetime64[D]") - target.astype("datetime64[D]")
    ).astype(np.int64)
    shifted = target.astype("datetime64[D]") + np.minimum(day_of_month, target_len - 1)
    return np.asarray(shifted, dtype="datetime64[D]").astype(np.int64)


def month_start(days: np.ndarray) -> np.ndarray:
    return (
        days.astype("datetime64[D]")
        .astype("datetime64[M]")
        .astype("datetime64[D]")
        .astype(np.int64)
    )


def month_end(days: np.ndarray) -> np.ndarray:
    months = days.astype("datetime64[D]").astype("datetime64[M]") + np.timedelta64(1, "M")
    return months.astype("datetime64[D]").astype(np.int64) - 1


def month_label(days: np.ndarray) -> np.ndarray:
    """'YYYY-MM' for each day."""
    return np.datetime_as_string(days.astype("datetime64[D]").astype("datetime64[M]"), unit="M")


def whole_years_between(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Completed years from ``start`` to ``end`` (an age); NaN where start is missing."""
    s = start.astype("datetime64[D]")
    e = end.astype("datetime64[D]")
    sy = s.astype("datetime64[Y]").astype(np.int64)
    ey = e.astype("datetime64[Y]").astype(np.int64)
    # Compare month and day rather than day of year, so leap years do not move birthdays.
    years = (ey - sy - (_month_day(e) < _month_day(s))).astype(float)
    years[start == MISSING] = np.nan
    return years


def _month_day(dates: np.ndarray) -> np.ndarray:
    months = dates.astype("datetime64[M]")
    month_number = months.astype(np.int64) % 12
    day = (dates - months.astype("datetime64[D]")).astype(np.int64)
    return np.asarray(month_number * 100 + day, dtype=np.int64)

"""Dates as whole day numbers (days since 1970-01-01), the one conversion every stage uses:
windows, effective periods and lookups are then integer array operations."""

from __future__ import annotations

import datetime as dt

import numpy as np

EPOCH = dt.date(1970, 1, 1)


def day_number(day: dt.date) -> int:
    return (day - EPOCH).days


def date_of(day: int) -> dt.date:
    """The date of one day number."""
    return EPOCH + dt.timedelta(days=int(day))


def month_first_day(month: np.ndarray) -> np.ndarray:
    """Day numbers of the first day of each month number (months since 1970)."""
    days: np.ndarray = month.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return days

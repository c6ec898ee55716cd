"""The lines of accepted activities, as the reports that count work read them."""

from __future__ import annotations

import pandas as pd

from casefund.allocate.status import REJECTED


def accepted_rows(lines: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The lines of accepted activities (status other than ``rejected``), only ``columns``:
    a report reading a few columns copies those (the ones the lines have), and the status
    is compared by its codes rather than cast to a million strings."""
    accepted = (lines["status"] != REJECTED).to_numpy(dtype=bool)
    return lines.loc[accepted, [c for c in columns if c in lines.columns]]

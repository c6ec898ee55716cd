"""A line's status: the one place its codes and their labels live."""

from __future__ import annotations

from enum import IntEnum

import numpy as np
import pandas as pd


class LineStatus(IntEnum):
    """What a contract did with (part of) an activity. ``NOT_TAKEN`` never reaches a line:
    it marks a row a payment model offered but did not take."""

    NOT_TAKEN = 0
    BILLABLE = 1
    BUNDLED = 2
    UNBILLABLE = 3

    @property
    def label(self) -> str:
        return self.name.lower()


# Labels of the statuses a line can have, in code order; refused input rows are 'rejected'.
LINE_STATUSES = tuple(status.label for status in LineStatus if status)
REJECTED = "rejected"


def status_labels(codes: object) -> pd.Categorical:
    """Line status labels from status codes (1..3)."""
    labels = pd.Index(list(LINE_STATUSES), dtype=object)
    result: pd.Categorical = pd.Categorical.from_codes(np.asarray(codes) - 1, categories=labels)
    return result

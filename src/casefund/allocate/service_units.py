"""Units of a cost-reimbursed line as the payer counts them: meals, days, months, or time.

A cost-reimbursed service is paid what it cost, but its claim line still states a quantity
in the unit its procedure code bills — a housing deposit (H0044, "per month") is one unit,
a meal (S5170, "per meal") one a meal, a day of respite (S9125, "per diem") one a day.
Before the code is known, the payment model counts hours of staff time; once each line is
coded this module restates the units from the code's unit of service (the
``unit_of_service`` parameter, read as of the service date). A recorded ``quantity`` is
what the payer counts and is never restated.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from casefund.units.policies import units_for_minutes

_TIMED = re.compile(r"^per (?:(\d+) minutes|(hour))$")
_PER_DAY, _PER_MONTH = "per diem", "per month"
ONE_PER_ACTIVITY = "per service"  # what a code missing from the table is counted as


def minutes_per_unit(unit: str) -> int | None:
    """The minutes one unit of a timed unit of service counts (None: not a unit of time)."""
    match = _TIMED.match(unit)
    if match is None:
        return None
    return int(match.group(1)) if match.group(1) else 60


def units_of_service(
    units: np.ndarray,
    unit: np.ndarray,
    minutes: np.ndarray,
    recorded: np.ndarray,
    keys: dict[str, np.ndarray],
) -> np.ndarray:
    """``units`` restated for each row whose ``unit`` of service is known ('' where not) and
    whose quantity was not ``recorded``: units of time from the row's minutes, one per
    participant-day (per diem) or participant-month (per month) and code — on the first
    such row, 0 on the others — or one per row (per meal, service, session, visit,
    encounter). ``keys`` holds the grouping columns: contract, participant, day, month and
    code (with its modifiers)."""
    out = np.asarray(units, dtype=float).copy()
    known = (unit != "") & ~recorded
    if not known.any():
        return out
    for name in pd.unique(unit[known]):
        rows = known & (unit == name)
        timed = minutes_per_unit(str(name))
        if timed is not None:
            out[rows] = units_for_minutes(minutes[rows], timed, "midpoint")
        elif name in (_PER_DAY, _PER_MONTH):
            period = keys["day"] if name == _PER_DAY else keys["month"]
            group = pd.DataFrame(
                {
                    "contract": keys["contract"][rows],
                    "participant": keys["participant"][rows],
                    "period": period[rows],
                    "code": keys["code"][rows],
                }
            )
            out[rows] = (~group.duplicated().to_numpy()).astype(float)
        else:
            out[rows] = 1.0
    return out

"""The activities as every later stage reads them: canonical order, helper columns, the
participant-months they fall in and the cost of the staff who delivered them.

Activities are put in one order — service day, participant, activity id — before anything
depends on order, so shuffled inputs give identical outputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]

from casefund.facts.calendar import month_end, month_label, month_start, to_days
from casefund.facts.prepared import PreparedData
from casefund.facts.scope import FactScope
from casefund.io.load import Dataset


@dataclass
class MonthContext:
    """Participant-months of the activities, and each activity's participant-month."""

    scope: FactScope
    as_of: np.ndarray
    of_activity: np.ndarray


def canonical_activities(data: Dataset, prepared: PreparedData) -> pd.DataFrame:
    """Activities in the order every later stage relies on, with integer helper columns."""
    acts = data.activities
    days = to_days(acts["date"])
    codes = prepared.codes_for(acts["participant_id"])
    order = np.lexsort((_tie_rank(acts["activity_id"], codes, days), codes, days))
    in_order = bool((order[1:] > order[:-1]).all())  # a live post's rows mostly are
    frame = acts.reset_index(drop=True) if in_order else acts.iloc[order].reset_index(drop=True)
    day_values = days[order]
    months = day_values.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    helpers = {
        "_day": day_values,
        "_code": codes[order],
        "_month_index": months,
        "_year": 1970 + months // 12,
        "_month": _labels(day_values, month_label),
        "_date_text": _labels(
            day_values, lambda d: np.datetime_as_string(d.astype("datetime64[D]"), unit="D")
        ),
        "_activity_id": frame["activity_id"].to_numpy(dtype=object),
    }
    # One concatenation, not seven column inserts (each copies the frame's blocks).
    return pd.concat([frame, pd.DataFrame(helpers, index=frame.index)], axis=1)


def _tie_rank(ids: pd.Series, codes: np.ndarray, days: np.ndarray) -> np.ndarray:
    """A rank of the activity ids that orders the activities of one participant on one day
    (0 elsewhere): only those ties need the ids compared, and sorting a million Python
    strings costs more than the rest of the ordering."""
    key = codes.astype(np.int64) * (1 << 24) + (days.astype(np.int64) + (1 << 23))
    by_key = np.argsort(key, kind="stable")
    same = key[by_key][1:] == key[by_key][:-1]
    tied = np.zeros(len(key), dtype=bool)
    tied[by_key[1:][same]] = True
    tied[by_key[:-1][same]] = True
    rank = np.zeros(len(key), dtype=np.int64)
    if tied.any():
        at = np.flatnonzero(tied)
        rank[at] = _dense_rank(ids.to_numpy(dtype=object)[at])
    return rank


def _dense_rank(texts: np.ndarray) -> np.ndarray:
    """``pd.factorize(texts, sort=True)[0]``: each text's rank among the distinct texts, by
    Arrow's sort (UTF-8 bytes order as code points do, as Python compares str) — a quarter
    of the time of hashing and sorting Python strings. Text Arrow cannot hold (a lone
    surrogate) is ranked by pandas."""
    try:
        text = pa.array(texts, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError, UnicodeEncodeError):
        return np.asarray(pd.factorize(texts, sort=True)[0], dtype=np.int64)
    ranks: np.ndarray = pc.rank(text, tiebreaker="dense").to_numpy().astype(np.int64) - 1
    return ranks


def _labels(days: np.ndarray, label: Any) -> pd.Categorical:
    """Text labels of day numbers as a categorical, formatting each distinct day once."""
    unique, inverse = np.unique(days, return_inverse=True)
    texts = pd.Index(np.asarray(label(unique)).astype(object), dtype=object)
    distinct, position = np.unique(texts.to_numpy(), return_inverse=True)
    codes = np.asarray(position)[np.asarray(inverse).reshape(-1)]
    result: pd.Categorical = pd.Categorical.from_codes(
        codes, categories=pd.Index(distinct, dtype=object)
    )
    return result


def month_context(prepared: PreparedData, acts: pd.DataFrame) -> MonthContext:
    """The participant-months of canonical activities, each judged as of its last day."""
    codes = acts["_code"].to_numpy(np.int64)
    months = acts["_month_index"].to_numpy(np.int64)
    combined = codes * 1_000_000 + months
    keys_, inverse = np.unique(combined, return_inverse=True)
    unique = np.stack([keys_ // 1_000_000, keys_ % 1_000_000], axis=1)
    first_day = (
        unique[:, 1].astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
        if len(unique)
        else np.zeros(0, dtype=np.int64)
    )
    as_of = month_end(first_day)
    scope = FactScope(prepared, unique[:, 0].astype(np.int64), as_of, month_start(first_day))
    return MonthContext(scope, as_of, np.asarray(inverse).reshape(-1).astype(np.int64))


def staff_hourly_cost(prepared: PreparedData, acts: pd.DataFrame) -> np.ndarray:
    """Each activity's staff cost per hour from the staff table (NaN where not known),
    looked up once per distinct staff id."""
    if not prepared.staff_cost or "staff_id" not in acts:
        return np.full(len(acts), np.nan)
    codes, uniques = pd.factorize(acts["staff_id"].astype(object).to_numpy())
    table = np.array([*(prepared.staff_cost.get(s, np.nan) for s in uniques), np.nan], float)
    return table[np.where(codes < 0, len(uniques), codes)]

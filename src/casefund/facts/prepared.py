"""The dataset rearranged for lookups: participant codes, merged spans, sorted event keys.

Built once per evaluation; every fact below reads from it with array searches, so the cost of
a fact is a few passes over the rows that ask for it, whatever the size of the history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from casefund.facts.calendar import MISSING, OPEN_END, to_days
from casefund.facts.index import keys, participant_codes
from casefund.facts.spans import Determinations, Spans
from casefund.io.load import Dataset
from casefund.records.contracts import payer_slug
from casefund.records.vocabulary import VOCABULARY

# Up to this many distinct ids, codes are looked up in a dict; pandas' get_indexer costs
# 0.4 ms whatever the number (most of reading one posted activity's participant).
_FEW_IDS = 64


@dataclass
class PreparedData:
    ids: pd.Index
    participants: pd.DataFrame  # one row per code, in code order
    coverage: pd.DataFrame
    events: pd.DataFrame
    assessments: pd.DataFrame
    # Staff cost per hour by staff id (NaN where the staff table leaves it blank).
    staff_cost: dict[str, float] = field(default_factory=dict)
    _spans: dict[tuple[str, str | None], Spans] = field(default_factory=dict)
    _determinations: dict[tuple[str, str | None], Determinations] = field(default_factory=dict)
    _events: dict[tuple[object, ...], np.ndarray] = field(default_factory=dict)
    _observations: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    _code_of: dict[str, int] | None = None  # participant id → code, built on first need
    _columns: dict[tuple[str, str], tuple[np.ndarray, Any]] = field(default_factory=dict)

    @classmethod
    def build(cls, data: Dataset) -> PreparedData:
        people = data.participants
        ids, codes = participant_codes(people["participant_id"])
        ordered = people.iloc[np.argsort(codes, kind="stable")].reset_index(drop=True)
        return cls(
            ids=ids,
            participants=ordered,
            coverage=_with_codes(data["coverage"], ids),
            events=_with_codes(data["events"], ids),
            assessments=_with_codes(data["assessments"], ids),
            staff_cost=_staff_cost(data["staff"]),
        )

    def codes_for(self, participant_ids: pd.Series) -> np.ndarray:
        """Each row's participant code (−1 where the id is not a participant's), looked up
        once per distinct id."""
        found, distinct = pd.factorize(participant_ids.astype(object).to_numpy())
        if len(distinct) <= _FEW_IDS:  # a live post: a dict lookup, not an index's machinery
            if self._code_of is None:
                self._code_of = {p: code for code, p in enumerate(self.ids.astype(object).tolist())}
            codes = np.array([self._code_of.get(str(i), -1) for i in distinct.tolist()], np.int64)
        else:
            codes = self.ids.get_indexer(pd.Index(distinct, dtype=object).astype("string"))
        table = np.append(np.asarray(codes, dtype=np.int64), -1)
        return table[np.where(found < 0, len(distinct), found)]

    def participant_column(self, name: str, kind: str = "values") -> tuple[np.ndarray, Any]:
        """A participant attribute in code order as a read-only NumPy array, and the
        column's dtype, converted once: ``values`` (as ``to_numpy()``), ``days`` (day
        numbers) or ``floats`` (NaN where blank). Facts read these on every live post;
        taking the column from the frame each time left a reference in the frame
        (pandas' copy-on-write tracking) that the garbage collector walked until pandas
        cleared it, about twenty a post."""
        key = (name, kind)
        if key not in self._columns:
            column = self.participants[name]
            if kind == "days":
                values = to_days(column)
            elif kind == "floats":
                values = np.asarray(column.to_numpy(dtype=float, na_value=np.nan), dtype=float)
            else:
                values = np.asarray(column.to_numpy())
            values.flags.writeable = False
            self._columns[key] = (values, column.dtype)
        return self._columns[key]

    def spans(self, program: str, payer: str | None = None) -> Spans:
        """Enrollment in ``program``; with ``payer``, only spans with that payer (or none)."""
        cache_key = (program, payer)
        if cache_key not in self._spans:
            rows = self.coverage.loc[self._span_rows(program, payer)]
            starts = to_days(rows["start_date"])
            ends = to_days(rows["end_date"])
            ends = np.where(ends == MISSING, OPEN_END, ends)
            self._spans[cache_key] = Spans.build(rows["_code"].to_numpy(np.int64), starts, ends)
        return self._spans[cache_key]

    def determinations(self, program: str, payer: str | None = None) -> Determinations:
        """The program's spans as recorded, one per determination, authorization or stay;
        with ``payer``, only spans with that payer (or none)."""
        cache_key = (program, payer)
        if cache_key not in self._determinations:
            rows = self.coverage.loc[self._span_rows(program, payer)]
            ends = to_days(rows["end_date"])
            self._determinations[cache_key] = Determinations.build(
                rows["_code"].to_numpy(np.int64),
                to_days(rows["start_date"]),
                np.where(ends == MISSING, OPEN_END, ends),
            )
        return self._determinations[cache_key]

    def _span_rows(self, program: str, payer: str | None) -> np.ndarray:
        """Coverage rows of ``program``; with ``payer``, those with that payer or none."""
        cov = self.coverage
        mask = (cov["program"] == program).to_numpy(dtype=bool, na_value=False).copy()
        if payer is not None:
            codes, names = pd.factorize(cov["payer"].astype("string").fillna(""))
            # A payer name repeats on thousands of spans: slug each distinct name once.
            wanted = np.array([payer_slug(str(n)) in (payer, "") for n in names] + [True])
            mask &= wanted[codes]
        return mask

    def event_keys(self, event: str, filters: tuple[tuple[str, bool], ...]) -> np.ndarray:
        """Sorted (participant, day) keys of the events of one kind that pass the filters."""
        cache_key: tuple[object, ...] = (event, filters)
        if cache_key not in self._events:
            ev = self.events
            mask = (ev["event"] == event).to_numpy(dtype=bool, na_value=False).copy()
            defaults = {"planned": False, "avoidable": True}
            for column, wanted in filters:
                values = ev[column].astype("boolean")
                if column in defaults:
                    values = values.fillna(defaults[column])
                mask &= (values == wanted).to_numpy(dtype=bool, na_value=False)
            rows = ev.loc[mask]
            self._events[cache_key] = np.sort(
                keys(rows["_code"].to_numpy(np.int64), to_days(rows["date"]))
            )
        return self._events[cache_key]

    def observations(self, fact: str) -> tuple[np.ndarray, np.ndarray]:
        """Sorted keys of dated observations of ``fact`` and their values (float, NaN unknown).

        Every fact's are sorted out together on the first call: one pass over the
        assessments instead of one per fact (a partition asks for thirty-odd facts, and each
        pass over its few thousand rows cost milliseconds of pandas overhead)."""
        if not self._observations:
            self._observations = _all_observations(self.assessments)
        empty = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=float)
        return self._observations.get(fact, empty)


def _with_codes(frame: pd.DataFrame, ids: pd.Index) -> pd.DataFrame:
    out = frame.copy(deep=False)
    out["_code"] = ids.get_indexer(pd.Index(frame["participant_id"].astype("string")))
    return out.loc[out["_code"] >= 0].reset_index(drop=True)


def _all_observations(obs: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per observed fact, its assessments' sorted (participant, day) keys and values: a
    count's value is its number, a flag's 1.0 or 0.0 (NaN where the text says neither)."""
    facts = obs["fact"].astype("string").fillna("")
    codes, names = pd.factorize(facts, sort=True)
    codes = np.asarray(codes, dtype=np.int64)
    text = obs["value"].astype("string").str.strip().str.lower()
    number = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    truth = np.full(len(text), np.nan)
    truth[text.isin(["true", "t", "yes", "y", "1"]).to_numpy(dtype=bool, na_value=False)] = 1.0
    truth[text.isin(["false", "f", "no", "n", "0"]).to_numpy(dtype=bool, na_value=False)] = 0.0
    counts = np.array([str(n) in VOCABULARY["participant_counts"] for n in names], dtype=bool)
    values = np.where(np.append(counts, False)[codes], number, truth)
    k = keys(obs["_code"].to_numpy(np.int64), to_days(obs["date"]))
    order = np.lexsort((k, codes))  # by fact, then key; stable within equal keys
    bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
    return {
        str(name): (k[order[a:b]], values[order[a:b]])
        for name, a, b in zip(names, bounds[:-1], bounds[1:], strict=True)
    }


def _staff_cost(staff: pd.DataFrame) -> dict[str, float]:
    if staff.empty:
        return {}
    costs = staff["hourly_cost"].astype(float).to_numpy()
    return dict(zip(staff["staff_id"].astype(object), costs.tolist(), strict=True))

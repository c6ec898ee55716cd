"""Adjudication: what the rules decide about every activity before any contract pays.

The canonical activities, their facts and each contract's rule decisions depend on nothing a
contract's caps say, so settling a budget re-runs only the payer waterfall over the same
adjudication (a partition keeps it between scale-out stages instead of validating and deciding
again).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from casefund.engine.decide import Decisions, decide
from casefund.facts.activities import (
    MonthContext,
    canonical_activities,
    month_context,
    staff_hourly_cost,
)
from casefund.facts.prepared import PreparedData
from casefund.facts.scope import FactScope
from casefund.io.load import Dataset
from casefund.payers.terms import ResolvedParameters
from casefund.records.contracts import Contract
from casefund.rules.book import RuleBook

_INTEGERS = frozenset({"_day", "_code", "_month_index", "_year"})
_NUMBERS = frozenset({"quantity", "amount"})

# A contract's rule decisions: (per activity, per participant-month).
Decider = Callable[[int, Contract, ResolvedParameters], tuple[Decisions, Decisions]]


def batch_decider(
    book: RuleBook, activity_scope: FactScope, months: MonthContext, days: np.ndarray
) -> Decider:
    """Rule decisions for one contract over all rows, from the batch evaluator."""

    def decide_for(
        position: int, contract: Contract, params: ResolvedParameters
    ) -> tuple[Decisions, Decisions]:
        rules = book.program_rules(contract.program)
        payer = contract.coverage_payer
        per_activity = decide(
            [r for r in rules if r.rule.scope == "activity"], activity_scope, params, days, payer
        )
        per_month = decide(
            [r for r in rules if r.rule.scope == "participant_month"],
            months.scope.with_params({}, payer),
            params,
            months.as_of,
            payer,
        )
        return per_activity, per_month

    return decide_for


@dataclass
class Adjudication:
    """The canonical activities, their facts (per activity and per participant-month), the
    staff cost of each, the activity rows validation refused, and the rule decisions made so
    far, remembered per contract."""

    acts: pd.DataFrame
    activity_scope: FactScope
    months: MonthContext
    hourly_cost: np.ndarray
    refused: pd.DataFrame
    decisions: dict[str, tuple[Decisions, Decisions]] = field(default_factory=dict)
    # Activity columns as NumPy arrays, each converted once: every contract's offer, its
    # lines and its codes read the same few columns, and on the handful of rows of a live
    # post pandas' cost per read is most of what reading costs.
    _arrays: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)
    _coded: dict[str, tuple[np.ndarray, pd.CategoricalDtype]] = field(
        default_factory=dict, repr=False, compare=False
    )

    @classmethod
    def of(cls, data: Dataset, prepared: PreparedData | None = None) -> Adjudication:
        """The adjudication of a dataset's activities (``prepared``: its participants'
        facts, already built, as a live session keeps them)."""
        prepared = prepared or PreparedData.build(data)
        acts = canonical_activities(data, prepared)
        days = acts["_day"].to_numpy(np.int64)
        activity_scope = FactScope(
            prepared, acts["_code"].to_numpy(np.int64), days, days, activity=acts
        )
        refused = data.refused.get("activities")
        return cls(
            acts,
            activity_scope,
            month_context(prepared, acts),
            staff_hourly_cost(prepared, acts),
            refused if refused is not None else pd.DataFrame(),
        )

    @property
    def days(self) -> np.ndarray:
        return self.array("_day")

    def array(self, name: str) -> np.ndarray:
        """An activity column as a NumPy array, in canonical order: helper integers as
        int64, minutes as int64 (0 where blank), recorded quantity and amount as floats
        (NaN where blank), any other column as text ('' where blank). Shared: read only."""
        if name not in self._arrays:
            column = self.acts[name]
            if name in _INTEGERS:
                values = column.to_numpy(np.int64)
            elif name == "minutes":
                values = column.to_numpy(dtype=np.int64, na_value=0)
            elif name in _NUMBERS:
                values = column.to_numpy(dtype=float, na_value=np.nan)
            else:
                values = column.astype(object).fillna("").to_numpy(dtype=object)
            values.flags.writeable = False
            self._arrays[name] = values
        return self._arrays[name]

    def coded(self, name: str) -> tuple[np.ndarray, pd.CategoricalDtype]:
        """A text column as integer codes (−1 where missing) and a categorical dtype: a
        categorical column's own, any other column's sorted distinct values. Factorized
        once: lines and denials take their text columns by code (and a dtype built once
        validates its categories once)."""
        if name not in self._coded:
            column = self.acts[name]
            if isinstance(column.dtype, pd.CategoricalDtype):
                codes, kinds = column.cat.codes.to_numpy(), column.dtype
            elif name == "participant_id":
                codes, kinds = self._participant_codes(column.dtype)
            else:
                codes, categories = pd.factorize(column, sort=True)
                kinds = pd.CategoricalDtype(categories)
            # In the width a categorical of these categories keeps its codes: lines and
            # denials gather them for millions of rows, and a narrow gather needs no cast.
            codes = np.asarray(pd.Categorical.from_codes(codes, dtype=kinds, validate=False).codes)
            codes.flags.writeable = False
            self._coded[name] = (codes, kinds)
        return self._coded[name]

    def _participant_codes(self, dtype: Any) -> tuple[np.ndarray, pd.CategoricalDtype]:
        """``pd.factorize(participant_id, sort=True)`` read off the participant codes the
        activities already carry (each one's rank among the sorted participant ids): a count
        per code instead of hashing and sorting a million id strings."""
        ids = np.asarray(self.activity_scope.data.ids, dtype=object)
        code = self.array("_code")
        used = np.bincount(code, minlength=len(ids)) > 0
        renumbered = np.cumsum(used) - 1
        return renumbered[code], pd.CategoricalDtype(pd.Index(ids[used], dtype=dtype))

    def decider(self, book: RuleBook) -> Decider:
        """The batch evaluator's decisions, each contract's made once and remembered. The
        key leaves out ``caps``: rules read a contract's terms and parameters, never its
        limits, so a contract whose budget was changed reuses its decisions."""
        decide_afresh = batch_decider(book, self.activity_scope, self.months, self.days)

        def decide_for(
            position: int, contract: Contract, params: ResolvedParameters
        ) -> tuple[Decisions, Decisions]:
            key = contract.model_dump_json(exclude={"caps"})
            if key not in self.decisions:
                self.decisions[key] = decide_afresh(position, contract, params)
            return self.decisions[key]

        return decide_for

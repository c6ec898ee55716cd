"""``Session``: a decision the moment a worker saves an activity.

A case-management system opens a session over its participants, coverage and events, then
posts activities one at a time. Each post is validated like a batch row; its rule decisions
come from durable-rules, fed with facts computed by casefund's fact layer (so a fact has one
definition); the participant's activities are then allocated by the batch allocator with the
contracts' remaining budgets, so the session's lines are the batch engine's lines.

Known limits of durable-rules are kept behind this adapter:
- a fact that matches no rule makes durable-rules raise: every ruleset has a catch-all rule;
- durable-rules keeps at most 1024 live sessions (sids): all facts are posted under one sid
  and retracted as soon as their rules have fired, so no state accumulates;
- durable-rules has no date type: days are posted as integer day numbers (``casefund_day``);
- the host is created and warmed (every ruleset compiled) in ``Session.__init__``, before any
  thread may post; posts are serialized by a lock.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from casefund.allocate.waterfall import MonthContext, allocate, contract_order
from casefund.engine.decide import Decisions, collect
from casefund.engine.params import ResolvedParameters
from casefund.evaluation import (
    LINE_COLUMNS,
    _dataset,
    _lines,
    canonical_activities,
    month_context,
    rule_book,
    staff_hourly_cost,
)
from casefund.events.compile import Atoms
from casefund.events.rulesets import ACTIVITY_RULESET, DAY, MONTH_RULESET, ContractRules, build
from casefund.facts.calendar import day_to_date, to_days
from casefund.facts.prepared import PreparedData
from casefund.facts.scope import FactScope
from casefund.io.load import Dataset
from casefund.io.record import plain_record
from casefund.io.sources import TableSource
from casefund.io.validate import validate_table
from casefund.payers.contracts import Contract
from casefund.records.tables import TABLES
from casefund.rules.loader import CompiledRule


class DurableUnavailable(ImportError):
    """durable-rules is not installed (the ``durable`` extra; Python below 3.13)."""


def _host() -> Any:
    try:
        from durable.engine import Host  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - depends on the interpreter
        raise DurableUnavailable(
            "event-at-a-time decisions need durable-rules: pip install 'casefund[durable]' "
            "(durable-rules 2.0.28 builds on Python 3.12 and earlier)"
        ) from exc
    return Host()


@dataclass
class Decision:
    """What one post decided: the activity's lines, or why it was refused."""

    activity_id: str
    status: str
    lines: pd.DataFrame
    problems: list[str] = field(default_factory=list)

    @property
    def contract_id(self) -> str:
        billed = self.lines.loc[self.lines["status"].isin(["billable", "bundled"])]
        return str(billed["contract_id"].iloc[0]) if len(billed) else ""

    @property
    def units(self) -> float:
        return float(self.lines["units"].sum()) if len(self.lines) else 0.0

    @property
    def amount(self) -> float:
        return float(self.lines["amount"].sum()) if len(self.lines) else 0.0

    @property
    def reasons(self) -> str:
        return ";".join(sorted({r for text in self.lines["reasons"].astype(str)
                                for r in text.split(";") if r}))


def _json_value(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return str(value) if not isinstance(value, int | float) else value


class Session:
    """Post activities one at a time; read decisions and the running lines."""

    def __init__(
        self,
        data: str | Path | Mapping[str, TableSource | None] | Dataset | None = None,
        contracts: str | Path | list[Contract] | dict[str, Any] | None = None,
        **tables: TableSource | None,
    ) -> None:
        self._host = _host()
        self._lock = threading.Lock()
        self.dataset = _dataset(data, contracts, tables)
        self.book = rule_book()
        self.prepared = PreparedData.build(self.dataset)
        self.contracts = contract_order(self.dataset.contracts)
        self._fired: list[tuple[int, str]] = []
        definitions, self._compiled = build(self.book, self.contracts, self._recorder)
        self._host.set_rulesets(definitions)
        self._activities: dict[str, pd.DataFrame] = {}  # participant → typed rows
        self._fired_by_activity: dict[str, set[tuple[int, str]]] = {}
        self._fired_by_month: dict[tuple[int, int], set[tuple[int, str]]] = {}
        self._lines: dict[str, pd.DataFrame] = {}  # participant → lines
        self._spent: dict[str, dict[str, float]] = {}  # participant → contract → dollars
        self._row = 0
        prior = self.dataset.activities
        if len(prior):  # restarting from stored state: replay in service order
            ordered = prior.sort_values(["date", "participant_id", "activity_id"])
            for record in ordered.to_dict("records"):
                self.post({str(k): v for k, v in record.items()})

    # --- durable plumbing ---------------------------------------------------------------
    def _recorder(self, ruleset: str, position: int, rule_id: str) -> Any:
        def run(context: Any) -> None:
            if position >= 0:
                self._fired.append((position, rule_id))
        return run

    def _fire(self, ruleset: str, fact: dict[str, Any]) -> set[tuple[int, str]]:
        self._row += 1
        fact = {**fact, "sid": "0", "casefund_row": self._row}
        self._fired = []
        self._host.assert_fact(ruleset, fact)
        self._host.retract_fact(ruleset, fact)
        return set(self._fired)

    @staticmethod
    def _atom_values(atoms: Atoms, scope: FactScope, entry: ContractRules, row: int
                     ) -> dict[str, Any]:
        values: dict[str, Any] = {}
        params = entry.params.at(day_to_date(scope.as_of[row]))
        bound = scope.with_params(params, entry.contract.coverage_payer)
        for name, node in atoms.nodes.items():
            result = node.evaluate(bound)
            value = result.iloc[row] if isinstance(result, pd.Series) else result
            value = _json_value(value)
            if value is not None:
                values[name] = value
        return values

    # --- posting ------------------------------------------------------------------------
    def post(self, activity: Mapping[str, Any]) -> Decision:
        """Validate, decide and allocate one activity; returns its lines at once."""
        with self._lock:
            return self._post(activity)

    def _post(self, activity: Mapping[str, Any]) -> Decision:
        activity_id = str(activity.get("activity_id", ""))
        problems: list[str] = []
        row = plain_record(activity, TABLES["activities"])
        if row is None:  # not plain: the batch validator types it or says what is wrong
            checked = validate_table(pd.DataFrame([dict(activity)]), TABLES["activities"],
                                     "posted activity")
            problems = [f"{r.field}: {r.problem}" for r in checked.rejects.itertuples()]
            row = checked.frame
        if not problems:
            pid = str(row["participant_id"].iloc[0])
            if pid not in set(self.prepared.ids):
                problems.append(f"participant_id: unknown participant_id '{pid}'")
            elif activity_id in self._fired_by_activity:
                problems.append(f"activity_id: '{activity_id}' was already posted; retract it "
                                "first to correct it")
        if problems:
            empty = pd.DataFrame(columns=LINE_COLUMNS)
            return Decision(activity_id, "rejected", empty, problems)
        pid = str(row["participant_id"].iloc[0])
        mine = pd.concat([self._activities.get(pid, row.iloc[0:0]), row], ignore_index=True)
        self._activities[pid] = mine
        self._reallocate(pid, decide_day=int(to_days(row["date"])[0]))
        lines = self._lines[pid]
        return Decision(activity_id, str(lines.loc[lines["activity_id"] == activity_id,
                                                   "status"].iloc[0]),
                        lines.loc[lines["activity_id"] == activity_id].reset_index(drop=True))

    def retract(self, activity_id: str) -> None:
        """Withdraw a posted activity (to correct it, retract and post again)."""
        with self._lock:
            for pid, frame in self._activities.items():
                if activity_id in set(frame["activity_id"].astype(str)):
                    kept = frame.loc[frame["activity_id"].astype(str) != activity_id]
                    self._activities[pid] = kept.reset_index(drop=True)
                    self._fired_by_activity.pop(activity_id, None)
                    self._reallocate(pid, decide_day=None)
                    return
            raise KeyError(f"activity '{activity_id}' was never posted")

    def lines(self) -> pd.DataFrame:
        """Every posted activity's current lines, in the batch engine's order."""
        frames = [f for f in self._lines.values() if len(f)]
        if not frames:
            return pd.DataFrame(columns=LINE_COLUMNS)
        out = pd.concat(frames, ignore_index=True)
        order = np.lexsort((out["activity_id"].astype(str).to_numpy(),
                            out["participant_id"].astype(str).to_numpy(),
                            out["service_date"].astype(str).to_numpy()))
        return out.iloc[order].reset_index(drop=True)

    # --- allocation ---------------------------------------------------------------------
    def _reallocate(self, pid: str, decide_day: int | None) -> None:
        view = Dataset({**self.dataset.tables, "activities": self._activities[pid]},
                       self.dataset.contracts, self.dataset.rejects)
        acts = canonical_activities(view, self.prepared)
        if acts.empty:
            self._lines[pid] = pd.DataFrame(columns=LINE_COLUMNS)
            self._spent[pid] = {}
            return
        days = acts["_day"].to_numpy(np.int64)
        scope = FactScope(self.prepared, acts["_code"].to_numpy(np.int64), days, days,
                          activity=acts)
        months = month_context(self.prepared, acts)
        ids = acts["activity_id"].astype(str).to_numpy()
        for i, activity_id in enumerate(ids):
            stale = decide_day is not None and days[i] >= decide_day
            if activity_id not in self._fired_by_activity or stale:
                fact: dict[str, Any] = {DAY: int(days[i])}
                for entry in self._compiled:
                    fact.update(self._atom_values(entry.activity_atoms, scope, entry, i))
                self._fired_by_activity[activity_id] = self._fire(ACTIVITY_RULESET, fact)
        month_fired = self._month_decisions(months)
        spent_elsewhere = {
            c.id: sum(s.get(c.id, 0.0) for p, s in self._spent.items() if p != pid)
            for c in self.contracts
        }

        def decider(position: int, contract: Contract, params: ResolvedParameters
                    ) -> tuple[Decisions, Decisions]:
            entry = self._compiled[position]
            fired = [self._fired_by_activity[a] for a in ids]
            return (_decisions(entry.activity_rules, position, fired, days, params),
                    _decisions(entry.month_rules, position, month_fired, months.as_of, params))

        hourly = staff_hourly_cost(self.dataset, acts)
        allocation = allocate(acts, self.contracts, self.book, scope, months, hourly,
                              decider=decider, budget_spent=spent_elsewhere)
        lines = _lines(acts, self.contracts, allocation, self.book, scope)
        self._lines[pid] = lines
        billed = lines.loc[lines["status"] == "billable"]
        totals = billed.groupby("contract_id", observed=True)["amount"].sum()
        self._spent[pid] = {str(k): float(v) for k, v in totals.items()}

    def _month_decisions(self, months: MonthContext) -> list[set[tuple[int, str]]]:
        out = []
        for i, (code, as_of) in enumerate(zip(months.scope.codes, months.as_of, strict=True)):
            key = (int(code), int(as_of))
            if key not in self._fired_by_month:
                fact: dict[str, Any] = {DAY: int(as_of)}
                for entry in self._compiled:
                    fact.update(self._atom_values(entry.month_atoms, months.scope, entry, i))
                self._fired_by_month[key] = self._fire(MONTH_RULESET, fact)
            out.append(self._fired_by_month[key])
        return out


def _decisions(rules: list[Any], position: int, fired: list[set[tuple[int, str]]],
               days: np.ndarray, params: ResolvedParameters) -> Decisions:
    """The batch evaluator's Decisions, from which durable rules fired on each row."""

    def known_true(rule: CompiledRule) -> np.ndarray:
        return np.array([(position, rule.id) in f for f in fired], dtype=bool)

    return collect(rules, params, days, known_true)

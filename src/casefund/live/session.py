"""``Session``: a decision the moment a worker saves an activity.

A case-management system opens a session over its participants, coverage and events, then
posts activities one at a time. Each post is validated like a batch row; the participant's
activities are then decided and allocated with the contracts' remaining budgets, so the
session's lines are the batch engine's lines. Two backends decide the rules:

- ``native`` (the default, every supported Python): casefund's own rule engine, the one
  ``evaluate()`` runs, on the participant's activities;
- ``durable`` (the ``durable`` extra; durable-rules 2.0.28 builds on Python 3.12 and
  earlier): durable-rules, compiled from the same rule files and fed with facts computed by
  casefund's fact layer (so a fact has one definition), for integrators who run it.

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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from casefund.allocate.lines import lines_of, no_lines
from casefund.allocate.waterfall import allocate, contract_order
from casefund.engine.adjudication import Adjudication, Decider
from casefund.engine.decide import Decisions, collect
from casefund.facts.activities import MonthContext
from casefund.facts.calendar import to_days
from casefund.facts.prepared import PreparedData
from casefund.facts.scope import FactScope
from casefund.io.frozen import Frozen
from casefund.io.load import Dataset, as_dataset
from casefund.io.record import PlainRecord, plain_frozen
from casefund.io.sources import TableSource
from casefund.io.validate import ROW, validate_table
from casefund.live.compile import Atoms
from casefund.live.native import Outcome, decide_block, decide_rows, requirements
from casefund.live.rulesets import (
    ACTIVITY_RULESET,
    DAY,
    MONTH_RULESET,
    ContractRules,
    build,
    contract_rules,
)
from casefund.payers.terms import ResolvedParameters
from casefund.records.contracts import Contract
from casefund.records.tables import TABLES
from casefund.records.vocabulary import VOCABULARY
from casefund.reports.typed import typed
from casefund.rules.book import rule_book
from casefund.rules.loader import CompiledRule

BACKENDS = ("native", "durable")


class DurableUnavailable(ImportError):
    """durable-rules is not installed (the ``durable`` extra; Python below 3.13)."""


def _host() -> Any:
    try:
        from durable.engine import Host  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - depends on the interpreter
        raise DurableUnavailable(
            "Session(backend='durable') needs durable-rules: pip install 'casefund[durable]' "
            "(durable-rules 2.0.28 builds on Python 3.12 and earlier)"
        ) from exc
    return Host()


@dataclass
class Decision:
    """What one post decided: the activity's lines, or why it was refused."""

    activity_id: str
    status: str
    _frame: pd.DataFrame = field(repr=False)
    _rows: np.ndarray = field(repr=False)
    problems: list[str] = field(default_factory=list)

    @property
    def lines(self) -> pd.DataFrame:
        """The activity's lines right after the post, typed as ``evaluate().lines`` is."""
        return typed("lines", self._built)

    @cached_property
    def _built(self) -> pd.DataFrame:
        """The activity's lines as built (read by each answer below: taken once)."""
        return self._frame.iloc[self._rows].reset_index(drop=True)

    @property
    def contract_id(self) -> str:
        lines = self._built
        billed = lines.loc[lines["status"].isin(["billable", "bundled"])]
        return str(billed["contract_id"].iloc[0]) if len(billed) else ""

    @property
    def units(self) -> float:
        return float(self._built["units"].sum())

    @property
    def amount(self) -> float:
        return float(self._built["amount"].sum())

    @property
    def reasons(self) -> str:
        texts = self._built["reasons"].astype(str)
        return ";".join(sorted({r for text in texts for r in text.split(";") if r}))


_NO_LINES = no_lines()
_PROBE_DAY = "2024-01-01"  # any day: the indexes cover every participant and date
_NO_ROWS = np.zeros(0, dtype=np.int64)
_NO_FROZEN = Frozen(_NO_LINES)


def _python_values(result: Any, rows: np.ndarray) -> list[Any]:
    """A fact column's values at ``rows`` as JSON-ready Python values (None: unknown)."""
    if not isinstance(result, pd.Series):
        return [_json_value(result)] * len(rows)
    values = result.to_numpy(dtype=object, na_value=None)[rows].tolist()  # type: ignore[call-overload]
    return [
        value if type(value) in _PLAIN or value is None else _json_value(value) for value in values
    ]


_PLAIN = (bool, int, float, str)


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
    """Post activities one at a time (or many at once); read decisions and running lines.

    ``backend`` chooses who decides the rules (see the module docstring); both give the
    lines ``evaluate()`` gives for the same activities posted in service order."""

    def __init__(
        self,
        data: str | Path | Mapping[str, TableSource | None] | Dataset | None = None,
        contracts: str | Path | list[Contract] | dict[str, Any] | None = None,
        *,
        backend: str = "native",
        **tables: TableSource | None,
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
        self.backend = backend
        self._host = _host() if backend == "durable" else None
        self._lock = threading.Lock()
        self.dataset = as_dataset(data, contracts, tables)
        self.book = rule_book()
        self.prepared = PreparedData.build(self.dataset)
        self._known = set(self.prepared.ids)
        self.contracts = contract_order(self.dataset.contracts)
        self._fired: list[tuple[int, str]] = []
        if self._host is not None:
            definitions, self._compiled = build(self.book, self.contracts, self._recorder)
            self._host.set_rulesets(definitions)
            # durable decides what held; these say where a requirement was not known
            self._requirements: list[ContractRules] = requirements(self._compiled)
        else:
            self._compiled = contract_rules(self.book, self.contracts)
            self._requirements = []  # the native kernels say where anything was not known
        self._posted: set[str] = set()  # activity ids posted and not retracted
        # participant → typed rows, and activity id → participant. Frames a session keeps
        # are frozen (NumPy arrays, which the garbage collector never walks): kept as
        # pandas objects, every full collection walked all of them (see casefund.io.frozen).
        self._activities: dict[str, Frozen] = {}
        self._owner: dict[str, str] = {}
        # What each rule decided on each activity and participant-month, kept between posts.
        self._outcome_of_activity: dict[str, Outcome] = {}
        self._outcome_of_month: dict[tuple[int, int], Outcome] = {}
        # participant → the lines of the allocation that last touched them, and their rows
        # in it (frozen; shared by the participants allocated together)
        self._lines: dict[str, tuple[Frozen, np.ndarray]] = {}
        # What each contract has billed, in cents (exact under any order of posts): per
        # participant, and in all, so a post reads the others' spending in O(contracts).
        self._spent: dict[str, dict[str, int]] = {}
        self._spent_total: dict[str, int] = {c.id: 0 for c in self.contracts}
        self._row = 0
        self._build_fact_indexes()
        prior = self.dataset.activities
        if len(prior):  # restarting from stored state: admitted in one batch
            self._admit(
                prior.drop(columns=[ROW], errors="ignore"),
                [str(a) for a in prior["activity_id"]],
                {},
            )

    def _build_fact_indexes(self) -> None:
        """Build, before any post, the indexes the rules' facts search (every participant's
        enrollment spans, determinations, events, observations): every rule is decided once
        on a probe activity that is never kept. Built on the first post instead, they were
        most of its time (37 ms with 10,000 participants)."""
        if not len(self.prepared.ids):
            return
        probe = plain_frozen(
            {
                "activity_id": "probe",
                "participant_id": str(self.prepared.ids[0]),
                "date": _PROBE_DAY,
                "activity": VOCABULARY["activity"][0],
                "minutes": 0,
            },
            TABLES["activities"],
        )
        if probe is None:  # never for a record this plain; then the first post builds them
            return
        view = Dataset(
            {**self.dataset.tables, "activities": probe.frozen.thaw()},
            self.dataset.contracts,
            self.dataset.rejects,
        )
        one = Adjudication.of(view, self.prepared)
        row = np.zeros(1, dtype=np.int64)
        # the column kernels: every condition evaluated whole, none cut short by another
        decide_block(self._compiled, one.activity_scope, row, False)
        decide_block(self._compiled, one.months.scope, row, True)

    # --- durable plumbing ---------------------------------------------------------------
    def _recorder(self, ruleset: str, position: int, rule_id: str) -> Any:
        def run(context: Any) -> None:
            if position >= 0:
                self._fired.append((position, rule_id))

        return run

    def _fire(self, ruleset: str, fact: dict[str, Any]) -> set[tuple[int, str]]:
        assert self._host is not None
        self._row += 1
        fact = {**fact, "sid": "0", "casefund_row": self._row}
        self._fired = []
        self._host.assert_fact(ruleset, fact)
        self._host.retract_fact(ruleset, fact)
        return set(self._fired)

    def _outcomes(self, scope: FactScope, rows: np.ndarray, monthly: bool) -> list[Outcome]:
        """What each contract's rules decide on ``rows``: by one-row kernels (native), or
        by durable-rules on facts from the fact layer. durable fires only where a condition
        is known true; where a requirement did not fire, the fact layer's kernels say
        whether it was false or not known (a requirement not known fails, and the line
        says so), on these rows only."""
        if self._host is None:
            return decide_rows(self._compiled, scope, rows, monthly)
        ruleset = MONTH_RULESET if monthly else ACTIVITY_RULESET
        facts = self._facts(
            (lambda e: e.month_atoms) if monthly else (lambda e: e.activity_atoms),
            scope,
            self._compiled,
            rows,
        )
        fired = [dict.fromkeys(self._fire(ruleset, fact), True) for fact in facts]
        unknown = decide_rows(self._requirements, scope, rows, monthly, unknown_only=True)
        # durable's firing decides what held; the rest of a requirement is false or unknown
        return [{**not_known, **true} for true, not_known in zip(fired, unknown, strict=True)]

    @staticmethod
    def _facts(
        atoms_of: Any, scope: FactScope, compiled: list[ContractRules], rows: np.ndarray
    ) -> list[dict[str, Any]]:
        """The durable fact of each of ``rows``: its day and every contract's atom values,
        computed a column at a time (rows grouped by the parameter values in force)."""
        facts: list[dict[str, Any]] = [{DAY: int(d)} for d in scope.as_of[rows]]
        days = scope.as_of[rows]
        for entry in compiled:
            atoms: Atoms = atoms_of(entry)
            if not atoms.nodes:
                continue
            by_values: dict[str, tuple[dict[str, Any], list[int]]] = {}
            for day in np.unique(days).tolist():
                key, values = entry.values_on(day)
                by_values.setdefault(key, (values, []))[1].append(day)
            for values, group_days in by_values.values():
                picked = np.flatnonzero(np.isin(days, group_days))
                bound = scope.with_params(values, entry.contract.coverage_payer)
                for name, node in atoms.nodes.items():
                    column = _python_values(node.evaluate(bound), rows[picked])
                    for position, value in zip(picked, column, strict=True):
                        if value is not None:
                            facts[position][name] = value
        return facts

    # --- posting ------------------------------------------------------------------------
    def post(self, activity: Mapping[str, Any]) -> Decision:
        """Validate, decide and allocate one activity; returns its decision at once."""
        with self._lock:
            record = plain_frozen(activity, TABLES["activities"])
            if record is None:  # not plain: the batch validator types it or says what is wrong
                return self._post_frame(pd.DataFrame([dict(activity)]))[0]
            return self._admit_record(record, str(activity.get("activity_id", "")))

    def _admit_record(self, record: PlainRecord, given_id: str) -> Decision:
        """One plain record: :meth:`_admit` without a frame, the record kept as it was
        frozen (the common post)."""
        pid = str(record.values["participant_id"])
        activity_id = str(record.values["activity_id"])
        problem = self._refusal(pid, activity_id)
        if problem is not None:
            return Decision(given_id, "rejected", _NO_LINES, _NO_ROWS, [problem])
        kept = self._kept_with(pid, record.frozen)
        self._posted.add(activity_id)
        self._owner[activity_id] = pid
        day = int(to_days(np.array([record.values["date"]], dtype="datetime64[ns]"))[0])
        lines = self._reallocate({pid: day}, {pid: kept.thaw()})
        at = np.flatnonzero(lines["activity_id"].to_numpy(dtype=object) == activity_id)
        return Decision(given_id, str(lines["status"].iloc[at[0]]), lines, at)

    def _kept_with(self, pid: str, rows: Frozen) -> Frozen:
        """The participant's kept activities with ``rows`` after them, kept. Joined as
        arrays: thawing, concatenating and freezing again cost three times as much."""
        before = self._activities.get(pid)
        kept = rows if before is None else before.appended(rows)
        self._activities[pid] = kept
        return kept

    def _refusal(self, pid: str, activity_id: str) -> str | None:
        """Why a posted activity cannot be taken (None: it can)."""
        if pid not in self._known:
            return f"participant_id: unknown participant_id '{pid}'"
        if activity_id in self._posted:
            return (
                f"activity_id: '{activity_id}' was already posted; retract it first to correct it"
            )
        return None

    def post_many(self, activities: pd.DataFrame | Iterable[Mapping[str, Any]]) -> list[Decision]:
        """Many activities at once (a day's import, a backlog): one decision each, in the
        order given, exactly as if posted one by one in service order."""
        frame = (
            activities
            if isinstance(activities, pd.DataFrame)
            else pd.DataFrame([dict(a) for a in activities])
        )
        with self._lock:
            return self._post_frame(frame)

    def _post_frame(self, raw: pd.DataFrame) -> list[Decision]:
        checked = validate_table(raw, TABLES["activities"], "posted activities")
        problems: dict[int, list[str]] = {}
        rejects = checked.rejects
        for row, name, problem in zip(
            rejects["row"].tolist(),
            rejects["field"].tolist(),
            rejects["problem"].tolist(),
            strict=True,
        ):
            problems.setdefault(int(row), []).append(f"{name}: {problem}")
        ids = (
            raw["activity_id"].astype(object).fillna("").astype(str).tolist()
            if "activity_id" in raw
            else [""] * len(raw)
        )
        return self._admit(checked.frame, ids, problems)

    def _admit(
        self, typed: pd.DataFrame, ids: list[str], problems: dict[int, list[str]]
    ) -> list[Decision]:
        """Refuse unknown participants and ids posted before, then allocate the rest.

        ``typed`` holds the valid rows with their 1-based position among ``ids`` (``_row``);
        ``problems`` what is wrong with the others, by position.
        """
        rows = typed[ROW].to_numpy(np.int64) if ROW in typed else np.arange(1, len(typed) + 1)
        pids = typed["participant_id"].to_numpy(dtype=object)
        activity_ids = typed["activity_id"].to_numpy(dtype=object)
        ok = np.ones(len(typed), dtype=bool)
        for i, (pid, activity_id) in enumerate(zip(pids, activity_ids, strict=True)):
            problem = self._refusal(pid, activity_id)
            if problem is not None:
                problems.setdefault(int(rows[i]), []).append(problem)
                ok[i] = False
        typed_id = dict(zip(rows.tolist(), activity_ids.tolist(), strict=True))
        if ROW not in typed and ok.all():  # one plain record: nothing to take out
            accepted = typed
        else:
            accepted = typed.loc[ok, [c for c in typed.columns if c != ROW]]
        decide_from: dict[str, int | None] = {}
        current: dict[str, pd.DataFrame] = {}  # the participants' activities, as kept
        if len(accepted):
            days = to_days(accepted["date"])
            groups = _rows_by_value(pids[ok])
            for pid, group in groups.items():
                mine = (accepted if len(groups) == 1 else accepted.iloc[group]).reset_index(
                    drop=True
                )
                first = str(pid) not in self._activities
                kept = self._kept_with(str(pid), Frozen(mine))
                current[str(pid)] = mine if first else kept.thaw()
                decide_from[str(pid)] = int(days[group].min())
            posted = [str(a) for a in activity_ids[ok]]
            owners = [str(p) for p in pids[ok]]
            self._posted.update(posted)
            self._owner.update(zip(posted, owners, strict=True))
        lines = self._reallocate(decide_from, current) if decide_from else _NO_LINES
        where = _rows_by_value(lines["activity_id"]) if len(lines) else {}
        status = lines["status"].to_numpy(dtype=object) if len(lines) else None
        out = []
        for position, activity_id in enumerate(ids, start=1):
            if position in problems:
                out.append(
                    Decision(activity_id, "rejected", _NO_LINES, _NO_ROWS, problems[position])
                )
                continue
            at = np.asarray(where[typed_id[position]])
            assert status is not None
            out.append(Decision(activity_id, str(status[at[0]]), lines, at))
        return out

    def retract(self, activity_id: str) -> None:
        """Withdraw a posted activity (to correct it, retract and post again)."""
        with self._lock:
            pid = self._owner.get(activity_id)
            if pid is None or activity_id not in self._posted:
                raise KeyError(f"activity '{activity_id}' was never posted")
            frame = self._activities[pid].thaw()
            mine = (frame["activity_id"].astype(str) == activity_id).to_numpy()
            kept = frame.loc[~mine].reset_index(drop=True)
            self._activities[pid] = Frozen(kept)
            self._outcome_of_activity.pop(activity_id, None)
            self._posted.discard(activity_id)
            del self._owner[activity_id]
            # Later activities counted this one (earlier services, running totals).
            self._reallocate({pid: int(to_days(frame.loc[mine, "date"]).min())}, {pid: kept})

    def lines(self) -> pd.DataFrame:
        """Every posted activity's current lines, in the batch engine's order, typed as
        ``evaluate().lines`` is."""
        rows_of: dict[int, tuple[Frozen, list[np.ndarray]]] = {}
        for frozen, rows in self._lines.values():
            if len(rows):
                rows_of.setdefault(id(frozen), (frozen, []))[1].append(rows)
        if not rows_of:
            return typed("lines", no_lines())
        out = pd.concat(
            [frozen.thaw().iloc[np.concatenate(parts)] for frozen, parts in rows_of.values()],
            ignore_index=True,
        )
        order = np.lexsort(
            (
                out["activity_id"].astype(str).to_numpy(),
                out["participant_id"].astype(str).to_numpy(),
                out["service_date"].astype(str).to_numpy(),
            )
        )
        return typed("lines", out.iloc[order].reset_index(drop=True))

    # --- allocation ---------------------------------------------------------------------
    def _reallocate(
        self, decide_from: dict[str, int | None], current: dict[str, pd.DataFrame]
    ) -> pd.DataFrame:
        """Re-allocate these participants' activities (``current``: as just kept, where the
        caller has them, so they are not thawed again) with the contracts' budgets as the
        other participants left them; returns their lines."""
        pids = list(decide_from)
        frames = [
            current[p] if p in current else self._activities[p].thaw()
            for p in pids
            if len(self._activities.get(p, ()))
        ]
        if not frames:
            activities = self.dataset.activities.iloc[0:0]
        else:  # one participant (a post) needs no copy: the adjudication reorders anyway
            activities = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
        view = Dataset(
            {**self.dataset.tables, "activities": activities},
            self.dataset.contracts,
            self.dataset.rejects,
        )
        adjudication = Adjudication.of(view, self.prepared)
        acts = adjudication.acts
        for pid in pids:
            self._lines[pid] = (_NO_FROZEN, _NO_ROWS)
            for contract_id, cents in self._spent.pop(pid, {}).items():
                self._spent_total[contract_id] -= cents
        if acts.empty:
            return _NO_LINES
        spent_elsewhere = {k: cents / 100 for k, cents in self._spent_total.items()}
        # The lines alone: bill() would also build the denials table, which a post never
        # shows (its lines carry the reasons); rows a post refuses never reach allocation.
        allocation = allocate(
            adjudication,
            self.contracts,
            self.book,
            decider=self._decider(adjudication, decide_from),
            budget_spent=spent_elsewhere,
        )
        lines = lines_of(adjudication, self.contracts, allocation, self.book)
        self._keep(lines)
        return lines

    def _decider(self, adjudication: Adjudication, decide_from: dict[str, int | None]) -> Decider:
        """Rule decisions for the activities never decided and for those on or after the
        earliest day posted (a later-posted earlier contact changes their facts); the rest
        keep what earlier posts decided."""
        days = adjudication.days
        scope = adjudication.activity_scope
        months = adjudication.months
        ids = adjudication.array("_activity_id")
        codes, kinds = adjudication.coded("participant_id")
        never = np.iinfo(np.int64).max
        first_day = np.array(
            [never if (d := decide_from.get(str(p))) is None else d for p in kinds.categories],
            dtype=np.int64,
        )[codes]
        undecided = np.array([a not in self._outcome_of_activity for a in ids], dtype=bool)
        stale = np.flatnonzero(undecided | (days >= first_day))
        for row, outcome in zip(stale, self._outcomes(scope, stale, False), strict=True):
            self._outcome_of_activity[ids[row]] = outcome
        month_fired = _by_rule(self._month_decisions(months))
        fired = _by_rule([self._outcome_of_activity[a] for a in ids])

        def decider(
            position: int, contract: Contract, params: ResolvedParameters
        ) -> tuple[Decisions, Decisions]:
            entry = self._compiled[position]
            return (
                _decisions(
                    entry.activity_rules,
                    position,
                    fired,
                    days,
                    params,
                ),
                _decisions(
                    entry.month_rules,
                    position,
                    month_fired,
                    months.as_of,
                    params,
                ),
            )

        return decider

    def _keep(self, lines: pd.DataFrame) -> None:
        """Each participant's new lines, and what each contract spent on them."""
        frozen = Frozen(lines)
        for owner_id, rows in _rows_by_value(lines["participant_id"]).items():
            self._lines[owner_id] = (frozen, rows)
        billed = np.flatnonzero((lines["status"] == "billable").to_numpy(dtype=bool))
        if not len(billed):
            return
        cents = (lines["amount"].to_numpy(dtype=float)[billed] * 100).round().astype(np.int64)
        owner_codes, owner_ids = _codes(lines["participant_id"])
        contract_codes, contract_ids = _codes(lines["contract_id"])
        pair = owner_codes[billed] * len(contract_ids) + contract_codes[billed]
        pairs, which = np.unique(pair, return_inverse=True)
        totals = np.zeros(len(pairs), dtype=np.int64)
        np.add.at(totals, np.asarray(which).reshape(-1), cents)
        for key, total in zip(pairs.tolist(), totals.tolist(), strict=True):
            owner_id = owner_ids[key // len(contract_ids)]
            contract = contract_ids[key % len(contract_ids)]
            self._spent.setdefault(owner_id, {})[contract] = total
            self._spent_total[contract] += total

    def _month_decisions(self, months: MonthContext) -> list[Outcome]:
        keys = list(zip(months.scope.codes.tolist(), months.as_of.tolist(), strict=True))
        new = np.array(
            [i for i, key in enumerate(keys) if key not in self._outcome_of_month], dtype=np.int64
        )
        if len(new):
            for i, outcome in zip(new, self._outcomes(months.scope, new, True), strict=True):
                self._outcome_of_month[keys[i]] = outcome
        return [self._outcome_of_month[key] for key in keys]


def _codes(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    """A text column as integer codes and the text of each code (billed lines carry every
    id, so no code is missing)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(np.int64), [str(c) for c in column.cat.categories]
    codes, uniques = pd.factorize(column.astype(object).to_numpy())
    return codes.astype(np.int64), [str(u) for u in uniques]


def _rows_by_value(values: pd.Series | np.ndarray) -> dict[str, np.ndarray]:
    """The row positions of each distinct value (as text): a group-by without pandas'
    fixed cost, which dominates for the few rows of one post."""
    text = np.asarray(values, dtype=object).astype(str)
    distinct, inverse = np.unique(text, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.cumsum(np.bincount(inverse, minlength=len(distinct)))[:-1]
    return dict(zip(distinct.tolist(), np.split(order, bounds), strict=True))


# Per (contract position, rule id): the rows where the condition held and where it was
# not known; the outcomes read once, not once per rule.
ByRule = tuple[int, dict[tuple[int, str], tuple[list[int], list[int]]]]


def _by_rule(outcomes: list[Outcome]) -> ByRule:
    index: dict[tuple[int, str], tuple[list[int], list[int]]] = {}
    for row, outcome in enumerate(outcomes):
        for key, value in outcome.items():
            index.setdefault(key, ([], []))[0 if value else 1].append(row)
    return len(outcomes), index


def _decisions(
    rules: list[Any],
    position: int,
    outcomes: ByRule,
    days: np.ndarray,
    params: ResolvedParameters,
) -> Decisions:
    """The batch evaluator's Decisions, from each row's outcome (where each rule held, and
    where it was not known)."""
    n, index = outcomes

    def truth(rule: CompiledRule) -> tuple[np.ndarray, np.ndarray]:
        true_rows, unknown_rows = index.get((position, rule.id), ([], []))
        holds = np.zeros(n, dtype=bool)
        holds[true_rows] = True
        unknown = np.zeros(n, dtype=bool)
        unknown[unknown_rows] = True
        return holds, unknown

    return collect(rules, params, days, truth)

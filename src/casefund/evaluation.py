"""``evaluate()``: input tables in, lines and reports out.

The flow is one-way: validate → derive facts → apply rules → allocate → report. Every stage
is a pure function of its inputs and the bundled rule files, and activities are put in a
canonical order (service day, participant, activity id) before anything depends on order,
so shuffled inputs give identical outputs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from casefund._version import __version__
from casefund.allocate.waterfall import (
    Decider,
    MonthContext,
    allocate,
    batch_decider,
    contract_order,
)
from casefund.engine.coding import code_activities
from casefund.engine.decide import Decisions
from casefund.engine.params import (
    ResolvedParameters,
    contract_parameters,
    contract_problems,
)
from casefund.facts.calendar import month_end, month_label, month_start, to_days
from casefund.facts.prepared import PreparedData
from casefund.facts.scope import FUNCTIONS, PARAMETERS_READ, FactScope
from casefund.io.errors import InputError
from casefund.io.load import Dataset, load_dataset
from casefund.io.sources import TableSource
from casefund.payers.contracts import Contract
from casefund.payers.fmap import FMAP_TERMS, health_home_fmap
from casefund.reports.admin_cap import build_admin_cap
from casefund.reports.breakdown import build_breakdown
from casefund.reports.charge_caps import build_charge_caps
from casefund.reports.claims import build_claims
from casefund.reports.eligibility import build_eligibility
from casefund.reports.frames import categorical, categorical_of
from casefund.reports.recertification import build_recertification
from casefund.rules.loader import RuleBook, load_rule_book

LINE_COLUMNS = [
    "activity_id",
    "participant_id",
    "month",
    "contract_id",
    "payer",
    "program",
    "status",
    "minutes",
    "units",
    "amount",
    "procedure_code",
    "modifiers",
    "reasons",
    "citations",
    "service_date",
    "activity",
    "payment",
    "federal_share",
]
STATUS = {1: "billable", 2: "bundled", 3: "unbillable"}


def _unique(values: np.ndarray) -> pd.Index:
    """Contract ids are unique by validation, except the blank 'no contract' slot at the end."""
    index: pd.Index = pd.Index(values, dtype=object)
    return index


OUTPUTS = ("lines", "claims", "eligibility", "breakdown", "admin_cap", "recertification",
           "charge_caps", "rejects")


@lru_cache(maxsize=1)
def rule_book() -> RuleBook:
    """The bundled rules, loaded and checked once per process."""
    return load_rule_book(sorted(FUNCTIONS), PARAMETERS_READ)


@dataclass
class Evaluation:
    lines: pd.DataFrame
    claims: pd.DataFrame
    eligibility: pd.DataFrame
    breakdown: pd.DataFrame
    admin_cap: pd.DataFrame
    recertification: pd.DataFrame
    charge_caps: pd.DataFrame
    rejects: pd.DataFrame
    version: str
    rules_hash: str
    input_hashes: dict[str, str] = field(default_factory=dict)
    dataset: Dataset | None = None
    as_of: dt.date | None = None  # the day recertification was judged on

    def outputs(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in OUTPUTS}

    def manifest(self) -> dict[str, Any]:
        return {
            "casefund_version": self.version,
            "rules_hash": self.rules_hash,
            "command": "evaluate",
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "inputs": self.input_hashes,
            "rows": {name: len(frame) for name, frame in self.outputs().items()},
        }

    def write(self, outdir: str | Path, xlsx: bool = False, keep: tuple[str, ...] = ()
              ) -> list[Path]:
        """Every output into ``outdir``, which becomes this run's folder: a folder holding
        files casefund did not write is refused; an earlier run's files are replaced."""
        from casefund.reports.write import write_outputs

        return write_outputs(self, Path(outdir), xlsx=xlsx, keep=keep)


def evaluate(
    data: str | Path | Mapping[str, TableSource | None] | Dataset | None = None,
    contracts: str | Path | list[Contract] | dict[str, Any] | None = None,
    *,
    backend: str = "pandas",
    partitions: int = 1,
    scheduler: str | None = None,
    as_of: dt.date | str | None = None,
    **tables: TableSource | None,
) -> Evaluation:
    """Evaluate activities against the bundled rules and the user's contracts.

    ``data`` is a folder of CSV/Parquet/XLSX files, a mapping of table name to source, or an
    already loaded :class:`Dataset`; tables may also be passed by keyword
    (``activities=df``). Bad rows never raise: they are in ``rejects``.
    ``partitions`` > 1 evaluates participant partitions one after another (bounded memory);
    ``backend="dask"`` runs them as Dask tasks (``scheduler``: a distributed scheduler
    address). Results are identical to one pass. ``as_of`` is the day recertification is
    judged on (default: the last service date).
    """
    day = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    if backend not in ("pandas", "dask"):
        raise ValueError(f"backend must be 'pandas' or 'dask', not {backend!r}")
    if backend == "pandas" and partitions <= 1:
        return evaluate_dataset(_dataset(data, contracts, tables), as_of=day)
    from casefund.scaleout import dask_runner, evaluate_partitioned, evaluate_raw, run_locally

    runner = dask_runner(scheduler) if backend == "dask" else run_locally
    if isinstance(data, Dataset):
        return evaluate_partitioned(data, max(partitions, 1), runner, as_of=day)
    # Raw tables are validated inside each partition: the whole typed input is never held.
    raw = {**data, **tables} if isinstance(data, Mapping) else (data if data is not None
                                                                  else dict(tables))
    return evaluate_raw(raw, contracts, max(partitions, 1), runner, as_of=day)


def _dataset(
    data: str | Path | Mapping[str, TableSource | None] | Dataset | None,
    contracts: str | Path | list[Contract] | dict[str, Any] | None,
    tables: Mapping[str, TableSource | None],
) -> Dataset:
    if isinstance(data, Dataset):
        return data
    if data is None:
        return load_dataset(dict(tables), contracts)
    if isinstance(data, Mapping):
        return load_dataset({**data, **tables}, contracts)
    return load_dataset(data, contracts)


def canonical_activities(data: Dataset, prepared: PreparedData) -> pd.DataFrame:
    """Activities in the order every later stage relies on, with integer helper columns."""
    acts = data.activities
    days = to_days(acts["date"])
    codes = prepared.codes_for(acts["participant_id"])
    id_rank = pd.factorize(acts["activity_id"].to_numpy(dtype=object), sort=True)[0]
    order = np.lexsort((id_rank, codes, days))
    frame = acts.iloc[order].reset_index(drop=True)
    day_values = days[order]
    months = day_values.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    frame["_day"] = day_values
    frame["_code"] = codes[order]
    frame["_month_index"] = months
    frame["_year"] = 1970 + months // 12
    frame["_month"] = _labels(day_values, month_label)
    frame["_date_text"] = _labels(
        day_values, lambda d: np.datetime_as_string(d.astype("datetime64[D]"), unit="D"))
    frame["_activity_id"] = frame["activity_id"].to_numpy(dtype=object)
    return frame


def _labels(days: np.ndarray, label: Any) -> pd.Categorical:
    """Text labels of day numbers as a categorical, formatting each distinct day once."""
    unique, inverse = np.unique(days, return_inverse=True)
    texts = pd.Index(np.asarray(label(unique)).astype(object), dtype=object)
    distinct, position = np.unique(texts.to_numpy(), return_inverse=True)
    codes = np.asarray(position)[np.asarray(inverse).reshape(-1)]
    result: pd.Categorical = pd.Categorical.from_codes(
        codes, categories=pd.Index(distinct, dtype=object))
    return result


def month_context(prepared: PreparedData, acts: pd.DataFrame) -> MonthContext:
    codes = acts["_code"].to_numpy(np.int64)
    months = acts["_month_index"].to_numpy(np.int64)
    combined = codes * 1_000_000 + months
    keys_, inverse = np.unique(combined, return_inverse=True)
    unique = np.stack([keys_ // 1_000_000, keys_ % 1_000_000], axis=1)
    first_day = (unique[:, 1].astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
                 if len(unique) else np.zeros(0, dtype=np.int64))
    as_of = month_end(first_day)
    scope = FactScope(prepared, unique[:, 0].astype(np.int64), as_of, month_start(first_day))
    return MonthContext(scope, as_of, np.asarray(inverse).reshape(-1).astype(np.int64))


def staff_hourly_cost(data: Dataset, acts: pd.DataFrame) -> np.ndarray:
    """Each activity's staff cost per hour from the staff table (NaN where not known)."""
    staff = data["staff"]
    if staff.empty or "staff_id" not in acts:
        return np.full(len(acts), np.nan)
    cost = staff.set_index(staff["staff_id"].astype(object))["hourly_cost"].astype(float)
    return acts["staff_id"].astype(object).map(cost).to_numpy(dtype=float, na_value=np.nan)


@dataclass
class Groundwork:
    """What an evaluation derives before any contract pays: the canonical activities, their
    facts, and each contract's rule decisions. None of it depends on a contract's caps, so
    settling a budget re-runs only the waterfall over the same groundwork (a partition keeps
    it on disk between budget passes instead of validating and deciding again)."""

    acts: pd.DataFrame
    activity_scope: FactScope
    months: MonthContext
    hourly_cost: np.ndarray
    refused_lines: pd.DataFrame
    decisions: dict[str, tuple[Decisions, Decisions]] = field(default_factory=dict)

    @classmethod
    def lay(cls, data: Dataset) -> Groundwork:
        prepared = PreparedData.build(data)
        acts = canonical_activities(data, prepared)
        days = acts["_day"].to_numpy(np.int64)
        activity_scope = FactScope(prepared, acts["_code"].to_numpy(np.int64), days, days,
                                   activity=acts)
        return cls(acts, activity_scope, month_context(prepared, acts),
                   staff_hourly_cost(data, acts), _rejected_lines(data, rule_book()))

    def decider(self, book: RuleBook) -> Decider:
        """The batch evaluator's decisions, each contract's made once and remembered. The
        key leaves out ``caps``: rules read a contract's terms and parameters, never its
        limits, so a contract whose budget was changed reuses its decisions."""
        decide_afresh = batch_decider(book, self.activity_scope, self.months,
                                      self.acts["_day"].to_numpy(np.int64))

        def decide_for(position: int, contract: Contract, params: ResolvedParameters
                       ) -> tuple[Decisions, Decisions]:
            key = contract.model_dump_json(exclude={"caps"})
            if key not in self.decisions:
                self.decisions[key] = decide_afresh(position, contract, params)
            return self.decisions[key]

        return decide_for

    def pay(self, contracts: list[Contract]) -> pd.DataFrame:
        """The lines: the payer waterfall over the contracts (in priority order), then the
        refused activity rows."""
        book = rule_book()
        allocation = allocate(self.acts, contracts, book, self.activity_scope, self.months,
                              self.hourly_cost, self.decider(book))
        lines = _lines(self.acts, contracts, allocation, book, self.activity_scope)
        return _append(lines, self.refused_lines)

    def eligibility(self) -> pd.DataFrame:
        scope = self.months.scope
        return build_eligibility(rule_book(), scope, np.asarray(scope.data.ids)[scope.codes],
                                 self.months.as_of, month_label(self.months.as_of))


def evaluate_dataset(data: Dataset, groundwork: Groundwork | None = None,
                     as_of: dt.date | None = None) -> Evaluation:
    """The whole evaluation of a validated dataset (``groundwork``: already laid for it)."""
    check_contracts(data.contracts, data.sources.get("contracts", "contracts"))
    ground = groundwork or Groundwork.lay(data)
    lines = ground.pay(contract_order(data.contracts))
    return assemble(data, lines, ground.eligibility(), input_hashes(data), as_of)


def check_contracts(contracts: list[Contract], origin: str = "contracts") -> None:
    """Refuse contracts whose parameters their programs do not know, or that leave out a
    term their program's sources do not supply."""
    problems = [p for c in contracts for p in contract_problems(rule_book(), c)]
    if problems:
        raise InputError(f"{origin}: " + "; ".join(problems))


def assemble(data: Dataset, lines: pd.DataFrame, eligibility: pd.DataFrame,
             hashes: dict[str, str], as_of: dt.date | None = None) -> Evaluation:
    """An evaluation from its lines and eligibility: every other output is built here, once,
    for the single pass and for combined partitions alike. ``as_of`` (default: the last
    service date) is the day recertification is judged on."""
    book = rule_book()
    day = as_of or last_service_date(lines)
    return Evaluation(
        lines=lines,
        claims=build_claims(lines),
        eligibility=eligibility,
        breakdown=build_breakdown(lines),
        admin_cap=admin_cap_report(data, book),
        recertification=build_recertification(data["coverage"], data.contracts, book, day),
        charge_caps=build_charge_caps(data["charges"], data.participants, data.contracts,
                                      book),
        rejects=data.rejects,
        version=__version__,
        rules_hash=book.digest,
        input_hashes=hashes,
        dataset=data,
        as_of=day,
    )


def last_service_date(lines: pd.DataFrame) -> dt.date | None:
    """The latest service date of an accepted activity (the run's 'as of' day)."""
    dates = lines.loc[(lines["status"] != "rejected").to_numpy(dtype=bool), "service_date"]
    used = pd.unique(dates.astype(object))
    text = max((str(d) for d in used if d), default="")
    return dt.date.fromisoformat(text) if text else None


def admin_cap_report(data: Dataset, book: RuleBook) -> pd.DataFrame:
    """The admin-cap output for the dataset's expenses and contracts."""
    return build_admin_cap(data["expenses"], data.contracts, book)


def input_hashes(data: Dataset) -> dict[str, str]:
    """A content hash per accepted table, so an audit can tell which inputs made an output."""
    out = {}
    for name, frame in data.tables.items():
        hashed = pd.util.hash_pandas_object(frame, index=False).to_numpy()
        out[name] = hashlib.sha256(hashed.tobytes()).hexdigest()[:16]
    out["contracts"] = contracts_hash(data.contracts)
    return out


def contracts_hash(contracts: list[Contract]) -> str:
    return hashlib.sha256(
        json.dumps([c.model_dump(mode="json") for c in contracts], sort_keys=True).encode()
    ).hexdigest()[:16]


def citations_of(book: RuleBook, reasons: pd.Categorical) -> pd.Categorical:
    """Citations per line, computed once per distinct set of reasons (a function of the
    reasons alone, so partitions leave it to be computed once their lines are combined)."""
    lookup = {i: entry.cite.short() for i, entry in book.reason_entries().items()}
    texts = [" | ".join(dict.fromkeys(lookup[i] for i in str(r).split(";") if i in lookup))
             for r in reasons.categories]
    if not len(reasons):
        return pd.Categorical([])
    # Different reason sets can share a citation text: make the categories unique first.
    unique, position = np.unique(np.asarray(texts, dtype=object), return_inverse=True)
    codes = np.asarray(position)[np.asarray(reasons.codes)]
    result: pd.Categorical = pd.Categorical.from_codes(codes, categories=pd.Index(unique))
    return result


def _take(column: pd.Series, rows: np.ndarray) -> pd.Categorical:
    """A column's values at ``rows`` as a categorical: cheap for repeated codes."""
    as_category = column.astype("category")
    codes = as_category.cat.codes.to_numpy()[rows]
    return pd.Categorical.from_codes(codes, categories=as_category.cat.categories)


def _lines(
    acts: pd.DataFrame,
    contracts: list[Contract],
    allocation: Any,
    book: RuleBook,
    scope: FactScope,
) -> pd.DataFrame:
    rows = allocation.activity_row
    contract_ix = allocation.contract
    contract_ids = np.array([c.id for c in contracts] + [""], dtype=object)
    payers = np.array([c.payer for c in contracts] + [""], dtype=object)
    programs = np.array([c.program for c in contracts] + [""], dtype=object)
    payments = np.array([c.payment for c in contracts] + [""], dtype=object)
    codes = np.full(len(rows), "", dtype=object)
    modifiers = np.full(len(rows), "", dtype=object)
    days = acts["_day"].to_numpy(np.int64)
    for position, contract in enumerate(contracts):
        selected = (contract_ix == position) & (allocation.status == 1)
        if not selected.any():
            continue
        at = rows[selected]
        params = contract_parameters(book, contract)
        code, mods = code_activities(book, contract.program, scope.subset(at), params, days[at],
                                     contract.coverage_payer)
        recorded_code = acts["procedure_code"].iloc[at].astype(object).fillna("").to_numpy()
        recorded_mods = acts["modifiers"].iloc[at].astype(object).fillna("").to_numpy()
        use_recorded = recorded_code != ""
        codes[selected] = np.where(use_recorded, recorded_code, code)
        modifiers[selected] = np.where(use_recorded, recorded_mods, mods)
    federal = _federal_share(contracts, contract_ix, allocation, book, days[rows])
    reasons = allocation.reasons
    pick = np.where(contract_ix >= 0, contract_ix, len(contracts))
    lines = pd.DataFrame(
        {
            "activity_id": acts["_activity_id"].to_numpy()[rows],
            "participant_id": _take(acts["participant_id"], rows),
            "month": _take(acts["_month"], rows),
            "contract_id": pd.Categorical.from_codes(pick, categories=_unique(contract_ids)),
            "payer": categorical_of(payers, pick),
            "program": categorical_of(programs, pick),
            "status": pd.Categorical.from_codes(allocation.status - 1,
                                                categories=pd.Index(list(STATUS.values()))),
            "minutes": allocation.minutes,
            "units": np.round(allocation.units, 2),
            "amount": np.round(allocation.amount, 2),
            "procedure_code": categorical(codes),
            "modifiers": categorical(modifiers),
            "reasons": reasons,
            "citations": citations_of(book, reasons),
            "service_date": _take(acts["_date_text"], rows),
            "activity": _take(acts["activity"], rows),
            "payment": categorical_of(payments, pick),
            "federal_share": federal,
        }
    )
    order = np.lexsort((contract_ix == -1, pick, rows))
    return lines.iloc[order].reset_index(drop=True)[LINE_COLUMNS]


def _append(lines: pd.DataFrame, extra: pd.DataFrame) -> pd.DataFrame:
    """Concatenate keeping categorical columns categorical (a plain concat would turn a
    million repeated codes into a million strings)."""
    if extra.empty:
        return lines
    extra = extra.copy()
    lines = lines.copy()
    for column in lines.columns:
        if isinstance(lines[column].dtype, pd.CategoricalDtype):
            extra_values = pd.Index(pd.unique(extra[column].astype(object)), dtype=object)
            known = lines[column].cat.categories
            categories = known.append(extra_values[~extra_values.isin(known)])
            lines[column] = lines[column].cat.set_categories(categories)
            extra[column] = pd.Categorical(extra[column].astype(object), categories=categories)
    return pd.concat([lines, extra], ignore_index=True)


def _federal_share(
    contracts: list[Contract], contract_ix: np.ndarray, allocation: Any, book: RuleBook,
    days: np.ndarray,
) -> np.ndarray:
    """Federal dollars of each line where the match rate is known (health homes; any contract
    that states its ``fmap``); blank elsewhere, never guessed."""
    out = np.full(len(contract_ix), np.nan)
    for position, contract in enumerate(contracts):
        mine = contract_ix == position
        if not mine.any():
            continue
        params = contract_parameters(book, contract)
        if contract.program == "health_home":
            rate = np.full(int(mine.sum()), np.nan)
            # Each stretch of days with one set of match terms is priced with those terms.
            for segment, values in params.segments(FMAP_TERMS, days[mine]):
                rate[segment] = health_home_fmap(days[mine][segment], values)
        else:
            rate = params.terms(days[mine]).number("fmap")
            if np.isnan(rate).all():
                continue
        out[mine] = np.round(allocation.amount[mine] * rate, 2)
    return out


def _rejected_lines(data: Dataset, book: RuleBook) -> pd.DataFrame:
    """Refused activity rows, listed with zero minutes so that nothing silently vanishes."""
    refused = data.refused.get("activities")
    if refused is None or refused.empty:
        return pd.DataFrame(columns=LINE_COLUMNS)
    date = pd.to_datetime(refused["date"], errors="coerce")
    lines = pd.DataFrame(
        {
            "activity_id": refused["activity_id"].astype("string").fillna("").to_numpy(
                dtype=object),
            "participant_id": refused["participant_id"].astype("string").fillna("").to_numpy(
                dtype=object),
            "month": date.dt.strftime("%Y-%m").fillna("").to_numpy(dtype=object),
            "contract_id": "",
            "payer": "",
            "program": "",
            "status": "rejected",
            "minutes": 0,
            "units": 0.0,
            "amount": 0.0,
            "procedure_code": "",
            "modifiers": "",
            "reasons": "input.rejected",
            "citations": book.outcomes["input.rejected"].cite.short(),
            "service_date": date.dt.strftime("%Y-%m-%d").fillna("").to_numpy(dtype=object),
            "activity": refused["activity"].astype("string").fillna("").to_numpy(dtype=object),
            "payment": "",
            "federal_share": np.nan,
        }
    )
    # Sorted by content, not by input position, so shuffled inputs list them identically.
    keys = ["activity_id", "participant_id", "service_date", "activity"]
    return lines.sort_values(keys, kind="stable").reset_index(drop=True)

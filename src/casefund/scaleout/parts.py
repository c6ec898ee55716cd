"""Participant partitions: what one partition holds, and evaluating it.

A partition is either a slice of a dataset already validated whole (:class:`LoadedPart`) or
raw rows validated inside the partition (:class:`RawPart`), so that no process need hold the
whole typed input. :func:`run_part` evaluates one with given budget shares and sends back a
compact :class:`PartResult`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import pandas as pd

from casefund.allocate.checkpoint import Checkpoint
from casefund.allocate.lines import bill
from casefund.allocate.status import LineStatus
from casefund.allocate.waterfall import Allocation, allocate, allocate_paused, contract_order
from casefund.engine.adjudication import Adjudication
from casefund.errors import InputError
from casefund.evaluation import monthly_eligibility
from casefund.io.load import INPUT_ORDER, Dataset, _reference_problems, staff_known
from casefund.io.own_files import open_own
from casefund.io.validate import ROW, empty_rejects, validate_table
from casefund.records.contracts import Contract
from casefund.records.tables import TABLES
from casefund.reports.stored import Piece, write_piece
from casefund.rules.book import rule_book
from casefund.scaleout.kept import keep, load_kept
from casefund.scaleout.worker import release_memory

PER_PARTICIPANT = (
    "participants",
    "activities",
    "coverage",
    "events",
    "assessments",
    "assignments",
    "consents",
    "charges",
)
SHARED = tuple(name for name in INPUT_ORDER if name not in PER_PARTICIPANT)
Budgets = dict[str, float | None]
DENIALS_FILE = "denials.arrow"  # a partition's stored denials, in its folder
KEPT_FILE = "adjudication.kept"  # what a partition keeps between stages, in its folder
_REFUSED = "refused activities"  # the kept activity rows validation refused
# What a partition is asked to do (see :func:`run_part`).
Stage = Literal["evaluate", "payments", "lines"]


class PartitionError(InputError):
    """A partition whose rows cannot be read back where it runs (a worker without the spill
    folder, a file changed or cut short): the run stops instead of missing rows."""


class Part(Protocol):
    """One participant partition: it can produce its own validated dataset."""

    def load(self) -> Dataset: ...


@dataclass
class Held:
    """What a partition keeps in memory between stages (in this process, or on its Dask
    worker) instead of in its kept file: the adjudication (its facts and decisions
    memoized), the waterfall paused before the first budgeted contract, and an estimate of
    their size in bytes."""

    adjudication: Adjudication
    paused: Checkpoint
    size: int


class HoldsBetweenStages:
    """A partition that may hold its state in memory between stages (:class:`Held`), where
    its runner gives it room. What is held never travels with the partition: pickled for
    another process (a Dask task), it leaves it behind (the Dask runner keeps it on the
    worker as a future of its own)."""

    held: Held | None = None

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state.pop("held", None)
        return state


@dataclass
class LoadedPart(HoldsBetweenStages):
    """A partition of a dataset that was validated whole."""

    dataset: Dataset
    hash_rows: tuple[str, ...] = ()  # the whole dataset's hashes are taken by the driver

    def load(self) -> Dataset:
        return self.dataset


@dataclass
class RawPart(HoldsBetweenStages):
    """A partition of the raw input tables, validated when loaded (in the worker).

    Its raw rows are either held (``raw``, ``rows``) or spilled to Arrow files in ``folder``
    (with their row numbers), so that the driver need not keep the input in memory.
    """

    origins: dict[str, str]
    shared: dict[str, pd.DataFrame]  # tables every partition needs, validated once
    contracts: list[Contract]
    repeated: dict[str, str]  # activity ids repeated across the whole table → problem
    raw: dict[str, pd.DataFrame] = field(default_factory=dict)  # this partition's raw rows
    rows: dict[str, np.ndarray] = field(default_factory=dict)  # 1-based rows in the input
    folder: Path | None = None
    # The rows the driver wrote to this partition's files, per table: a worker that finds a
    # file missing or short fails loudly instead of evaluating nothing.
    spilled: dict[str, int] = field(default_factory=dict)
    # The key sealing what this partition keeps in its folder between passes: made by the
    # driver, it travels only with the partition, so a file it did not write is refused.
    seal: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    # The tables whose rows are hashed here (for the combined input hash): those not read
    # from a file, whose bytes the driver hashed.
    hash_rows: tuple[str, ...] = PER_PARTICIPANT

    def raw_table(self, name: str) -> tuple[pd.DataFrame, np.ndarray]:
        if name in self.raw or self.folder is None:
            return self.raw[name], self.rows[name]
        expected = self.spilled.get(name, 0)
        path = self.folder / f"{name}.arrow"
        if expected == 0:  # nothing of this table was dealt to this partition
            empty = pd.DataFrame({c.name: pd.Series(dtype="str") for c in TABLES[name].columns})
            return empty, np.zeros(0, dtype=np.int64)
        try:
            with open_own(path) as file:
                frame = pd.read_feather(file)
        except OSError as exc:
            raise PartitionError(
                f"{path}: this worker cannot read the partition's {name} rows "
                f"({exc.strerror or exc}); the spill folder must be shared with every Dask "
                "worker (spill=PATH on shared storage) or left to travel with the tasks"
            ) from None
        if len(frame) != expected:
            raise PartitionError(
                f"{path}: {len(frame):,} rows where the driver wrote "
                f"{expected:,}; refusing a partial or replaced file"
            )
        return frame.drop(columns=ROW), frame[ROW].to_numpy(np.int64)

    def load(self) -> Dataset:
        accepted = dict(self.shared)
        known: dict[str, set[str] | pd.Index] = {"contracts": {c.id for c in self.contracts}}
        rejects = [empty_rejects()]
        refused: dict[str, pd.DataFrame] = {}
        for name in PER_PARTICIPANT:
            spec = TABLES[name]
            frame, rows = self.raw_table(name)
            checked = validate_table(
                frame,
                spec,
                self.origins[name],
                rows=rows,
                repeated=self.repeated if name == "activities" else None,
            )
            checked = _reference_problems(checked, spec, known)
            accepted[name] = checked.frame
            refused[name] = checked.refused.sort_values(ROW, kind="stable").reset_index(drop=True)
            rejects.append(checked.rejects)
            if name == "participants":
                known["participants"] = pd.Index(checked.frame["participant_id"])
                known.update(staff_known("staff", self.shared["staff"]))
        return Dataset(
            accepted,
            self.contracts,
            pd.concat(rejects, ignore_index=True),
            dict(self.origins),
            {},
            refused,
        )


@dataclass
class PartResult:
    """What one partition sends back: compact lines and denials, and what the combination
    needs (a later stage sends back only its lines and denials, or its payments as
    ``lines``)."""

    lines: pd.DataFrame
    denials: pd.DataFrame | Piece  # a Piece: written to the partition's folder
    eligibility: pd.DataFrame = field(default_factory=pd.DataFrame)
    rejects: pd.DataFrame = field(default_factory=empty_rejects)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # small per-participant
    row_hashes: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


def run_part(part: Part, budgets: Budgets, stage: Stage = "evaluate", room: int = 0) -> PartResult:
    """One stage of one partition with the given budgets (``None``: unlimited).

    ``evaluate``: validation, facts, rule decisions, eligibility; then the lines and denials
    when no contract has a budget, otherwise the budgeted contracts' payments (one may
    bind), with the partition's :class:`Adjudication` kept for the later stages.
    ``payments``: from the kept adjudication, only the payments of the budgeted contracts
    (the waterfall, nothing logged, no lines), for settling the next budget. ``lines``: the
    final lines and denials once every budget is settled. Nothing else depends on a budget.

    The adjudication is kept in the partition's spill folder (sealed data), or, where its
    estimated size (:func:`held_size`) fits in ``room`` bytes, held in memory on the
    partition until its ``lines`` stage: no file written and read back, no facts rebuilt.
    A runner gives room only where the later stages will find it: in this process (the same
    partition object comes back), or on the Dask worker that holds it.
    """
    release_memory()  # what the previous partition left behind, in a tuned process
    return _run_part(part, budgets, stage, room)


def _run_part(part: Part, budgets: Budgets, stage: Stage, room: int) -> PartResult:
    store = _adjudication_store(part)
    if stage != "evaluate":
        return _later_stage(part, store, budgets, stage)
    data = with_budgets(part.load(), budgets)
    adjudication = Adjudication.of(data)
    eligibility = monthly_eligibility(adjudication)
    order = contract_order(data.contracts)
    denials: pd.DataFrame | Piece = pd.DataFrame()
    if budgets:
        # Some budget may bind: send the budgeted payments; the lines come once settled.
        # The contracts before the first budgeted one are walked here once, for good.
        allocation, paused = allocate_paused(
            adjudication, order, rule_book(), first_budgeted(order, budgets)
        )
        lines = budgeted_payments(allocation, adjudication, order, set(budgets))
        size = held_size(adjudication, paused) if room > 0 else 0
        if 0 < size <= room and isinstance(part, HoldsBetweenStages):
            part.held = Held(adjudication, paused, size)
        elif store is not None:  # kept with the decisions it has memoized
            _keep_adjudication(store, data, adjudication, paused)
    else:
        billing = bill(adjudication, order, rule_book())
        lines, denials = _compact(billing.lines), _denials(part, billing.denials)
    del adjudication
    hashes = {
        name: (
            data[name][ROW].to_numpy(np.int64),
            pd.util.hash_pandas_object(data[name], index=False).to_numpy(),
        )
        for name in getattr(part, "hash_rows", PER_PARTICIPANT)
    }
    small = {name: data[name] for name in PER_PARTICIPANT if name != "activities"}
    return PartResult(lines, denials, eligibility, data.rejects, small, hashes)


def held_size(adjudication: Adjudication, paused: Checkpoint) -> int:
    """An estimate of what holding a partition's state costs: the canonical activities and
    the paused waterfall's arrays. The facts and decisions memoized beside them are not
    counted: at a million activities in 16 partitions the estimate (49 MB a partition) was
    within 10 % of the resident memory each held partition added."""
    arrays = [
        paused.remaining,
        paused.remaining_cost,
        paused.funded,
        paused.stop_bits,
        *paused.month_owner.values(),
        *(values for share in paused.shares for values in share if isinstance(values, np.ndarray)),
        *(values for chunk in paused.log for values in chunk if isinstance(values, np.ndarray)),
    ]
    # Text held as Python strings is measured on a sample (measuring every string costs a
    # tenth of the stage); ids and codes are of much the same length throughout.
    acts = adjudication.acts
    sample = acts.iloc[:_SAMPLE_ROWS]
    per_row = sample.memory_usage(index=False, deep=True).sum() / max(len(sample), 1)
    return int(per_row * len(acts)) + sum(int(values.nbytes) for values in arrays)


_SAMPLE_ROWS = 4096


def _later_stage(
    part: Part, store: tuple[RawPart, Path, bytes] | None, budgets: Budgets, stage: Stage
) -> PartResult:
    """A ``payments`` or ``lines`` stage: from the held or kept adjudication, resuming the
    waterfall where the first stage paused it (or, with nothing kept, from the partition's
    rows)."""
    paused: Checkpoint | None = None
    holder = part if isinstance(part, HoldsBetweenStages) else None
    if holder is not None and holder.held is not None:
        held = holder.held
        kept, contracts, paused = held.adjudication, _contracts_of(part), held.paused
        if stage == "lines":  # the last stage: nothing is needed after it
            holder.held = None
    elif store is not None:
        kept, contracts, paused = _load_adjudication(store)
    else:
        data = part.load()
        kept, contracts = Adjudication.of(data), data.contracts
    order = contract_order(budgeted(contracts, budgets))
    if stage == "payments":
        allocation = allocate(kept, order, rule_book(), log_denials=False, resume=paused)
        return PartResult(budgeted_payments(allocation, kept, order, set(budgets)), pd.DataFrame())
    billing = bill(kept, order, rule_book(), resume=paused)
    return PartResult(_compact(billing.lines), _denials(part, billing.denials))


def _contracts_of(part: Part) -> list[Contract]:
    contracts: list[Contract] = (
        part.contracts if isinstance(part, RawPart) else part.load().contracts
    )
    return contracts


def first_budgeted(contracts: list[Contract], budgets: Budgets) -> int:
    """The waterfall position of the first contract with a budget to settle: nothing before
    it depends on any budget."""
    return next((i for i, c in enumerate(contracts) if c.id in budgets), len(contracts))


def budgeted_payments(
    allocation: Allocation, kept: Adjudication, contracts: list[Contract], budgeted_ids: set[str]
) -> pd.DataFrame:
    """The billable shares of the budgeted contracts, as the lines would show them (amounts
    and units in cents and hundredths, in activity order), for settling a budget."""
    positions = [i for i, c in enumerate(contracts) if c.id in budgeted_ids]
    wanted = np.isin(allocation.contract, positions) & (allocation.status == LineStatus.BILLABLE)
    at = np.flatnonzero(wanted)
    at = at[np.argsort(allocation.activity_row[at], kind="stable")]
    rows = allocation.activity_row[at]
    ids = np.array([c.id for c in contracts], dtype=object)
    acts = kept.acts
    return pd.DataFrame(
        {
            "contract_id": ids[allocation.contract[at]],
            "status": "billable",
            "service_date": acts["_date_text"].array.take(rows),
            "participant_id": acts["participant_id"].array.take(rows),
            "amount": np.round(allocation.amount[at], 2),
            "units": np.round(allocation.units[at], 2),
        }
    )


def _compact(frame: pd.DataFrame) -> pd.DataFrame:
    """Lines or denials as a partition sends them: activity ids as Arrow strings (far
    cheaper to send and concatenate than Python ones)."""
    frame["activity_id"] = frame["activity_id"].astype("str")
    return frame


def _denials(part: Part, denials: pd.DataFrame) -> pd.DataFrame | Piece:
    """A partition's denials: written to its own folder where it has one (they are most of
    a run's rows; the driver reads them back a day at a time), else sent back."""
    folder = getattr(part, "folder", None)
    if folder is None:
        return _compact(denials)
    return write_piece(_compact(denials), Path(folder) / DENIALS_FILE)


def _adjudication_store(part: Part) -> tuple[RawPart, Path, bytes] | None:
    """Where a partition keeps its adjudication, and the key that seals it (partitions
    validated whole, or with no folder or seal, keep nothing and start each pass over)."""
    if not isinstance(part, RawPart) or part.folder is None or not part.seal:
        return None
    return part, part.folder / KEPT_FILE, part.seal


def _keep_adjudication(
    store: tuple[RawPart, Path, bytes],
    data: Dataset,
    adjudication: Adjudication,
    paused: Checkpoint,
) -> None:
    """What rebuilds ``adjudication`` in a later stage: the partition's validated tables, the
    activity rows it refused, the rule decisions made so far, and the waterfall paused
    before the first budgeted contract."""
    _, path, seal = store
    tables = {name: data[name] for name in PER_PARTICIPANT}
    refused = data.refused.get("activities")
    if refused is not None:
        tables[_REFUSED] = refused
    keep(path, seal, tables, adjudication.decisions, paused)


def _load_adjudication(
    store: tuple[RawPart, Path, bytes],
) -> tuple[Adjudication, list[Contract], Checkpoint | None]:
    """The adjudication a partition kept: rebuilt from its validated tables (no validation
    again), with the decisions it had made and the paused waterfall."""
    part, path, seal = store
    tables, decisions, paused = load_kept(path, seal)
    refused = tables.pop(_REFUSED, None)
    data = Dataset(
        {**part.shared, **tables},
        part.contracts,
        empty_rejects(),
        dict(part.origins),
        refused={} if refused is None else {"activities": refused},
    )
    adjudication = Adjudication.of(data)
    adjudication.decisions.update(decisions)
    return adjudication, part.contracts, paused


def budgeted(contracts: list[Contract], budgets: Budgets) -> list[Contract]:
    """The contracts with these budgets in place of their own."""
    return [
        c.model_copy(update={"caps": c.caps.model_copy(update={"budget": budgets[c.id]})})
        if c.id in budgets
        else c
        for c in contracts
    ]


def with_budgets(data: Dataset, budgets: Budgets) -> Dataset:
    return Dataset(
        data.tables,
        budgeted(data.contracts, budgets),
        data.rejects,
        data.sources,
        data.input_rows,
        data.refused,
    )


def partition(data: Dataset, parts: int) -> list[Part]:
    """Participants of a validated dataset dealt round-robin by sorted id."""
    ids = pd.Index(pd.unique(data.participants["participant_id"].astype(object))).sort_values()
    group = pd.Series(np.arange(len(ids)) % max(parts, 1), index=ids)
    out: list[Part] = []
    for k in range(max(parts, 1)):
        tables = dict(data.tables)
        for name in PER_PARTICIPANT:
            frame = data.tables[name]
            mine = frame["participant_id"].astype(object).map(group) == k
            tables[name] = frame.loc[mine.to_numpy(dtype=bool)].reset_index(drop=True)
        refused = data.refused if k == 0 else {}
        rejects = data.rejects if k == 0 else data.rejects.iloc[0:0]
        out.append(
            LoadedPart(
                Dataset(tables, data.contracts, rejects, data.sources, data.input_rows, refused)
            )
        )
    return out

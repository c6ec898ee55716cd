"""Evaluating by participant partitions (locally or on Dask), identical to one pass.

Everything casefund decides is per participant except contract budgets, which are spent in
the global service order. A budget is therefore settled in passes: evaluate every partition
with the budget unlimited, lay the contract's would-be payments in the global canonical order
(service day, participant, activity), cut them where the budget runs out, and give each
partition exactly the share its own rows receive in that order. Within a partition the same
order holds, so each row then receives exactly what it would in a single pass. Budgets are
settled in priority order (a lower-priority contract cannot change what a higher one takes);
a pass is needed only for a budget that actually binds.

Partitions come either from a dataset already in memory (:func:`partition`) or straight from
the raw input tables (:func:`raw_partitions`), validated inside each partition so that no
process ever holds the whole typed activity table: that is what bounds memory at tens of
millions of activities. The few checks that span a whole table (a repeated activity id) are
settled on the raw table first, so rejects match the single pass row for row.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from casefund._version import __version__
from casefund.allocate.payments import floor_cents, pays_whole_units
from casefund.evaluation import (
    Evaluation,
    admin_cap_report,
    contracts_hash,
    evaluate_dataset,
    input_hashes,
    rule_book,
)
from casefund.io.load import INPUT_ORDER, Dataset, _reference_problems, load_dataset
from casefund.io.sources import TableSource, find_table_file, read_source
from casefund.io.validate import (
    ROW,
    check_required_columns,
    empty_rejects,
    normalise_columns,
    repeated_keys,
    repeated_text,
    validate_table,
)
from casefund.payers.contracts import Contract, load_contracts
from casefund.records.tables import TABLES, TableSpec
from casefund.reports.breakdown import build_breakdown
from casefund.reports.claims import build_claims
from casefund.spill import deal_file

PER_PARTICIPANT = ("participants", "activities", "coverage", "events", "assessments", "consents")
SHARED = tuple(name for name in INPUT_ORDER if name not in PER_PARTICIPANT)
Budgets = dict[str, float | None]


class Part(Protocol):
    """One participant partition: it can produce its own validated dataset."""

    def load(self) -> Dataset: ...


@dataclass
class LoadedPart:
    """A partition of a dataset that was validated whole."""

    dataset: Dataset

    def load(self) -> Dataset:
        return self.dataset


@dataclass
class RawPart:
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

    def raw_table(self, name: str) -> tuple[pd.DataFrame, np.ndarray]:
        if name in self.raw or self.folder is None:
            return self.raw[name], self.rows[name]
        path = self.folder / f"{name}.arrow"
        if not path.exists():  # a file dealt in batches had no rows for this partition
            empty = pd.DataFrame({c.name: pd.Series(dtype="str") for c in TABLES[name].columns})
            return empty, np.zeros(0, dtype=np.int64)
        frame = pd.read_feather(path)
        return frame.drop(columns=ROW), frame[ROW].to_numpy(np.int64)

    def load(self) -> Dataset:
        accepted = dict(self.shared)
        known: dict[str, set[str] | pd.Index] = {"contracts": {c.id for c in self.contracts}}
        rejects = [empty_rejects()]
        refused: dict[str, pd.DataFrame] = {}
        for name in PER_PARTICIPANT:
            spec = TABLES[name]
            frame, rows = self.raw_table(name)
            checked = validate_table(frame, spec, self.origins[name], rows=rows,
                                     repeated=self.repeated if name == "activities" else None)
            checked = _reference_problems(checked, spec, known)
            accepted[name] = checked.frame
            refused[name] = checked.refused.sort_values(ROW, kind="stable").reset_index(
                drop=True)
            rejects.append(checked.rejects)
            if name == "participants":
                known["participants"] = pd.Index(checked.frame["participant_id"])
        return Dataset(accepted, self.contracts, pd.concat(rejects, ignore_index=True),
                       dict(self.origins), {}, refused)


@dataclass
class PartResult:
    """What one partition sends back: compact lines and what the combination needs."""

    lines: pd.DataFrame
    eligibility: pd.DataFrame
    rejects: pd.DataFrame
    tables: dict[str, pd.DataFrame]  # accepted small per-participant tables
    row_hashes: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


def run_part(part: Part, budgets: Budgets) -> PartResult:
    """Evaluate one partition with the given budgets (``None``: unlimited)."""
    data = _with_budgets(part.load(), budgets)
    evaluation = evaluate_dataset(data)
    lines = evaluation.lines
    # Arrow strings pickle and concatenate far more cheaply than Python ones.
    lines["activity_id"] = lines["activity_id"].astype("str")
    hashes = {
        name: (data[name][ROW].to_numpy(np.int64),
               pd.util.hash_pandas_object(data[name], index=False).to_numpy())
        for name in PER_PARTICIPANT
    }
    small = {name: data[name] for name in PER_PARTICIPANT if name != "activities"}
    return PartResult(lines, evaluation.eligibility, data.rejects, small, hashes)


Runner = Callable[[Sequence[tuple[Part, Budgets]]], list[PartResult]]


def run_locally(tasks: Sequence[tuple[Part, Budgets]]) -> list[PartResult]:
    """One partition after another in this process: memory holds one partition at a time."""
    return [run_part(part, budgets) for part, budgets in tasks]


def dask_runner(scheduler: str | None = None, workers: int | None = None) -> Runner:
    """Partitions as Dask tasks: on a distributed scheduler, or local worker processes."""

    def run(tasks: Sequence[tuple[Part, Budgets]]) -> list[PartResult]:
        from dask.base import compute
        from dask.delayed import delayed

        graph = [delayed(run_part)(part, budgets) for part, budgets in tasks]
        if scheduler:
            from distributed import Client

            with Client(scheduler) as client:  # type: ignore[no-untyped-call]
                return list(client.compute(graph, sync=True))
        return list(compute(*graph, scheduler="processes",  # type: ignore[no-untyped-call]
                            num_workers=workers))

    return run


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
        out.append(LoadedPart(Dataset(tables, data.contracts, rejects, data.sources,
                                      data.input_rows, refused)))
    return out


def _participant_part(raw: pd.DataFrame, parts: int) -> np.ndarray:
    """Each raw row's partition, from a stable hash of its trimmed participant id."""
    text = raw["participant_id"].astype("string").str.strip()
    codes, uniques = pd.factorize(text)
    if len(uniques) == 0:
        return np.zeros(len(raw), dtype=np.int64)
    hashed = pd.util.hash_array(np.asarray(uniques, dtype=object), categorize=False)
    of_unique = (hashed % np.uint64(parts)).astype(np.int64)
    return np.where(codes >= 0, of_unique[np.maximum(codes, 0)], 0)


def raw_partitions(
    tables: Mapping[str, TableSource | None] | str | Path,
    contracts: str | Path | list[Contract] | dict[str, Any] | None,
    parts: int,
    spill: str | Path | None = None,
) -> tuple[list[Part], Dataset]:
    """Partitions of raw input tables and the validated shared tables (expenses, staff).

    With ``spill`` (a folder), each partition's raw rows are written there as Arrow files
    and read back by whoever evaluates it, so no process keeps the whole input. The returned
    dataset holds the shared tables, their rejects and the input row counts.
    """
    if isinstance(tables, str | Path):
        folder = Path(tables)
        sources: dict[str, TableSource | None] = {n: find_table_file(folder, n)
                                                  for n in INPUT_ORDER}
        if contracts is None and (folder / "contracts.yaml").exists():
            contracts = folder / "contracts.yaml"
    else:
        sources = {n: tables.get(n) for n in INPUT_ORDER}
    contract_list = load_contracts(contracts)
    shared_only = load_dataset({n: sources[n] for n in SHARED}, contract_list)
    raw: dict[str, pd.DataFrame] = {}
    streamed: dict[str, tuple[str, int]] = {}  # tables dealt from files into the spill folder
    origins: dict[str, str] = {}
    counts = {n: shared_only.input_rows[n] for n in SHARED}
    repeated: dict[str, str] = {}
    for name in PER_PARTICIPANT:
        spec = TABLES[name]
        source = sources[name]
        if source is None:
            frame, origin = pd.DataFrame({c.name: pd.Series(dtype="str")
                                          for c in spec.columns}), f"{name} (absent)"
        elif spill is not None and isinstance(source, str | Path) and _arrow_available():
            # A file is dealt in batches straight into the partitions' Arrow files.
            origin = str(source)
            count, keys = deal_file(Path(source), spec, origin, Path(spill),
                                    lambda batch: _participant_part(batch, parts))
            origins[name], counts[name] = origin, count
            streamed[name] = (origin, count)
            if name == "activities":
                repeated = _repeated_in_files(keys, spec, origin, Path(spill), parts)
            continue
        else:
            frame, origin = read_source(source, name)
            if frame.shape == (0, 0):
                frame = pd.DataFrame({c.name: pd.Series(dtype="str") for c in spec.columns})
        frame = normalise_columns(frame)
        check_required_columns(frame, spec, origin)
        raw[name], origins[name], counts[name] = frame, origin, len(frame)
        if name == "activities":
            repeated = repeated_keys(frame, spec, origin)
    where = {name: _participant_part(frame, parts) for name, frame in raw.items()}
    out: list[Part] = []
    for k in range(parts):
        mine = {name: np.flatnonzero(where[name] == k) for name in raw}
        part = RawPart(origins=origins, shared=dict(shared_only.tables),
                       contracts=contract_list, repeated=repeated)
        if spill is not None:
            part.folder = Path(spill) / f"part-{k:04d}"
            part.folder.mkdir(parents=True, exist_ok=True)
        for name, rows in mine.items():
            piece = raw[name].iloc[rows].reset_index(drop=True)
            if part.folder is not None and _spilled(piece, rows, part.folder / f"{name}.arrow"):
                continue
            part.raw[name], part.rows[name] = piece, (rows + 1).astype(np.int64)
        out.append(part)
    shared = Dataset({n: shared_only.tables[n] for n in SHARED}, contract_list,
                     shared_only.rejects, {**shared_only.sources, **origins}, counts,
                     {n: shared_only.refused[n] for n in SHARED})
    return out, shared


def _arrow_available() -> bool:
    try:
        import pyarrow  # type: ignore[import-untyped,unused-ignore]  # noqa: F401
    except ImportError:  # the 'parquet' extra is absent: partitions stay in memory
        return False
    return True


def _repeated_in_files(keys: pd.DataFrame, spec: TableSpec, origin: str, spill: Path,
                       parts: int) -> dict[str, str]:
    """Repeated keys of a table dealt into partition files: the few rows whose key text
    repeats are read back from the partitions and settled as over the whole table."""
    maybe = repeated_text(keys["key"])
    if not maybe.any():
        return {}
    wanted = keys[ROW].to_numpy(np.int64)[maybe]
    found = []
    for k in range(parts):
        path = spill / f"part-{k:04d}" / f"{spec.name}.arrow"
        if path.exists():
            frame = pd.read_feather(path)
            found.append(frame.loc[frame[ROW].isin(wanted).to_numpy(dtype=bool)])
    rows = pd.concat(found, ignore_index=True).sort_values(ROW).reset_index(drop=True)
    return repeated_keys(rows.drop(columns=ROW), spec, origin, rows[ROW].to_numpy(np.int64))


def _spilled(piece: pd.DataFrame, rows: np.ndarray, path: Path) -> bool:
    """Write a partition's raw rows as Arrow; False when a column has no Arrow type (a
    DataFrame of mixed Python objects), which then stays in memory unchanged."""
    try:
        import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
    except ImportError:  # the 'parquet' extra is absent: partitions stay in memory
        return False
    try:
        piece.assign(**{ROW: (rows + 1).astype(np.int64)}).to_feather(path)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, ValueError):
        return False
    return True


def _with_budgets(data: Dataset, budgets: Budgets) -> Dataset:
    contracts = [
        c.model_copy(update={"caps": c.caps.model_copy(update={"budget": budgets[c.id]})})
        if c.id in budgets else c
        for c in data.contracts
    ]
    return Dataset(data.tables, contracts, data.rejects, data.sources, data.input_rows,
                   data.refused)


def _allowances(results: list[PartResult], contract: Contract) -> list[float] | None:
    """Each partition's exact share of ``contract``'s budget, or None when it does not bind."""
    budget = contract.caps.budget
    assert budget is not None
    frames = []
    for k, result in enumerate(results):
        lines = result.lines
        mine = lines.loc[(lines["contract_id"].astype(object) == contract.id)
                         & (lines["status"].astype(object) == "billable")]
        frames.append(pd.DataFrame({
            "day": mine["service_date"].astype(object), "pid": mine["participant_id"].astype(
                object), "aid": mine["activity_id"].astype(object),
            "amount": mine["amount"].astype(float), "units": mine["units"].astype(float),
            "part": k}))
    requests = pd.concat(frames, ignore_index=True)
    if requests["amount"].sum() <= budget + 1e-9:
        return None
    requests = requests.sort_values(["day", "pid", "aid"], kind="stable")
    amount = requests["amount"].to_numpy()
    prior = np.cumsum(amount) - amount
    allowed = np.clip(budget - prior, 0.0, amount)
    if pays_whole_units(contract):
        price = np.divide(amount, requests["units"].to_numpy(), out=np.zeros_like(amount),
                          where=requests["units"].to_numpy() > 0)
        whole = np.floor(np.divide(allowed, price, out=np.zeros_like(allowed),
                                   where=price > 0) + 1e-9)
        allowed = np.where(price > 0, whole * price, allowed)
    else:
        allowed = floor_cents(allowed)
    shares = pd.Series(allowed).groupby(requests["part"].to_numpy()).sum()
    return [float(shares.get(k, 0.0)) for k in range(len(results))]


def _settle(pieces: Sequence[Part], contracts: list[Contract], runner: Runner
            ) -> list[PartResult]:
    """Run every partition, then once more per binding budget with its exact shares."""
    budgeted = sorted((c for c in contracts if c.caps.budget is not None),
                      key=lambda c: (c.priority, c.id))
    per_part: list[Budgets] = [{c.id: None for c in budgeted} for _ in pieces]
    results = runner(list(zip(pieces, per_part, strict=True)))
    for contract in budgeted:
        shares = _allowances(results, contract)
        if shares is None:
            for budgets in per_part:
                budgets[contract.id] = contract.caps.budget  # never binds: keep it as given
            continue
        for budgets, share in zip(per_part, shares, strict=True):
            budgets[contract.id] = share
        results.clear()  # the old pass's lines go before the new pass makes its own
        results = runner(list(zip(pieces, per_part, strict=True)))
    return results


def evaluate_partitioned(data: Dataset, parts: int, runner: Runner = run_locally) -> Evaluation:
    """The single-pass result for an already validated dataset, partition by partition."""
    results = _settle(partition(data, parts), data.contracts, runner)
    return _combine(data, results, input_hashes(data))


def evaluate_raw(
    tables: Mapping[str, TableSource | None] | str | Path,
    contracts: str | Path | list[Contract] | dict[str, Any] | None = None,
    parts: int = 8,
    runner: Runner = run_locally,
    spill: bool | str | Path = True,
) -> Evaluation:
    """The single-pass result for raw input tables, never holding the whole typed input.

    ``spill=True`` writes the partitions' raw rows to a temporary folder (a path: to that
    folder, which remote Dask workers must be able to read; ``False``: they travel with the
    tasks).
    """
    if spill is True:
        with tempfile.TemporaryDirectory(prefix="casefund-parts-") as folder:
            return _evaluate_raw(tables, contracts, parts, runner, folder)
    return _evaluate_raw(tables, contracts, parts, runner, spill or None)


def _evaluate_raw(
    tables: Mapping[str, TableSource | None] | str | Path,
    contracts: str | Path | list[Contract] | dict[str, Any] | None,
    parts: int,
    runner: Runner,
    spill: str | Path | None,
) -> Evaluation:
    pieces, shared = raw_partitions(tables, contracts, max(parts, 1), spill)
    results = _settle(pieces, shared.contracts, runner)
    small = {name: pd.concat([r.tables[name] for r in results], ignore_index=True)
             .sort_values(ROW, kind="stable").reset_index(drop=True)
             for name in PER_PARTICIPANT if name != "activities"}
    # The activities themselves stay in the partitions; the lines carry what reports need.
    small["activities"] = pd.DataFrame(columns=[c.name for c in TABLES["activities"].columns])
    rejects = pd.concat([shared.rejects, *[r.rejects for r in results]], ignore_index=True)
    order = {name: i for i, name in enumerate(INPUT_ORDER)}
    rejects = (rejects.assign(_t=rejects["table"].map(order))
               .sort_values(["_t", "row", "field"], kind="stable").drop(columns="_t")
               .reset_index(drop=True))
    data = Dataset({**shared.tables, **small}, shared.contracts, rejects, shared.sources,
                   shared.input_rows, {})
    hashes = {name: _combined_hash(results, name) for name in PER_PARTICIPANT}
    hashes.update({name: h for name, h in input_hashes(shared).items() if name in SHARED})
    hashes["contracts"] = contracts_hash(shared.contracts)
    return _combine(data, results, {n: hashes[n] for n in [*INPUT_ORDER, "contracts"]})


def _combined_hash(results: list[PartResult], table: str) -> str:
    """The single pass's hash of an accepted table, from the partitions' row hashes."""
    rows = np.concatenate([r.row_hashes[table][0] for r in results])
    hashed = np.concatenate([r.row_hashes[table][1] for r in results])
    return hashlib.sha256(hashed[np.argsort(rows, kind="stable")].tobytes()).hexdigest()[:16]


def _rank(column: pd.Series) -> np.ndarray:
    """Non-negative integer keys that sort like the column's text (cheap for categoricals)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        texts = column.cat.categories.to_numpy(dtype=object).astype(str)
        rank = np.empty(len(texts), dtype=np.int64)
        rank[np.argsort(texts, kind="stable")] = np.arange(1, len(texts) + 1)
        codes = column.cat.codes.to_numpy()
        return np.where(codes >= 0, rank[np.maximum(codes, 0)], 0)
    return np.asarray(pd.factorize(column.astype("str").fillna(""), sort=True)[0]) + 1


def _sort_order(keys: Sequence[np.ndarray]) -> np.ndarray:
    """Stable order by ``keys`` (most significant first), as one packed int64 key when the
    ranks fit in 62 bits (a million-row lexsort on nine arrays would need them all at once)."""
    widths = [max(int(k.max(initial=0)).bit_length(), 1) for k in keys]
    if sum(widths) > 62:
        return np.lexsort(tuple(reversed(keys)))
    packed = np.zeros(len(keys[0]), dtype=np.int64)
    for key, width in zip(keys, widths, strict=True):
        packed <<= width
        packed |= key
    return np.argsort(packed, kind="stable")


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate partitions' frames, each categorical column through one union of
    categories (never through Python strings). Columns are moved out of ``frames`` as they
    are joined, so the parts and the whole never both exist."""
    from pandas.api.types import union_categoricals

    frames = [f for f in frames if len(f)] or frames[:1]  # an empty part has no dtypes
    columns: dict[str, Any] = {}
    for name in list(frames[0].columns):
        parts = [f.pop(name) for f in frames]
        if all(isinstance(p.dtype, pd.CategoricalDtype) for p in parts):
            try:
                columns[name] = union_categoricals([p.array for p in parts])
                continue
            except TypeError:  # categories of different dtypes: unify them as objects
                parts = [p.astype(object) for p in parts]
                columns[name] = pd.Categorical(pd.concat(parts, ignore_index=True))
                continue
        columns[name] = pd.concat(parts, ignore_index=True)
    return pd.DataFrame(columns)


def _reordered(frame: pd.DataFrame, order: np.ndarray) -> pd.DataFrame:
    """``frame`` in ``order``, moved a column at a time so two copies never coexist."""
    out = {}
    for name in list(frame.columns):
        out[name] = frame.pop(name).take(order).reset_index(drop=True)
    return pd.DataFrame(out)


def _combine(data: Dataset, results: list[PartResult], hashes: dict[str, str]) -> Evaluation:
    lines = _concat([r.lines for r in results])
    eligibility = _concat([r.eligibility for r in results])
    rejected = (lines["status"] == "rejected").to_numpy(dtype=bool)
    # Accepted lines in the single pass's order. Each partition's accepted lines are already
    # in canonical order (day, participant, activity; contracts, then the unfunded rest), and
    # a participant lives in one partition, so a stable sort by (day, participant) of the
    # partitions laid end to end is that order — no rank of ten million activity ids.
    # Refused rows follow, sorted by content as in one pass; they are few.
    day, pid = _rank(lines["service_date"]), _rank(lines["participant_id"])
    refused = np.flatnonzero(rejected)
    content = [np.zeros(len(lines), dtype=np.int64) for _ in range(2)]
    if len(refused):
        for target, column in zip(content, ("activity_id", "activity"), strict=True):
            target[refused] = _rank(lines[column].iloc[refused].reset_index(drop=True))
    second, third = np.where(rejected, pid, day), np.where(rejected, day, pid)
    order = _sort_order([rejected.astype(np.int64), content[0], second, third, content[1]])
    del second, third
    del day, pid, content, rejected
    lines = _reordered(lines, order)
    del order
    order = _sort_order([_rank(eligibility[c]) for c in
                         ("participant_id", "program", "as_of", "population")])
    eligibility = _reordered(eligibility, order)
    book = rule_book()
    return Evaluation(
        lines=lines, claims=build_claims(lines), eligibility=eligibility,
        breakdown=build_breakdown(lines), admin_cap=admin_cap_report(data, book),
        rejects=data.rejects, version=__version__, rules_hash=book.digest,
        input_hashes=hashes, dataset=data,
    )

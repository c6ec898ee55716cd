"""Evaluating by participant partitions (on Dask), with results identical to one pass.

Everything casefund decides is per participant except contract budgets, which are spent in
the global service order. A budget is therefore settled in passes: evaluate every partition
with the budget unlimited, lay the contract's would-be payments in the global canonical order
(service day, participant, activity), cut them where the budget runs out, and give each
partition exactly the share its own rows receive in that order. Within a partition the same
order holds, so each row then receives exactly what it would in a single pass. Budgets are
settled in priority order (a lower-priority contract cannot change what a higher one takes);
a pass is needed only for a budget that actually binds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from casefund.allocate.payments import floor_cents, pays_whole_units
from casefund.evaluation import Evaluation, admin_cap_report, evaluate_dataset, rule_book
from casefund.io.load import Dataset
from casefund.payers.contracts import Contract
from casefund.reports.breakdown import build_breakdown
from casefund.reports.claims import build_claims

PER_PARTICIPANT = ("participants", "activities", "coverage", "events", "assessments", "consents")


def partition(data: Dataset, parts: int) -> list[Dataset]:
    """Participants dealt round-robin by sorted id into ``parts`` datasets."""
    ids = pd.Index(pd.unique(data.participants["participant_id"].astype(object))).sort_values()
    group = pd.Series(np.arange(len(ids)) % max(parts, 1), index=ids)
    out = []
    for k in range(max(parts, 1)):
        tables = dict(data.tables)
        for name in PER_PARTICIPANT:
            frame = data.tables[name]
            mine = frame["participant_id"].astype(object).map(group) == k
            tables[name] = frame.loc[mine.to_numpy(dtype=bool)].reset_index(drop=True)
        refused = data.refused if k == 0 else {}
        out.append(Dataset(tables, data.contracts, data.rejects.iloc[0:0], data.sources,
                           data.input_rows, refused))
    return out


def _with_budgets(data: Dataset, budgets: dict[str, float | None]) -> Dataset:
    contracts = [
        c.model_copy(update={"caps": c.caps.model_copy(update={"budget": budgets[c.id]})})
        if c.id in budgets else c
        for c in data.contracts
    ]
    return Dataset(data.tables, contracts, data.rejects, data.sources, data.input_rows,
                   data.refused)


Runner = Callable[[Sequence[Dataset]], list[Evaluation]]


def run_locally(parts: Sequence[Dataset]) -> list[Evaluation]:
    return [evaluate_dataset(p) for p in parts]


def dask_runner(scheduler: str | None = None) -> Runner:
    """Evaluate partitions as Dask tasks (a distributed scheduler address, or local)."""

    def run(parts: Sequence[Dataset]) -> list[Evaluation]:
        from dask.base import compute
        from dask.delayed import delayed

        tasks = [delayed(evaluate_dataset)(p) for p in parts]
        if scheduler:
            from distributed import Client

            with Client(scheduler) as client:  # type: ignore[no-untyped-call]
                return list(client.compute(tasks, sync=True))
        return list(compute(*tasks, scheduler="processes"))  # type: ignore[no-untyped-call]

    return run


def _allowances(evaluations: list[Evaluation], contract: Contract) -> list[float] | None:
    """Each partition's exact share of ``contract``'s budget, or None when it does not bind."""
    budget = contract.caps.budget
    assert budget is not None
    frames = []
    for k, ev in enumerate(evaluations):
        lines = ev.lines
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
    return [float(shares.get(k, 0.0)) for k in range(len(evaluations))]


def evaluate_partitioned(data: Dataset, parts: int, runner: Runner = run_locally) -> Evaluation:
    """The single-pass result, computed partition by partition."""
    pieces = partition(data, parts)
    budgeted = sorted((c for c in data.contracts if c.caps.budget is not None),
                      key=lambda c: (c.priority, c.id))
    per_part: list[dict[str, float | None]] = [
        {c.id: None for c in budgeted} for _ in pieces]
    evaluations = runner([_with_budgets(p, b) for p, b in zip(pieces, per_part, strict=True)])
    for contract in budgeted:
        shares = _allowances(evaluations, contract)
        if shares is None:
            for budgets in per_part:
                budgets[contract.id] = contract.caps.budget  # never binds: keep it as given
            continue
        for budgets, share in zip(per_part, shares, strict=True):
            budgets[contract.id] = share
        evaluations = runner([_with_budgets(p, b)
                              for p, b in zip(pieces, per_part, strict=True)])
    return _combine(data, evaluations)


def _combine(data: Dataset, evaluations: list[Evaluation]) -> Evaluation:
    from casefund.evaluation import _append

    first = evaluations[0]
    lines = evaluations[0].lines
    for ev in evaluations[1:]:
        lines = _append(lines, ev.lines)
    status = lines["status"].astype(object)
    rejected = status.eq("rejected").to_numpy()
    # Accepted lines in the single pass's order (canonical activity order, contracts in
    # priority order, the unfunded remainder last); refused rows after them, as in one pass.
    order = np.lexsort((status.eq("unbillable").to_numpy(),
                        np.where(rejected, "", lines["activity_id"].astype(object)),
                        np.where(rejected, "", lines["participant_id"].astype(object)),
                        np.where(rejected, "", lines["service_date"].astype(object)),
                        rejected))
    lines = lines.iloc[order].reset_index(drop=True)
    eligibility = pd.concat([ev.eligibility for ev in evaluations], ignore_index=True)
    eligibility = eligibility.sort_values(["participant_id", "program", "as_of", "population"],
                                          kind="stable").reset_index(drop=True)
    return Evaluation(
        lines=lines, claims=build_claims(lines), eligibility=eligibility,
        breakdown=build_breakdown(lines), admin_cap=admin_cap_report(data, rule_book()),
        rejects=data.rejects,
        version=first.version, rules_hash=first.rules_hash, input_hashes=first.input_hashes,
        dataset=data,
    )


def evaluate_with_backend(data: Dataset, backend: str, partitions: int,
                          scheduler: str | None) -> Evaluation:
    runner: Runner = dask_runner(scheduler) if backend == "dask" else run_locally
    return evaluate_partitioned(data, max(partitions, 1), runner)

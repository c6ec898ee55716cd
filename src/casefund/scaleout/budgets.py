"""Contract budgets, the one decision that crosses participants, settled exactly.

Evaluate every partition with the budget unlimited, lay the contract's would-be payments in
the global canonical order (service day, participant, activity), cut them where the budget
runs out, and give each partition exactly the share its own rows receive in that order.
Within a partition the same order holds, so each row then receives exactly what it would in
a single pass. Budgets are settled in priority order (a lower-priority contract cannot
change what a higher one takes); a pass is needed only for a budget that actually binds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from casefund.allocate.offer import floor_cents
from casefund.records.contracts import Contract
from casefund.records.frames import concat_frames, text_rank
from casefund.records.progress import ProgressCallback, tell
from casefund.scaleout.parts import Budgets, Part, PartResult, Stage
from casefund.scaleout.runners import Runner, run_session


def _allowances(payments: list[pd.DataFrame], contract: Contract) -> list[float] | None:
    """Each partition's exact share of ``contract``'s budget, or None when it does not bind.

    A participant lives in one partition and each partition's lines are in canonical order,
    so a stable sort by (day, participant) of the partitions' lines laid end to end is the
    global service order; no activity id needs ranking.
    """
    budget = contract.caps.budget
    assert budget is not None
    frames, owner = [], []
    for k, lines in enumerate(payments):
        mine = ((lines["contract_id"] == contract.id) & (lines["status"] == "billable")).to_numpy(
            dtype=bool
        )
        frames.append(lines.loc[mine, ["service_date", "participant_id", "amount", "units"]])
        owner.append(np.full(int(mine.sum()), k, dtype=np.int64))
    requests = concat_frames(frames)
    amount = requests["amount"].to_numpy(dtype=float)
    if amount.sum() <= budget + 1e-9:
        return None
    order = np.lexsort((text_rank(requests["participant_id"]), text_rank(requests["service_date"])))
    amount = amount[order]
    units = requests["units"].to_numpy(dtype=float)[order]
    prior = np.cumsum(amount) - amount
    allowed = np.clip(budget - prior, 0.0, amount)
    if contract.pays_whole_units():
        price = np.divide(amount, units, out=np.zeros_like(amount), where=units > 0)
        whole = np.floor(
            np.divide(allowed, price, out=np.zeros_like(allowed), where=price > 0) + 1e-9
        )
        allowed = np.where(price > 0, whole * price, allowed)
    else:
        allowed = floor_cents(allowed)
    shares = np.bincount(np.concatenate(owner)[order], weights=allowed, minlength=len(payments))
    return [float(share) for share in shares]


# What each stage's pass is called in progress.
PASSES = {"evaluate": "partitions", "payments": "partitions, budget pass", "lines": "lines"}


def run_with_budgets(
    pieces: Sequence[Part],
    contracts: list[Contract],
    runner: Runner,
    progress: ProgressCallback | None = None,
) -> list[PartResult]:
    """Every stage of a partitioned run, inside the runner's session (see
    :func:`_stages`)."""
    with run_session(runner):
        return _stages(pieces, contracts, runner, progress)


def _stages(
    pieces: Sequence[Part],
    contracts: list[Contract],
    runner: Runner,
    progress: ProgressCallback | None = None,
) -> list[PartResult]:
    """Evaluate every partition, settle the budgets in priority order, then finish each
    partition once. A budget that binds changes what the contracts after it are offered, so
    the next budget is settled from fresh payments: a ``payments`` stage (the waterfall
    only, from the kept adjudication). The lines and denials are then built once, in a
    ``lines`` stage; everything else a partition sent first is the same. With no budget
    at all, the first stage sends the lines and nothing is settled."""
    budgeted = sorted(
        (c for c in contracts if c.caps.budget is not None), key=lambda c: (c.priority, c.id)
    )
    per_part: list[Budgets] = [{c.id: None for c in budgeted} for _ in pieces]

    def run(stage: Stage) -> list[PartResult]:
        tasks = [(piece, budgets, stage) for piece, budgets in zip(pieces, per_part, strict=True)]
        if progress is None:
            return runner(tasks)
        label = PASSES[stage]
        tell(progress, label, 0, len(tasks))

        def done(count: int) -> None:
            tell(progress, label, count, len(tasks))

        return runner(tasks, progress=done)

    results = run("evaluate")
    if not budgeted:
        return results  # nothing to settle: the first stage sent the lines
    payments = [result.lines for result in results]
    for position, contract in enumerate(budgeted):
        shares = _allowances(payments, contract)
        if shares is None:
            for budgets in per_part:
                budgets[contract.id] = contract.caps.budget  # never binds: keep it as given
            continue
        for budgets, share in zip(per_part, shares, strict=True):
            budgets[contract.id] = share
        if position + 1 < len(budgeted):
            payments = [fresh.lines for fresh in run("payments")]
    del payments
    for result in results:
        result.lines = pd.DataFrame()  # the payments go before the lines come
    for result, fresh in zip(results, run("lines"), strict=True):
        result.lines, result.denials = fresh.lines, fresh.denials
    return results

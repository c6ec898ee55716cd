"""Progress is told to the caller's callback, stage by stage and partition by partition;
library code never prints it."""

from __future__ import annotations

import pandas as pd
import pytest

import casefund
from casefund.records.progress import ProgressEvent
from casefund.synthetic import Shape, demo_contracts, generate


@pytest.fixture(scope="module")
def tables() -> dict[str, pd.DataFrame]:
    return generate(Shape(participants=24, months=2, seed=6))


def test_a_single_pass_tells_each_stage_in_order(
    tables: dict[str, pd.DataFrame], capsys: pytest.CaptureFixture[str]
) -> None:
    events: list[ProgressEvent] = []
    casefund.evaluate(tables, demo_contracts(), progress=events.append)
    stages = [e.stage for e in events]
    assert stages == [
        "validating inputs",
        "adjudicating activities",
        "allocating to contracts",
        "eligibility",
        "outputs",
        "outputs",
    ]
    assert events[-1].done == events[-1].total == 1
    assert capsys.readouterr() == ("", "")  # nothing printed by the library


def test_partitions_tell_each_pass_partition_by_partition(
    tables: dict[str, pd.DataFrame],
) -> None:
    from casefund.scaleout import evaluate_raw

    contracts = demo_contracts()
    for contract in contracts["contracts"]:  # two budgets bind: a budget pass is needed
        if contract["id"] == "foundation_grant":
            contract["caps"]["budget"] = 500.0
        if contract["id"] == "rw_part_a_nmcm":
            contract["caps"]["budget"] = 200.0
    events: list[ProgressEvent] = []
    evaluate_raw(tables, contracts, 3, progress=events.append)
    passes = [e for e in events if e.total == 3]
    by_stage: dict[str, list[int]] = {}
    for event in passes:
        by_stage.setdefault(event.stage, []).append(event.done)
    assert by_stage["partitions"] == [0, 1, 2, 3]
    assert by_stage["lines"] == [0, 1, 2, 3]
    assert set(by_stage["partitions, budget pass"]) == {0, 1, 2, 3}
    assert events[-1].stage == "outputs"


def test_a_custom_runner_without_progress_still_runs(tables: dict[str, pd.DataFrame]) -> None:
    from casefund.scaleout import evaluate_raw, run_locally

    calls = []

    def plain(tasks):  # type: ignore[no-untyped-def]
        calls.append(len(tasks))
        return run_locally(tasks)

    evaluate_raw(tables, demo_contracts(), 2, plain)
    assert calls and all(n == 2 for n in calls)


def test_dask_workers_tell_each_partition_as_it_finishes(
    tables: dict[str, pd.DataFrame],
) -> None:
    pytest.importorskip("dask")
    from casefund.scaleout import dask_runner, evaluate_raw

    events: list[ProgressEvent] = []
    evaluate_raw(tables, demo_contracts(), 2, dask_runner(workers=2), progress=events.append)
    done = [e.done for e in events if e.stage == "partitions"]
    assert done[0] == 0 and sorted(done[1:]) == [1, 2]

"""Partitioned and Dask evaluation give exactly the single-pass result, budgets included."""

from __future__ import annotations

import pandas as pd
import pytest

import casefund
from casefund.io.load import load_dataset
from casefund.scaleout import evaluate_partitioned
from casefund.synthetic import Shape, demo_contracts, generate

OUTPUTS = ("lines", "claims", "eligibility", "breakdown", "admin_cap")


def same(a: casefund.Evaluation, b: casefund.Evaluation) -> None:
    for name in OUTPUTS:
        left = getattr(a, name).astype(object).reset_index(drop=True)
        right = getattr(b, name).astype(object).reset_index(drop=True)
        pd.testing.assert_frame_equal(left, right, obj=name)


@pytest.fixture(scope="module")
def dataset() -> casefund.Dataset:
    contracts = demo_contracts()
    for contract in contracts["contracts"]:
        if contract["id"] == "foundation_grant":
            contract["caps"]["budget"] = 2500.0  # binds early: several passes are needed
        if contract["id"] == "rw_part_a_nmcm":
            contract["caps"]["budget"] = 1500.0
    return load_dataset(generate(Shape(participants=60, months=6, seed=8)), contracts)


@pytest.mark.parametrize("parts", [2, 5])
def test_partitions_reproduce_the_single_pass(dataset: casefund.Dataset, parts: int) -> None:
    whole = casefund.evaluate(dataset)
    budgets = whole.lines.query("status == 'billable'").groupby("contract_id", observed=True)[
        "amount"].sum()
    assert budgets["foundation_grant"] == pytest.approx(2500.0, abs=0.01)  # it does bind
    same(whole, evaluate_partitioned(dataset, parts))


def test_dask_on_a_local_cluster_matches_pandas(dataset: casefund.Dataset) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        result = casefund.evaluate(dataset, backend="dask", partitions=4,
                                   scheduler=cluster.scheduler_address)
    same(casefund.evaluate(dataset), result)

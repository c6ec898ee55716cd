"""A waterfall paused before the first budgeted contract and resumed gives exactly the walk
it interrupted: every share, reason and refusal, under any budget for the contracts from
the pause on (which is what lets a partition's budget passes walk only those)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import casefund
from casefund.allocate.checkpoint import Checkpoint
from casefund.allocate.waterfall import Allocation, allocate, allocate_paused, contract_order
from casefund.engine.adjudication import Adjudication
from casefund.io.load import as_dataset
from casefund.records.contracts import Contract
from casefund.rules.book import rule_book
from casefund.scaleout.parts import budgeted, first_budgeted
from casefund.synthetic import Shape, demo_contracts, generate


def _same(a: Allocation, b: Allocation) -> None:
    for name in ("activity_row", "contract", "minutes", "units", "amount", "status"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    np.testing.assert_array_equal(a.pass_through, b.pass_through)
    assert list(a.reasons) == list(b.reasons)
    for name in ("rows", "contract", "reason", "minutes", "unknown"):
        np.testing.assert_array_equal(
            getattr(a.denials, name), getattr(b.denials, name), err_msg=name
        )


def _round_trip(checkpoint: Checkpoint) -> Checkpoint:
    layout, arrays = checkpoint.to_arrays()
    return Checkpoint.from_arrays(layout, {k: v.copy() for k, v in arrays.items()})


def _adjudicated(seed: int, participants: int = 30) -> tuple[Adjudication, list[Contract]]:
    data = as_dataset(
        generate(Shape(participants=participants, months=3, seed=seed)), demo_contracts(), {}
    )
    return Adjudication.of(data), contract_order(data.contracts)


@pytest.mark.parametrize("pause", range(9))
def test_a_walk_resumed_at_any_position_is_the_walk_itself(pause: int) -> None:
    adjudication, contracts = _adjudicated(seed=4)
    book = rule_book()
    whole = allocate(adjudication, contracts, book)
    payments, paused = allocate_paused(adjudication, contracts, book, pause)
    # The paused walk logs no refusals after the pause, but pays exactly the same.
    for name in ("activity_row", "contract", "minutes", "units", "amount", "status"):
        np.testing.assert_array_equal(getattr(payments, name), getattr(whole, name))
    _same(allocate(adjudication, contracts, book, resume=_round_trip(paused)), whole)
    without_log = allocate(adjudication, contracts, book, log_denials=False, resume=paused)
    assert len(without_log.denials) == 0
    np.testing.assert_array_equal(without_log.amount, whole.amount)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 5000),
    budgets=st.fixed_dictionaries(
        {
            "rw_part_a_nmcm": st.sampled_from([None, 0.0, 300.0, 2000.0]),
            "city_diversion_grant": st.sampled_from([None, 0.0, 150.0, 1200.0]),
            "foundation_grant": st.sampled_from([None, 0.0, 80.0, 900.0]),
        }
    ),
)
def test_a_checkpoint_taken_with_budgets_unlimited_serves_any_budget(
    seed: int, budgets: dict[str, Any]
) -> None:
    adjudication, contracts = _adjudicated(seed, participants=12)
    book = rule_book()
    unlimited = budgeted(contracts, dict.fromkeys(budgets))
    pause = first_budgeted(unlimited, budgets)
    _payments, paused = allocate_paused(adjudication, unlimited, book, pause)
    limited = budgeted(contracts, budgets)
    _same(
        allocate(adjudication, limited, book, resume=_round_trip(paused)),
        allocate(adjudication, limited, book),
    )


def test_a_checkpoint_of_another_adjudication_is_refused() -> None:
    small, contracts = _adjudicated(seed=4, participants=5)
    large, _ = _adjudicated(seed=5, participants=40)
    _payments, paused = allocate_paused(small, contracts, rule_book(), 3)
    with pytest.raises(ValueError, match="another adjudication"):
        allocate(large, contracts, rule_book(), resume=paused)


@pytest.mark.parametrize("hold_bytes", [0, 1 << 30], ids=["kept-in-files", "held"])
def test_partitions_keep_the_paused_walk_and_agree_with_one_pass(
    tmp_path: Any, hold_bytes: int
) -> None:
    from casefund.scaleout import evaluate_raw, run_locally

    def runner(tasks: Any) -> Any:
        return run_locally(tasks, hold_bytes=hold_bytes)

    tables = generate(Shape(participants=40, months=2, seed=9))
    contracts = demo_contracts()
    for contract in contracts["contracts"]:
        if contract["id"] in ("city_diversion_grant", "foundation_grant"):
            contract["caps"]["budget"] = 400.0
    whole = casefund.evaluate(tables, contracts)
    billed = whole.lines.query("status == 'billable'")
    paid = billed.groupby("contract_id", observed=True)["amount"].sum()
    assert paid["city_diversion_grant"] == paid["foundation_grant"] == 400.0  # both bind
    parted = evaluate_raw(tables, contracts, 4, runner, spill=tmp_path)
    columns = ["activity_id", "contract_id", "status", "minutes", "units", "amount", "reasons"]
    assert whole.lines[columns].astype(str).equals(parted.lines[columns].astype(str))
    assert whole.denials.astype(str).equals(parted.denials.astype(str))

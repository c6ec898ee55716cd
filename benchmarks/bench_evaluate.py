"""Throughput of casefund.evaluate() against a bare pandas pass over the same activities.

Prints activities per second for (1) the whole evaluate() from raw text tables (validation
included), (2) the engine alone on already-validated tables, and (3) a bare pandas pass that
does the least any billing pass must: sum minutes per participant-day, round to 15-minute
units and price them. Ratios are measured in the same run, on the same machine.

    python benchmarks/bench_evaluate.py --activities 1000000
"""

from __future__ import annotations

import argparse
import resource
import time

import pandas as pd

import casefund
from casefund.evaluation import evaluate_dataset
from casefund.io.load import load_dataset
from casefund.rules.book import rule_book
from casefund.synthetic import Shape, demo_contracts, generate


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bare_pandas(activities: pd.DataFrame) -> pd.DataFrame:
    """The floor: parse, group per participant-day, units by the 8-minute rule, price."""
    frame = activities.assign(
        date=pd.to_datetime(activities["date"], format="ISO8601", errors="coerce"),
        minutes=pd.to_numeric(activities["minutes"], errors="coerce"),
    )
    daily = frame.groupby(["participant_id", "date"], sort=False)["minutes"].sum()
    units = (daily + 7) // 15
    return (units * 31.5).rename("amount").reset_index()


def timed(label: str, func, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = func(*args)
    seconds = time.perf_counter() - start
    return result, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--activities", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    participants = max(10, int(args.activities / (8 * 12 * 1.02)))
    tables = generate(Shape(participants=participants, seed=args.seed, malformed_share=0.0005))
    contracts = demo_contracts()
    n = len(tables["activities"])
    rule_book()
    # Warm up imports and caches on a small run so the timings below are steady-state.
    casefund.evaluate(generate(Shape(participants=20, months=2)), contracts)
    print(
        f"activities: {n:,} for {participants:,} participants over 12 months; "
        f"{len(contracts['contracts'])} contracts"
    )
    print(f"peak memory after generating: {peak_mb():,.0f} MB")

    _, bare_s = timed("bare", bare_pandas, tables["activities"])
    dataset, load_s = timed("load", load_dataset, tables, contracts)
    evaluation, engine_s = timed("engine", evaluate_dataset, dataset)
    full, full_s = timed("full", casefund.evaluate, tables, contracts)
    assert len(full.lines) == len(evaluation.lines)
    total = full.lines.query("status != 'rejected'")["minutes"].sum()
    accepted = dataset.activities["minutes"].astype("int64").sum()
    assert total == accepted, "conservation failed"

    print(f"bare pandas pass          : {n / bare_s:>12,.0f} activities/s  ({bare_s:.2f} s)")
    print(f"validation (load_dataset) : {n / load_s:>12,.0f} activities/s  ({load_s:.2f} s)")
    print(f"engine (evaluate_dataset) : {n / engine_s:>12,.0f} activities/s  ({engine_s:.2f} s)")
    print(f"evaluate() end to end     : {n / full_s:>12,.0f} activities/s  ({full_s:.2f} s)")
    print(f"ratio evaluate() / bare   : {full_s / bare_s:.1f}x")
    print(f"ratio engine / bare       : {engine_s / bare_s:.1f}x")
    print(f"lines: {len(full.lines):,}; minutes conserved: {int(total):,}")
    print(f"peak memory: {peak_mb():,.0f} MB")


if __name__ == "__main__":
    main()

"""Throughput of casefund.evaluate() against a bare pandas pass over the same activities.

Prints activities per second for (1) the whole evaluate() from raw text tables (validation
included), (2) the engine alone on already-validated tables, and (3) a bare pandas pass that
does the least any billing pass must: sum minutes per participant-day, round to 15-minute
units and price them. Ratios are measured in the same run, on the same machine.

    python benchmarks/bench_evaluate.py --activities 1000000
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
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


def timed(func, *args):  # type: ignore[no-untyped-def]
    """Result, wall seconds and CPU seconds of this process (the machine is shared: CPU
    time is what the other tenants disturb least)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = func(*args)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--activities", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
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
        f"{len(contracts['contracts'])} contracts; load average {os.getloadavg()[0]:.2f}"
    )
    print(f"peak memory after generating: {peak_mb():,.0f} MB")
    runs: dict[str, list[tuple[float, float]]] = {"bare": [], "load": [], "engine": [], "full": []}
    for _ in range(args.repeat):  # interleaved: drift on a shared machine hits every side
        _, *bare = timed(bare_pandas, tables["activities"])
        dataset, *load = timed(load_dataset, tables, contracts)
        evaluation, *engine = timed(evaluate_dataset, dataset)
        full, *whole = timed(casefund.evaluate, tables, contracts)
        for name, figures in (("bare", bare), ("load", load), ("engine", engine), ("full", whole)):
            runs[name].append((figures[0], figures[1]))
        assert len(full.lines) == len(evaluation.lines)
        total = full.lines.query("status != 'rejected'")["minutes"].sum()
        accepted = dataset.activities["minutes"].astype("int64").sum()
        assert total == accepted, "conservation failed"
        del evaluation, full, dataset

    def median(name: str, which: int) -> float:
        return statistics.median(r[which] for r in runs[name])

    labels = {
        "bare": "bare pandas pass",
        "load": "validation (load_dataset)",
        "engine": "engine (evaluate_dataset)",
        "full": "evaluate() end to end",
    }
    for name, label in labels.items():
        wall, cpu = median(name, 0), median(name, 1)
        print(f"{label:<26}: {n / wall:>12,.0f} activities/s  (wall {wall:.2f} s, cpu {cpu:.2f} s)")
    for name in ("full", "engine"):
        print(
            f"ratio {name:<6} / bare: wall {median(name, 0) / median('bare', 0):.1f}x, "
            f"cpu {median(name, 1) / median('bare', 1):.1f}x (medians of {args.repeat})"
        )
    print(f"peak memory {peak_mb():,.0f} MB")


if __name__ == "__main__":
    main()

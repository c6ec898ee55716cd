"""The pandas backend against participant partitions on Dask (local processes).

    python benchmarks/bench_scaleout.py --activities 300000 --partitions 2 4

Prints activities/s for each and checks that every backend gives the same lines.
"""

from __future__ import annotations

import argparse
import resource
import time

import casefund
from casefund.io.load import load_dataset
from casefund.synthetic import Shape, demo_contracts, generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--activities", type=int, default=300_000)
    parser.add_argument("--partitions", type=int, nargs="+", default=[2, 4])
    args = parser.parse_args()
    participants = max(10, int(args.activities / (8 * 12 * 1.02)))
    data = load_dataset(generate(Shape(participants=participants, seed=3)), demo_contracts())
    n = len(data.activities)
    casefund.evaluate(load_dataset(generate(Shape(participants=20, months=2)),
                                   demo_contracts()))
    start = time.perf_counter()
    baseline = casefund.evaluate(data)
    base_s = time.perf_counter() - start
    print(f"activities: {n:,}")
    print(f"pandas backend          : {n / base_s:>10,.0f} activities/s ({base_s:.2f} s)")
    reference = baseline.lines[["activity_id", "contract_id", "minutes", "amount"]].astype(str)
    for parts in args.partitions:
        start = time.perf_counter()
        result = casefund.evaluate(data, backend="dask", partitions=parts)
        seconds = time.perf_counter() - start
        same = result.lines[["activity_id", "contract_id", "minutes", "amount"]].astype(
            str).equals(reference)
        print(f"dask, {parts} partitions    : {n / seconds:>10,.0f} activities/s "
              f"({seconds:.2f} s; ratio to pandas {base_s / seconds:.2f}x; identical: {same})")
    print(f"peak memory (this process): "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()

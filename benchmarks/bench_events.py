"""Throughput and latency of Session.post, against raw durable-rules posting.

Prints posts per second through ``casefund.events.Session`` (validation, facts, durable-rules
decisions, allocation), the rate of asserting and retracting the same rule facts on the same
durable-rules rulesets without casefund around them, their ratio, and p50/p99 latency.

    python benchmarks/bench_events.py --participants 20
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from casefund.events import Session
from casefund.events.rulesets import ACTIVITY_RULESET
from casefund.synthetic import Shape, demo_contracts, generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--participants", type=int, default=20)
    parser.add_argument("--months", type=int, default=2)
    args = parser.parse_args()
    tables = generate(Shape(participants=args.participants, months=args.months, seed=11,
                            malformed_share=0.0))
    session = Session({k: v for k, v in tables.items() if k != "activities"}, demo_contracts())
    records = tables["activities"].sort_values(["date", "participant_id", "activity_id"])
    latencies = []
    facts = []
    original_fire = session._fire

    def capture(ruleset: str, fact: dict[str, object]) -> set[tuple[int, str]]:
        if ruleset == ACTIVITY_RULESET:
            facts.append(dict(fact))
        return original_fire(ruleset, fact)

    session._fire = capture  # type: ignore[method-assign]
    for record in records.to_dict("records"):
        start = time.perf_counter()
        session.post(record)
        latencies.append(time.perf_counter() - start)
    total = sum(latencies)
    start = time.perf_counter()
    for fact in facts:
        original_fire(ACTIVITY_RULESET, fact)
    raw = time.perf_counter() - start
    n = len(latencies)
    print(f"posts: {n:,} activities, {args.participants} participants, 8 contracts")
    print(f"Session.post        : {n / total:>10,.0f} activities/s")
    print(f"raw durable posting : {len(facts) / raw:>10,.0f} facts/s (assert + retract)")
    print(f"ratio Session/raw   : {(n / total) / (len(facts) / raw):.4f}x")
    print(f"latency p50 / p99   : {np.percentile(latencies, 50) * 1000:.1f} ms / "
          f"{np.percentile(latencies, 99) * 1000:.1f} ms")


if __name__ == "__main__":
    main()

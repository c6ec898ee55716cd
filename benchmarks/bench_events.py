"""Throughput and latency of Session.post and Session.post_many, against raw durable-rules.

Prints posts per second through ``casefund.live.Session`` (validation, facts, durable-rules
decisions, allocation) one activity at a time and in daily batches, the rate of asserting and
retracting the same rule facts on the same durable-rules rulesets without casefund around
them, the ratios, and p50/p99 latency per post.

    python benchmarks/bench_events.py --participants 20 --months 2
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from casefund.live import Session
from casefund.live.rulesets import ACTIVITY_RULESET
from casefund.synthetic import Shape, demo_contracts, generate


def _session(tables: dict[str, Any], facts: list[dict[str, object]]) -> Session:
    """A session that also keeps every activity fact it sends to durable-rules."""
    session = Session({k: v for k, v in tables.items() if k != "activities"}, demo_contracts())
    original = session._fire

    def capture(ruleset: str, fact: dict[str, object]) -> set[tuple[int, str]]:
        if ruleset == ACTIVITY_RULESET:
            facts.append(dict(fact))
        return original(ruleset, fact)

    session._fire = capture  # type: ignore[method-assign]
    return session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--participants", type=int, default=20)
    parser.add_argument("--months", type=int, default=2)
    args = parser.parse_args()
    tables = generate(
        Shape(participants=args.participants, months=args.months, seed=11, malformed_share=0.0)
    )
    activities = tables["activities"].sort_values(["date", "participant_id", "activity_id"])
    records = activities.to_dict("records")

    facts: list[dict[str, object]] = []
    one_by_one = _session(tables, facts)
    latencies = []
    for record in records:
        start = time.perf_counter()
        one_by_one.post(record)
        latencies.append(time.perf_counter() - start)
    single_rate = len(records) / sum(latencies)

    batch_facts: list[dict[str, object]] = []
    daily = _session(tables, batch_facts)
    start = time.perf_counter()
    for _day, batch in activities.groupby("date", sort=True):
        daily.post_many(batch)
    daily_rate = len(records) / (time.perf_counter() - start)

    backlog_facts: list[dict[str, object]] = []
    backlog = _session(tables, backlog_facts)
    start = time.perf_counter()
    backlog.post_many(activities)
    backlog_rate = len(records) / (time.perf_counter() - start)

    raw = Session.__new__(Session)  # the same host and rulesets, casefund left out
    raw.__dict__.update(one_by_one.__dict__)
    start = time.perf_counter()
    for fact in facts:
        Session._fire(raw, ACTIVITY_RULESET, fact)
    raw_rate = len(facts) / (time.perf_counter() - start)

    n = len(records)
    print(f"posts: {n:,} activities, {args.participants} participants, 8 contracts")
    print(f"raw durable posting     : {raw_rate:>10,.0f} facts/s (assert + retract)")
    for label, rate in (
        ("Session.post", single_rate),
        ("post_many, daily", daily_rate),
        ("post_many, one backlog", backlog_rate),
    ):
        print(f"{label:<24}: {rate:>10,.0f} activities/s   ratio to raw {rate / raw_rate:.3f}x")
    print(
        f"post latency p50 / p99  : {np.percentile(latencies, 50) * 1000:.1f} ms / "
        f"{np.percentile(latencies, 99) * 1000:.1f} ms"
    )
    same = one_by_one.lines().astype(str).equals(
        daily.lines().astype(str)
    ) and daily.lines().astype(str).equals(backlog.lines().astype(str))
    print(f"same lines one by one, daily and as one backlog: {same}")


if __name__ == "__main__":
    main()

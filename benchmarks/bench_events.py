"""Throughput and latency of Session.post and Session.post_many on each backend, against raw
durable-rules posting and against re-running evaluate() for each new activity.

For each backend the interpreter has (``native`` always; ``durable`` where the extra is
installed) it prints posts per second one activity at a time, in daily batches and as one
backlog, p50/p99 latency per post, how long a restart from stored activities takes, and
what a long session pays in full garbage collections (``--long-posts``). It
also prints the rate of asserting and retracting the same rule facts on the same
durable-rules rulesets without casefund around them (where durable-rules is installed), and
what answering each post by re-evaluating the whole dataset with ``evaluate()`` costs. All
figures come from one run.

    python benchmarks/bench_events.py --participants 20 --months 2
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib.util
import pstats
import time
from typing import Any

import numpy as np
import pandas as pd

import casefund
from casefund.live import Session
from casefund.live.rulesets import ACTIVITY_RULESET
from casefund.synthetic import Shape, demo_contracts, generate


def _session(
    tables: dict[str, Any], backend: str, facts: list[dict[str, object]] | None = None
) -> Session:
    """A session on ``backend``; a durable one also keeps every activity fact it sends."""
    session = Session(
        {k: v for k, v in tables.items() if k != "activities"}, demo_contracts(), backend=backend
    )
    if facts is not None and backend == "durable":
        original = session._fire

        def capture(ruleset: str, fact: dict[str, object]) -> set[tuple[int, str]]:
            if ruleset == ACTIVITY_RULESET:
                facts.append(dict(fact))
            return original(ruleset, fact)

        session._fire = capture  # type: ignore[method-assign]
    return session


def _measure(tables: dict[str, Any], activities: pd.DataFrame, backend: str) -> dict[str, Any]:
    records = activities.to_dict("records")
    facts: list[dict[str, object]] = []
    one_by_one = _session(tables, backend, facts)
    latencies = []
    for record in records:
        start = time.perf_counter()
        one_by_one.post(record)
        latencies.append(time.perf_counter() - start)
    daily = _session(tables, backend)
    start = time.perf_counter()
    for _day, batch in activities.groupby("date", sort=True):
        daily.post_many(batch)
    daily_seconds = time.perf_counter() - start
    backlog = _session(tables, backend)
    start = time.perf_counter()
    backlog.post_many(activities)
    backlog_seconds = time.perf_counter() - start
    start = time.perf_counter()
    Session(tables, demo_contracts(), backend=backend)  # restart: every activity stored
    restart_seconds = time.perf_counter() - start
    texts = [s.lines().astype(str) for s in (one_by_one, daily, backlog)]
    return {
        "single": len(records) / sum(latencies),
        "daily": len(records) / daily_seconds,
        "backlog": len(records) / backlog_seconds,
        "p50": float(np.percentile(latencies, 50)) * 1000,
        "p99": float(np.percentile(latencies, 99)) * 1000,
        "restart": restart_seconds,
        "same": texts[0].equals(texts[1]) and texts[1].equals(texts[2]),
        "session": one_by_one,
        "facts": facts,
    }


# The stages of a post, by the function that runs each.
STAGES = {
    "validate the record": "record.py:plain_record",
    "adjudicate (canonical order, fact scope)": "adjudication.py:of",
    "decide the rules (stale rows)": "session.py:_decider",
    "allocate (waterfall, caps)": "waterfall.py:allocate",
    "build lines (codes, units, reasons)": "lines.py:lines_of",
    "log refusals (denials)": "lines.py:denials_of",
    "keep lines and spending": "session.py:_keep",
}


def _print_stages(tables: dict[str, Any], activities: pd.DataFrame) -> None:
    """Each stage's share of a native post, from cProfile's cumulative times over the
    posts after the first sixth (the profiler inflates small calls: read shares)."""
    session = _session(tables, "native")
    records = activities.to_dict("records")
    warm = len(records) // 6
    for record in records[:warm]:
        session.post(record)
    profile = cProfile.Profile()
    profile.enable()
    for record in records[warm:]:
        session.post(record)
    profile.disable()
    profiled = pstats.Stats(profile)
    stats = profiled.stats  # type: ignore[attr-defined]
    by_name: dict[str, float] = {}
    for (file, _line, name), (_cc, _nc, _tt, cumulative, _callers) in stats.items():
        key = f"{file.replace(chr(92), '/').rsplit('/', 1)[-1]}:{name}"
        by_name[key] = by_name.get(key, 0.0) + cumulative
    total = by_name.get("session.py:post", 0.0)
    posts = len(records) - warm
    print(f"native post, where the time goes ({posts} posts, cProfile shares):")
    # The machine's load moves every timing; the number of calls a post makes does not.
    calls = profiled.total_calls  # type: ignore[attr-defined]
    print(f"  Python calls per post (deterministic)    : {calls / posts:8,.0f}")
    for label, name in STAGES.items():
        print(f"  {label:<42}: {by_name.get(name, 0.0) / total:6.1%}")


def _loaded(participants: int, posts: int, backends: list[str]) -> dict[str, list[float]]:
    """p50 and p99 (ms) of ``posts`` posts into a session of ``participants`` participants."""
    state = generate(Shape(participants=participants, months=1, seed=7, malformed_share=0.0))
    first = state["activities"].sort_values(["date", "participant_id", "activity_id"])
    loaded = {}
    for backend in backends:
        large = Session(
            {k: v for k, v in state.items() if k != "activities"}, demo_contracts(), backend=backend
        )
        waits = []
        for record in first.head(posts).to_dict("records"):
            start = time.perf_counter()
            large.post(record)
            waits.append(time.perf_counter() - start)
        loaded[backend] = [float(np.percentile(waits, q)) * 1000 for q in (50, 99)]
    return loaded


def _long_session(posts: int, backend: str) -> tuple[float, float, float, list[float]]:
    """p50, p99 and the longest post over ``posts`` posts into a session of 3,000
    participants, and how long each full garbage collection took: what a session that runs
    for weeks pays for what it keeps (measured with ``gc.callbacks``; nothing is tuned)."""
    state = generate(Shape(participants=3000, months=1, seed=7, malformed_share=0.0))
    first = state["activities"].sort_values(["date", "participant_id", "activity_id"])
    session = Session(
        {k: v for k, v in state.items() if k != "activities"}, demo_contracts(), backend=backend
    )
    pauses: list[float] = []
    began = [0.0]

    def watch(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        elif info["generation"] == 2:
            pauses.append((time.perf_counter() - began[0]) * 1000)

    gc.callbacks.append(watch)
    waits = []
    try:
        for record in first.head(posts).to_dict("records"):
            start = time.perf_counter()
            session.post(record)
            waits.append((time.perf_counter() - start) * 1000)
    finally:
        gc.callbacks.remove(watch)
    p50, p99 = (float(np.percentile(waits, q)) for q in (50, 99))
    return p50, p99, max(waits), pauses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--participants", type=int, default=20)
    parser.add_argument("--months", type=int, default=2)
    parser.add_argument(
        "--restart-participants", type=int, default=300, help="agency size for the restart"
    )
    parser.add_argument(
        "--loaded",
        type=int,
        default=10_000,
        help="participants loaded for the latency of posts into a large session",
    )
    parser.add_argument("--loaded-posts", type=int, default=300)
    parser.add_argument(
        "--long-posts",
        type=int,
        default=2000,
        help="posts into a 3,000-participant session, for the full collections a long "
        "session pays (0: skip)",
    )
    parser.add_argument(
        "--stages",
        action="store_true",
        help="also print where a native post's time goes (cProfile: shares, not timings)",
    )
    args = parser.parse_args()
    tables = generate(
        Shape(participants=args.participants, months=args.months, seed=11, malformed_share=0.0)
    )
    activities = tables["activities"].sort_values(["date", "participant_id", "activity_id"])
    backends = ["native", *(["durable"] if importlib.util.find_spec("durable") else [])]
    # First, while the process holds nothing else: a full collection walks every object.
    long_session = (
        {b: _long_session(args.long_posts, b) for b in backends} if args.long_posts else {}
    )
    results = {backend: _measure(tables, activities, backend) for backend in backends}

    raw_rate = None
    if "durable" in results:
        durable = results["durable"]
        raw = Session.__new__(Session)  # the same host and rulesets, casefund left out
        raw.__dict__.update(durable["session"].__dict__)
        start = time.perf_counter()
        for fact in durable["facts"]:
            Session._fire(raw, ACTIVITY_RULESET, fact)
        raw_rate = len(durable["facts"]) / (time.perf_counter() - start)

    casefund.evaluate(tables, demo_contracts())  # warm: the rule book is built once
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        casefund.evaluate(tables, demo_contracts())
        runs.append(time.perf_counter() - start)
    whole = float(np.median(runs))

    agency = generate(
        Shape(participants=args.restart_participants, months=1, seed=5, malformed_share=0.0)
    )
    restarts = {}
    for backend in backends:
        runs = []
        for _ in range(3):
            start = time.perf_counter()
            Session(agency, demo_contracts(), backend=backend)
            runs.append(time.perf_counter() - start)
        restarts[backend] = float(np.median(runs))

    loaded = (
        _loaded(args.loaded, args.loaded_posts, backends)
        if args.loaded and args.loaded_posts
        else {}  # --loaded 0: skipped
    )

    n = len(activities)
    print(f"posts: {n:,} activities, {args.participants} participants, 8 contracts")
    if raw_rate is not None:
        print(f"raw durable posting        : {raw_rate:>10,.0f} facts/s (assert + retract)")
    else:
        print("raw durable posting        : durable-rules is not installed on this Python")
    print(
        f"evaluate() per post        : {whole * 1000:>10,.1f} ms (median of 3: re-evaluating; "
        f"{n / whole:,.0f} activities/s as one batch)"
    )
    for backend, r in results.items():
        for label, key in (("post", "single"), ("post_many, daily", "daily"),
                           ("post_many, backlog", "backlog")):  # fmt: skip
            rate = r[key]
            versus = f"   ratio to raw {rate / raw_rate:.3f}x" if raw_rate else ""
            print(f"{backend:<8}{label:<19}: {rate:>10,.0f} activities/s{versus}")
        print(
            f"{backend:<8}{'latency p50 / p99':<19}: {r['p50']:.1f} ms / {r['p99']:.1f} ms; "
            f"restart {r['restart']:.2f} s; same lines one by one, daily, backlog: {r['same']}"
        )
    for backend, seconds in restarts.items():
        print(
            f"{backend:<8}{'restart, 1 month':<19}: {seconds:.2f} s (median of 3) for "
            f"{args.restart_participants} participants, {len(agency['activities']):,} activities"
        )
    for backend, (p50, p99) in loaded.items():
        print(
            f"{backend:<8}{'loaded, p50 / p99':<19}: {p50:.1f} ms / {p99:.1f} ms for "
            f"{args.loaded_posts} posts into a session of {args.loaded:,} participants"
        )
    for backend, (p50, p99, worst, pauses) in long_session.items():
        print(
            f"{backend:<8}{'long session':<19}: {p50:.1f} ms / {p99:.1f} ms / max {worst:.0f} ms "
            f"over {args.long_posts:,} posts; full collections {len(pauses)}, longest "
            f"{max(pauses, default=0.0):.0f} ms, first {pauses[0] if pauses else 0.0:.0f} ms, "
            f"last {pauses[-1] if pauses else 0.0:.0f} ms"
        )
    if args.stages:
        _print_stages(tables, activities)
    if len(results) == 2:
        native, durable_lines = (results[b]["session"].lines().astype(str) for b in backends)
        print(f"native and durable sessions give the same lines: {native.equals(durable_lines)}")


if __name__ == "__main__":
    main()

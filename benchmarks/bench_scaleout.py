"""Scale-out: one pass, partitions in one process, and Dask worker processes.

    python benchmarks/bench_scaleout.py --activities 1000000 10000000 --partitions 16

For each size, writes (once, cached) a synthetic agency as Parquet files, then runs each
configuration in a fresh subprocess and prints wall time, activities/s and the peak resident
memory of the whole process tree while it evaluates (sampled every 50 ms, Dask workers
included; the hashing of lines afterwards, for the comparison, is not measured). The one-pass
run is skipped above ``--single-pass-limit`` activities (it holds the whole typed input).
Every configuration's lines are compared with the first one's (a content hash). The
configurations run in interleaved rounds (``--repeat``); medians and the ratios the targets
name are printed from the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

CHUNK_PARTICIPANTS = 10_000
EVALUATED = "evaluated"


def _write_agency(activities: int, folder: Path) -> Path:
    """A synthetic agency of about ``activities`` activities, generated in participant chunks
    (ids made unique per chunk) so generating never holds the whole input either."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq
    import yaml

    from casefund.scaleout.parts import PER_PARTICIPANT
    from casefund.synthetic import Shape, demo_contracts, generate

    done = folder / "done.json"
    if done.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    participants = max(10, int(activities / (8 * 12 * 1.02)))
    writers: dict[str, pq.ParquetWriter] = {}
    first = 0
    chunk = 0
    while first < participants:
        size = min(CHUNK_PARTICIPANTS, participants - first)
        tables = generate(Shape(participants=size, seed=1000 + chunk, malformed_share=0.0005))
        prefix = f"C{chunk:04d}-"
        for name, frame in tables.items():
            if name not in PER_PARTICIPANT and chunk > 0:
                continue
            frame = frame.copy()
            for column in ("participant_id", "activity_id"):  # unique across chunks
                if column in frame and name in PER_PARTICIPANT:
                    frame[column] = prefix + frame[column].astype(str)
            table = pa.Table.from_pandas(frame.astype(str), preserve_index=False)
            if name not in writers:
                writers[name] = pq.ParquetWriter(folder / f"{name}.parquet", table.schema)
            writers[name].write_table(table)
        first += size
        chunk += 1
    for writer in writers.values():
        writer.close()
    (folder / "contracts.yaml").write_text(yaml.safe_dump(demo_contracts(), sort_keys=False))
    rows = pq.read_metadata(folder / "activities.parquet").num_rows
    done.write_text(json.dumps({"activities": rows}))
    del pd
    return folder


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        with contextlib.suppress(psutil.Error):  # a worker may exit between the two calls
            total += proc.memory_info().rss
    return total


def _unbudgeted(folder: Path) -> Path:
    """The agency's contracts without their budgets (no budget binds: one pass)."""
    import yaml

    path = folder / "contracts-unbudgeted.yaml"
    contracts = yaml.safe_load((folder / "contracts.yaml").read_text())
    for contract in contracts["contracts"]:
        (contract.get("caps") or {}).pop("budget", None)
    path.write_text(yaml.safe_dump(contracts, sort_keys=False))
    return path


def _run_config(
    folder: Path, mode: str, partitions: int, workers: int, budgets: bool = True
) -> dict[str, object]:
    """Runs inside the subprocess: one evaluation, timed; lines hashed for comparison."""
    import hashlib

    import pandas as pd

    import casefund
    from casefund.scaleout import dask_runner, evaluate_raw, run_locally

    passes = 0
    inner = run_locally if mode == "partitions" else dask_runner(workers=workers)

    def counting(tasks):  # type: ignore[no-untyped-def]
        nonlocal passes
        passes += 1
        return inner(tasks)

    if hasattr(inner, "run_session"):  # the Dask runner keeps its processes for the run
        counting.run_session = inner.run_session  # type: ignore[attr-defined]

    contracts = None if budgets else _unbudgeted(folder)
    start = time.perf_counter()
    if mode == "single":
        result = casefund.evaluate(folder, contracts)
        passes = 1
    else:
        result = evaluate_raw(folder, contracts, partitions, counting)
    seconds = time.perf_counter() - start
    print(EVALUATED, flush=True)  # the parent stops sampling memory: checking is not measured
    lines = result.lines
    digest = hashlib.sha256(
        pd.util.hash_pandas_object(
            lines[["activity_id", "contract_id", "status", "minutes", "amount"]].astype(str),
            index=False,
        )
        .to_numpy()
        .tobytes()
    ).hexdigest()[:16]
    accepted = int((lines["status"].astype(object) != "rejected").sum())
    return {
        "seconds": seconds,
        "lines": len(lines),
        "digest": digest,
        "accepted": accepted,
        "passes": passes,
    }


def _measure(
    folder: Path, mode: str, partitions: int, workers: int, budgets: bool
) -> dict[str, object]:
    command = [
        sys.executable,
        __file__,
        "--run",
        mode,
        "--folder",
        str(folder),
        "--partitions",
        str(partitions),
        "--workers",
        str(workers),
        "--budgets",
        "on" if budgets else "off",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss(process.pid))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    assert process.stdout is not None
    for line in process.stdout:  # until the evaluation is done: hashing lines is not measured
        if line.strip() == EVALUATED:
            break
    stop.set()
    sampler.join()
    out, _ = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"{mode} failed ({process.returncode})")
    result: dict[str, object] = json.loads(out.strip().splitlines()[-1])
    result["peak_mb"] = peak / 2**20
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--activities", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--partitions", type=int, default=16)
    parser.add_argument("--workers", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--single-pass-limit", type=int, default=2_000_000)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/casefund-bench"))
    parser.add_argument(
        "--budgets",
        choices=["on", "off"],
        default="on",
        help="off: drop the contracts' budgets, so no extra pass is needed",
    )
    parser.add_argument(
        "--no-in-process",
        action="store_true",
        help="skip the partitions-in-one-process configuration",
    )
    parser.add_argument("--repeat", type=int, default=2, help="interleaved rounds")
    parser.add_argument("--run", choices=["single", "partitions", "dask"])
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args()
    if args.run:
        print(
            json.dumps(
                _run_config(
                    args.folder, args.run, args.partitions, args.workers[0], args.budgets == "on"
                )
            )
        )
        return
    for size in args.activities:
        start = time.perf_counter()
        folder = _write_agency(size, args.cache / f"agency-v2-{size}")
        n = json.loads((folder / "done.json").read_text())["activities"]
        print(
            f"\n{n:,} activities (input written/cached in {time.perf_counter() - start:.0f} s)"
            f"; budgets {args.budgets}; {args.repeat} interleaved rounds, medians"
        )
        configs = [("single", 1, 1)] if n <= args.single_pass_limit else []
        if not args.no_in_process:
            configs.append(("partitions", args.partitions, 1))
        configs += [("dask", args.partitions, w) for w in args.workers]
        runs: dict[tuple[str, int, int], list[dict[str, object]]] = {c: [] for c in configs}
        for _round in range(args.repeat):  # interleaved: a slow spell hits every config
            for config in configs:
                runs[config].append(_measure(folder, *config, args.budgets == "on"))
        _report(n, runs)


def _report(n: int, runs: dict[tuple[str, int, int], list[dict[str, object]]]) -> None:
    """Each configuration's median wall time and peak memory, and the ratios the targets
    name: partitions in one process over one pass, Dask 2 workers' speed-up over 1."""
    reference = next(iter(runs.values()))[0]["digest"]
    median: dict[tuple[str, int, int], float] = {}
    for (mode, parts, workers), results in runs.items():
        seconds = [float(r["seconds"]) for r in results]  # type: ignore[arg-type]
        median[(mode, parts, workers)] = float(statistics.median(seconds))
        label = {
            "single": "one pass",
            "partitions": f"{parts} partitions, in process",
            "dask": f"{parts} partitions, Dask {workers} worker(s)",
        }[mode]
        peak = max(float(r["peak_mb"]) for r in results)  # type: ignore[arg-type]
        same = all(r["digest"] == reference for r in results)
        each = ", ".join(f"{x:.1f}" for x in seconds)
        print(
            f"{label:<34}: {n / median[(mode, parts, workers)]:>10,.0f} activities/s  "
            f"{median[(mode, parts, workers)]:7.1f} s (runs {each})"
            f"  peak {peak:>7,.0f} MB  passes {results[0]['passes']}  same lines: {same}"
        )
    single = next((v for (m, _p, _w), v in median.items() if m == "single"), None)
    local = next((v for (m, _p, _w), v in median.items() if m == "partitions"), None)
    dask = {w: v for (m, _p, w), v in median.items() if m == "dask"}
    if single and local:
        print(f"ratio, partitions in process / one pass : {local / single:.2f}x (target <= 1.3x)")
    if 1 in dask and 2 in dask:
        print(
            f"ratio, Dask 1 worker / 2 workers         : {dask[1] / dask[2]:.2f}x (target >= 1.6x)"
        )
    print(f"load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

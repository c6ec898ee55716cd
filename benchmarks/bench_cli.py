"""Whole processes: ``casefund evaluate`` against a bare read -> compute -> write pipeline on
the same files, and ``import casefund`` against ``import pandas``.

    python benchmarks/bench_cli.py --activities 1000000 --repeat 3

Writes (once, cached) a synthetic agency as CSV files, then runs, interleaved and repeated
so that drift on a shared machine hits both sides alike:

- ``casefund evaluate --data D --out O`` (every output written as CSV), and the same with
  ``--format parquet``;
- a bare pandas script over the same ``activities.csv``: read it, sum minutes per
  participant-day, round to 15-minute units by the 8-minute rule, price them, write one
  line per activity (the least any billing pipeline reads, computes and writes);
- ``python -c 'import casefund'`` and ``python -c 'import pandas'``.

Prints medians, the ratios measured in this run, and the machine's load average.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE = """
import sys
import pandas as pd
folder, out = sys.argv[1], sys.argv[2]
acts = pd.read_csv(folder + "/activities.csv", dtype=str, keep_default_na=False)
acts["date"] = pd.to_datetime(acts["date"], format="ISO8601", errors="coerce")
acts["minutes"] = pd.to_numeric(acts["minutes"], errors="coerce").fillna(0)
day = acts.groupby(["participant_id", "date"], sort=False)["minutes"].transform("sum")
units = ((day + 7) // 15) * acts["minutes"] / day.where(day > 0, 1)
acts["units"] = units.round(2)
acts["amount"] = (units * 31.5).round(2)
acts[["activity_id", "participant_id", "date", "minutes", "units", "amount"]].to_csv(
    out + "/lines.csv", index=False
)
"""


def _agency(activities: int, root: Path) -> Path:
    """A synthetic agency of about ``activities`` activities as CSV files (cached)."""
    import yaml

    from casefund.synthetic import Shape, demo_contracts, generate

    folder = root / f"cli-agency-{activities}"
    if (folder / "contracts.yaml").exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    participants = max(10, int(activities / (8 * 12 * 1.02)))
    tables = generate(Shape(participants=participants, seed=7, malformed_share=0.0005))
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    (folder / "contracts.yaml").write_text(yaml.safe_dump(demo_contracts(), sort_keys=False))
    return folder


def _seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def _fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--activities", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--imports", type=int, default=15, help="import timings per side")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/casefund-bench"))
    args = parser.parse_args()
    python = sys.executable
    imports: dict[str, list[float]] = {"casefund": [], "pandas": []}
    for _ in range(args.imports):
        for module in imports:
            imports[module].append(_seconds([python, "-c", f"import {module}"]))
    med = statistics.median
    print(
        f"import casefund: median {med(imports['casefund']) * 1000:.0f} ms; import pandas: "
        f"{med(imports['pandas']) * 1000:.0f} ms; ratio "
        f"{med(imports['casefund']) / med(imports['pandas']):.2f}x ({args.imports} each)"
    )
    folder = _agency(args.activities, args.cache)
    rows = sum(1 for _ in (folder / "activities.csv").open()) - 1
    print(f"{rows:,} activities in {folder}; load average {os.getloadavg()[0]:.2f}")
    casefund_s, parquet_s, bare_s = [], [], []
    with tempfile.TemporaryDirectory() as root:
        for _ in range(args.repeat):
            evaluate = [python, "-m", "casefund.cli", "evaluate", "--data", str(folder)]
            out = _fresh(Path(root) / "casefund")
            casefund_s.append(_seconds([*evaluate, "--out", str(out)]))
            written = sum(p.stat().st_size for p in out.iterdir())
            out = _fresh(Path(root) / "casefund-parquet")
            parquet_s.append(_seconds([*evaluate, "--out", str(out), "--format", "parquet"]))
            parquet_written = sum(p.stat().st_size for p in out.iterdir())
            bare_out = _fresh(Path(root) / "bare")
            bare_s.append(_seconds([python, "-c", BARE, str(folder), str(bare_out)]))
            bare_written = (bare_out / "lines.csv").stat().st_size
    print(
        f"casefund evaluate (whole process): median {med(casefund_s):.1f} s "
        f"({rows / med(casefund_s):,.0f} activities/s; {written / 1e6:,.0f} MB written)"
    )
    print(
        f"casefund evaluate --format parquet: median {med(parquet_s):.1f} s "
        f"({parquet_written / 1e6:,.0f} MB written; ratio to bare "
        f"{med(parquet_s) / med(bare_s):.1f}x)"
    )
    print(
        f"bare read -> compute -> write    : median {med(bare_s):.1f} s "
        f"({bare_written / 1e6:,.0f} MB written)"
    )
    print(
        f"ratio casefund / bare (whole process): {med(casefund_s) / med(bare_s):.1f}x over "
        f"{args.repeat} interleaved runs; load average now {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()

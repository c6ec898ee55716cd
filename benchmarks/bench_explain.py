"""Explaining one activity from a written output folder, against a bare pandas lookup.

    python benchmarks/bench_explain.py --activities 300000 --repeat 7

Writes (once) a synthetic agency's evaluation to a folder, then, interleaved and repeated,
times for a sample of activities (billed, bundled and unbillable):

- whole process: ``casefund explain --from OUT ID --json`` against a bare pandas script
  that reads ``lines.csv`` and ``denials.csv`` and selects the activity's rows;
- in process: casefund's folder reader and explanation against the same pandas reads.

Prints medians and the ratios measured in this run (below 1: casefund is faster).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE = (
    "import sys, pandas as pd\n"
    "folder, aid = sys.argv[1], sys.argv[2]\n"
    "lines = pd.read_csv(folder + '/lines.csv', dtype=str)\n"
    "denials = pd.read_csv(folder + '/denials.csv', dtype=str)\n"
    "print(len(lines[lines.activity_id == aid]), len(denials[denials.activity_id == aid]))\n"
)


def _folder(activities: int, root: Path) -> tuple[Path, list[str]]:
    import casefund
    from casefund.synthetic import Shape, demo_contracts, generate

    out = root / f"explain-{activities}"
    participants = max(10, int(activities / (8 * 12 * 1.02)))
    evaluation = casefund.evaluate(
        generate(Shape(participants=participants, seed=5)), demo_contracts()
    )
    evaluation.write(out)
    lines = evaluation.lines
    sample = []
    for status in ("billable", "bundled", "unbillable"):
        ids = lines.loc[lines["status"] == status, "activity_id"].astype(str)
        sample += [ids.iloc[0], ids.iloc[len(ids) // 2], ids.iloc[-1]]
    print(
        f"{len(lines):,} lines for {evaluation.lines['activity_id'].nunique():,} activities; "
        f"lines.csv {(out / 'lines.csv').stat().st_size / 1e6:,.0f} MB, denials.csv "
        f"{(out / 'denials.csv').stat().st_size / 1e6:,.0f} MB"
    )
    return out, sample


def _seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--activities", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        out, sample = _folder(args.activities, Path(root))
        casefund_cmd = [sys.executable, "-m", "casefund.cli", "explain", "--from", str(out)]
        whole_casefund, whole_bare = [], []
        for _ in range(args.repeat):  # interleaved, so drift on a shared machine hits both
            for aid in sample:
                whole_casefund.append(_seconds([*casefund_cmd, aid, "--json"]))
                whole_bare.append(_seconds([sys.executable, "-c", BARE, str(out), aid]))
        import pandas as pd

        from casefund.reports.explanation import explain_records
        from casefund.reports.output_folder import read_activity

        inside_casefund, inside_bare = [], []
        for _ in range(args.repeat):
            for aid in sample:
                start = time.perf_counter()
                explain_records(read_activity(out, aid)).to_json()
                inside_casefund.append(time.perf_counter() - start)
                start = time.perf_counter()
                lines = pd.read_csv(out / "lines.csv", dtype=str)
                denials = pd.read_csv(out / "denials.csv", dtype=str)
                _ = (lines[lines.activity_id == aid], denials[denials.activity_id == aid])
                inside_bare.append(time.perf_counter() - start)
    med = statistics.median
    print(
        f"whole process, casefund explain --from: median {med(whole_casefund):.3f} s "
        f"(max {max(whole_casefund):.3f} s over {len(whole_casefund)} runs)"
    )
    print(f"whole process, bare pandas lookup     : median {med(whole_bare):.3f} s")
    print(f"ratio casefund / bare (whole process) : {med(whole_casefund) / med(whole_bare):.2f}x")
    print(f"in process, casefund reader+explain   : median {med(inside_casefund) * 1000:.1f} ms")
    print(f"in process, bare pandas read+select   : median {med(inside_bare) * 1000:.1f} ms")
    print(f"ratio casefund / bare (in process)    : {med(inside_casefund) / med(inside_bare):.3f}x")


if __name__ == "__main__":
    main()

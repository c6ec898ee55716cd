"""Re-running an evaluation to show that a folder of outputs reproduces byte for byte
(Parquet files: value for value).

The folder's manifest says how it was made (which command, the as-of day, whether a workbook
was written, de-identified for which recipient); the run is made again the same way into a
scratch folder and every file is compared, the workbook and the manifest included.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Any

from casefund.errors import InputError
from casefund.evaluation import evaluate
from casefund.io.load import load_dataset
from casefund.reports.cells import MANIFEST


def verify_outputs(outdir: Path, data: Path) -> dict[str, str]:
    """File name → 'identical' or what differs, for every file in ``outdir``.

    The manifest is checked first: a different casefund version or rules hash explains any
    difference that follows.
    """
    manifest_path = outdir / MANIFEST
    if not manifest_path.is_file():
        raise InputError(f"{outdir}: no manifest.json — not a folder written by casefund")
    try:
        recorded: dict[str, Any] = json.loads(manifest_path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{manifest_path}: cannot be read ({exc})") from None
    with tempfile.TemporaryDirectory() as scratch:
        fresh_dir = Path(scratch) / "again"
        _remake(recorded, data, fresh_dir)
        fresh = json.loads((fresh_dir / MANIFEST).read_text())
        report: dict[str, str] = {}
        for key in ("casefund_version", "rules_hash"):
            if recorded.get(key) != fresh.get(key):
                report[key] = f"differs: recorded {recorded.get(key)}, now {fresh.get(key)}"
        for table, digest in fresh.get("inputs", {}).items():
            if recorded.get("inputs", {}).get(table) != digest:
                report[f"input {table}"] = "differs: the input is not the one recorded"
        names = sorted({p.name for p in fresh_dir.iterdir()} | {p.name for p in outdir.iterdir()})
        for name in names:
            mine, again = outdir / name, fresh_dir / name
            if not again.exists():
                report[name] = "not written by this run (extra file)"
            elif not mine.exists():
                report[name] = "missing from the folder"
            elif mine.read_bytes() == again.read_bytes():
                report[name] = "identical"
            elif name.endswith(".parquet") and _same_values(mine, again):
                # A partitioned run writes its stored outputs a day per row group: the
                # same values in another layout.
                report[name] = "identical"
            else:
                report[name] = "differs"
    return report


def _same_values(mine: Path, again: Path) -> bool:
    """Two Parquet files holding the same columns and values, in the same row order."""
    import pandas as pd

    try:
        left, right = pd.read_parquet(mine), pd.read_parquet(again)
    except (OSError, ValueError):
        return False
    if list(left.columns) != list(right.columns) or len(left) != len(right):
        return False
    return bool(left.astype(object).equals(right.astype(object)))


def _remake(recorded: dict[str, Any], data: Path, out: Path) -> None:
    """The recorded run, made again into ``out``."""
    as_of = recorded.get("as_of")
    day = dt.date.fromisoformat(as_of) if as_of else None
    if recorded.get("command") == "eligibility":
        from casefund.queries import write_eligibility

        if day is None:
            raise InputError("the manifest of an eligibility folder records no as-of day")
        write_eligibility(load_dataset(data), day, out, recorded.get("enable_unverified"))
        return
    evaluation = evaluate(data, as_of=day)
    if recorded.get("deidentified"):
        from casefund.reports.privacy import write_deidentified

        write_deidentified(evaluation, out, recorded.get("recipient"))
    else:
        evaluation.write(
            out, xlsx=bool(recorded.get("xlsx")), form=str(recorded.get("format", "csv"))
        )

"""Re-running an evaluation to show that a folder of outputs reproduces byte for byte."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from casefund.evaluation import evaluate
from casefund.io.errors import InputError


def verify_outputs(outdir: Path, data: Path) -> dict[str, str]:
    """File name → 'identical' or what differs, for every file casefund wrote in ``outdir``.

    The manifest is checked first: a different casefund version or rules hash explains any
    difference that follows.
    """
    manifest_path = outdir / "manifest.json"
    if not manifest_path.exists():
        raise InputError(f"{outdir}: no manifest.json — not a folder written by casefund")
    recorded = json.loads(manifest_path.read_text())
    with tempfile.TemporaryDirectory() as scratch:
        fresh_dir = Path(scratch)
        evaluation = evaluate(data)
        evaluation.write(fresh_dir)
        fresh = json.loads((fresh_dir / "manifest.json").read_text())
        report: dict[str, str] = {}
        for key in ("casefund_version", "rules_hash"):
            if recorded.get(key) != fresh.get(key):
                report[key] = f"differs: recorded {recorded.get(key)}, now {fresh.get(key)}"
        for table, digest in fresh.get("inputs", {}).items():
            if recorded.get("inputs", {}).get(table) != digest:
                report[f"input {table}"] = "differs: the input is not the one recorded"
        for path in sorted(fresh_dir.glob("*.csv")):
            mine = outdir / path.name
            if not mine.exists():
                report[path.name] = "missing from the folder"
            elif mine.read_bytes() == path.read_bytes():
                report[path.name] = "identical"
            else:
                report[path.name] = "differs"
        report["manifest.json"] = ("identical" if manifest_path.read_bytes()
                                   == (fresh_dir / "manifest.json").read_bytes() else "differs")
    return report

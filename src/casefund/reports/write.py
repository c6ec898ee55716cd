"""Writing an evaluation's outputs: one CSV per output, a manifest, and XLSX on request."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from casefund.evaluation import Evaluation


def stamped(frame: pd.DataFrame, version: str, rules_hash: str) -> pd.DataFrame:
    """The frame with the provenance columns every written output carries."""
    return frame.assign(casefund_version=version, rules_hash=rules_hash)


def write_outputs(evaluation: Evaluation, outdir: Path, xlsx: bool = False) -> list[Path]:
    """Each output as ``<name>.csv`` with the casefund version and rules hash as columns.

    The two provenance columns ride on every row so a file separated from its folder still
    says which casefund and which rule files produced it; ``manifest.json`` adds the input
    hashes.
    """
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    frames = {}
    for name, frame in evaluation.outputs().items():
        frames[name] = stamped(frame, evaluation.version, evaluation.rules_hash)
        path = outdir / f"{name}.csv"
        frames[name].to_csv(path, index=False, lineterminator="\n")
        written.append(path)
    manifest = outdir / "manifest.json"
    manifest.write_text(json.dumps(evaluation.manifest(), indent=2, sort_keys=True) + "\n")
    written.append(manifest)
    if xlsx:
        written.append(_write_xlsx(frames, outdir / "casefund.xlsx"))
    return written


def _write_xlsx(frames: dict[str, pd.DataFrame], path: Path) -> Path:
    try:
        import openpyxl  # type: ignore[import-untyped]  # noqa: F401
    except ImportError as exc:
        from casefund.io.errors import InputError

        raise InputError(
            "writing XLSX needs the 'xlsx' extra: pip install 'casefund[xlsx]'"
        ) from exc
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in frames.items():
            frame.to_excel(writer, sheet_name=name[:31], index=False)
    return path

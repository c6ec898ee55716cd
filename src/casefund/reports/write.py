"""Writing an evaluation's outputs: one CSV per output, a manifest, and XLSX on request."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from casefund.reports.files import claim_folder, write_csv, write_manifest, write_workbook

if TYPE_CHECKING:
    from casefund.evaluation import Evaluation


def stamped(frame: pd.DataFrame, version: str, rules_hash: str) -> pd.DataFrame:
    """The frame with the provenance columns every written output carries."""
    return frame.assign(casefund_version=version, rules_hash=rules_hash)


def write_outputs(evaluation: Evaluation, outdir: Path, xlsx: bool = False,
                  keep: Iterable[str] = ()) -> list[Path]:
    """Each output as ``<name>.csv`` with the casefund version and rules hash as columns.

    The two provenance columns ride on every row so a file separated from its folder still
    says which casefund and which rule files produced it; ``manifest.json`` adds the input
    hashes and lists the files written. The folder becomes this run's (see
    :func:`claim_folder`); ``keep`` names entries already written for it.
    """
    claim_folder(outdir, keep)
    written = []
    frames = {}
    for name, frame in evaluation.outputs().items():
        frames[name] = stamped(frame, evaluation.version, evaluation.rules_hash)
        written.append(write_csv(frames[name], outdir / f"{name}.csv"))
    if xlsx:
        written.append(write_workbook(frames, outdir / "casefund.xlsx"))
    manifest = {**evaluation.manifest(), "files": sorted(keep), "xlsx": xlsx}
    written.append(write_manifest(outdir, manifest, written))
    return written

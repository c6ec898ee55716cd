"""Writing an evaluation's outputs: one CSV per output, a manifest, and XLSX on request."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from casefund.reports.files import claim_folder, write_csv, write_manifest, write_workbook

if TYPE_CHECKING:
    import datetime as dt

    from casefund.evaluation import Evaluation
    from casefund.io.load import Dataset


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


def write_eligibility(dataset: Dataset, day: dt.date, out: Path,
                      enable_unverified: list[str] | None = None) -> tuple[pd.DataFrame,
                                                                           pd.DataFrame]:
    """What ``casefund eligibility`` writes: eligibility and recertification on one day,
    with a manifest saying how they were made (so ``casefund verify`` can remake them)."""
    from casefund._version import __version__
    from casefund.evaluation import input_hashes, rule_book
    from casefund.queries import eligibility, recertification

    claim_folder(out)
    frame = eligibility(dataset, as_of=day, enable_unverified=enable_unverified)
    due = recertification(dataset, as_of=day)
    digest = rule_book().digest
    written = [write_csv(stamped(output, __version__, digest), out / f"{name}.csv")
               for name, output in (("eligibility", frame), ("recertification", due))]
    write_manifest(out, {"casefund_version": __version__, "rules_hash": digest,
                         "command": "eligibility", "as_of": day.isoformat(),
                         "enable_unverified": sorted(enable_unverified or []),
                         "inputs": input_hashes(dataset)}, written)
    return frame, due

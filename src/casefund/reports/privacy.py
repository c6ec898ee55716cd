"""De-identified summaries for reports that leave the agency.

No participant id, name, birth date or service date finer than the month is ever written;
cells describing fewer participants than the minimum cell size are suppressed, with a second
(complementary) cell suppressed in any group where one suppressed cell could otherwise be
recovered by subtraction; SUD treatment records protected by 42 CFR Part 2 are withheld
unless the consents table records the recipient's consent for that service date.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from casefund.facts.calendar import to_days
from casefund.payers.terms import ResolvedParameters
from casefund.reports.files import claim_folder, stamped, write_csv, write_manifest
from casefund.reports.suppression import ALL, margins, protect

if TYPE_CHECKING:
    from casefund.reports.outputs import Evaluation

SUMMARY_KEYS = ["month", "payer", "contract_id", "program", "status"]
SUMMARY_VALUES = ["participants", "activities", "minutes", "units", "amount"]


def _privacy() -> ResolvedParameters:
    from casefund.rules.book import rule_book

    return ResolvedParameters(rule_book().parameters["privacy"])


def _report_day(lines: pd.DataFrame) -> dt.date:
    """The day a report's privacy terms are read on: its last service date."""
    dates = pd.to_datetime(lines["service_date"].astype(object), errors="coerce").dropna()
    return dates.max().date() if len(dates) else dt.date.max  # nothing served: the latest


def _parameter(name: str, day: dt.date) -> object:
    return _privacy().value_on(name, day)


def part2_withheld(evaluation: Evaluation, recipient: str | None) -> np.ndarray:
    """Lines that are Part 2 records the recipient has no consent to receive (the protected
    activity codes read as of each line's service date)."""
    lines = evaluation.table("lines")
    days = to_days(pd.to_datetime(lines["service_date"].astype(object), errors="coerce"))
    activities = lines["activity"].astype(object).fillna("").to_numpy(dtype=object)
    protected = _privacy().terms(days).member("part2_activities", activities)
    if not protected.any() or evaluation.dataset is None or recipient is None:
        return protected
    consents = evaluation.dataset["consents"]
    scopes = set(_parameter("part2_consent_scopes", _report_day(lines)))  # type: ignore[call-overload]
    mine = consents.loc[consents["recipient"].astype(object) == recipient]
    scope = mine["scope"].astype(object).fillna("").str.lower()
    mine = mine.loc[(scope == "") | scope.isin(scopes)]
    if mine.empty:
        return protected
    dates = pd.to_datetime(lines["service_date"].astype(object), errors="coerce")
    merged = pd.DataFrame(
        {
            "participant_id": lines["participant_id"].astype(object),
            "date": dates,
            "row": np.arange(len(lines)),
        }
    ).merge(mine.assign(participant_id=mine["participant_id"].astype(object)), on="participant_id")
    start_ok = merged["start_date"].isna() | (merged["start_date"] <= merged["date"])
    end_ok = merged["end_date"].isna() | (merged["date"] <= merged["end_date"])
    consented = np.zeros(len(lines), dtype=bool)
    consented[merged.loc[start_ok & end_ok, "row"].to_numpy()] = True
    return protected & ~consented


def suppress(
    table: pd.DataFrame, count: str, group: list[str], values: list[str], day: dt.date
) -> pd.DataFrame:
    """Blank cells under the minimum size (the standard in force on ``day``), and one more per
    group where one alone is blank."""
    minimum = int(_parameter("minimum_cell_size", day))  # type: ignore[call-overload]
    out = table.copy()
    small = (out[count] < minimum).to_numpy()
    suppressed = small.copy()
    if group and len(out):
        keys = out[group].astype(str).agg("|".join, axis=1)
        per_group = pd.Series(suppressed).groupby(keys.to_numpy()).transform("sum").to_numpy()
        lonely = per_group == 1
        # In each group with exactly one suppressed cell, also hide its smallest visible cell.
        candidates = out.loc[lonely & ~suppressed].assign(_key=keys[lonely & ~suppressed])
        if not candidates.empty:
            pick = candidates.sort_values([count, *group]).groupby("_key").head(1).index
            suppressed[out.index.get_indexer(pick)] = True
    out["suppressed"] = suppressed
    for column in values:
        out[column] = out[column].astype(float).where(~suppressed)
    return out


def deidentified(evaluation: Evaluation, recipient: str | None = None) -> dict[str, pd.DataFrame]:
    """The summaries a report that leaves the agency may carry.

    ``summary`` has one row per month, contract and status, and its totals: every contract's
    year per status (month 'all'), every month over statuses (status 'all') and the whole
    (both 'all'). Cells under the minimum size are hidden, and as many more as it takes that
    no hidden cell can be worked out from the totals (:mod:`casefund.reports.suppression`).
    """
    lines = evaluation.table("lines")
    keep = (lines["status"].astype(object) != "rejected").to_numpy() & ~part2_withheld(
        evaluation, recipient
    )
    kept = lines.loc[keep].astype({k: object for k in SUMMARY_KEYS})
    kept = kept.assign(**{k: kept[k].fillna("") for k in SUMMARY_KEYS})
    summary = margins(
        kept,
        SUMMARY_KEYS,
        ["month", "status"],
        {
            "participants": ("participant_id", "nunique"),
            "activities": ("activity_id", "nunique"),
            "minutes": ("minutes", "sum"),
            "units": ("units", "sum"),
            "amount": ("amount", "sum"),
        },
    )
    day = _report_day(lines)
    minimum = int(_parameter("minimum_cell_size", day))  # type: ignore[call-overload]
    hidden = protect(
        summary, "participants", minimum, SUMMARY_KEYS, ["month", "status"], "contract_id"
    )
    summary = _blank(summary.assign(suppressed=hidden), SUMMARY_VALUES)
    summary = summary.sort_values(
        ["contract_id", "month", "status"],
        kind="stable",
        key=lambda c: c.map(lambda v: (v == ALL, str(v))),
    ).reset_index(drop=True)
    eligibility = evaluation.table("eligibility")
    eligible = eligibility.loc[eligibility["eligible"]].astype(
        {"program": object, "population": object, "month": object}
    )
    counts = (
        eligible.groupby(["month", "program", "population"], sort=True)
        .agg(participants=("participant_id", "nunique"))
        .reset_index()
    )
    counts = suppress(counts, "participants", ["month", "program"], ["participants"], day)
    return {"summary": summary, "eligibility_summary": counts}


def _blank(table: pd.DataFrame, values: list[str]) -> pd.DataFrame:
    out = table.copy()
    for column in values:
        out[column] = out[column].astype(float).where(~out["suppressed"])
    return out


def write_deidentified(
    evaluation: Evaluation,
    outdir: Path,
    recipient: str | None,
    keep: tuple[str, ...] = (),
    tables: dict[str, pd.DataFrame] | None = None,
) -> list[Path]:
    """The de-identified summaries into ``outdir``, which becomes this run's folder: files of
    an earlier (possibly identified) run there are removed first, never left beside them.
    ``tables``: the summaries, where the caller has already made them."""
    claim_folder(outdir, keep)
    tables = tables if tables is not None else deidentified(evaluation, recipient)
    written = [
        write_csv(stamped(frame, evaluation.version, evaluation.rules_hash), outdir / f"{name}.csv")
        for name, frame in tables.items()
    ]
    manifest = {
        **evaluation.manifest(),
        "deidentified": True,
        "recipient": recipient,
        "files": sorted(keep),
    }
    # Nothing de-identified depends on the as-of day, and it is a service date: not written.
    manifest.pop("rows")
    manifest.pop("as_of")
    written.append(write_manifest(outdir, manifest, written))
    return written

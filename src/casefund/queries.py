"""Questions asked of a dataset on a given day, without billing anything."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from casefund._version import __version__
from casefund.engine.eligibility import decide_eligibility
from casefund.errors import InputError
from casefund.evaluation import check_dataset
from casefund.facts.prepared import PreparedData
from casefund.facts.scope import FactScope
from casefund.io.hashes import input_hashes
from casefund.io.load import Dataset, as_dataset
from casefund.io.sources import TableSource
from casefund.records.contracts import Contract
from casefund.records.days import day_number
from casefund.records.suggestions import did_you_mean
from casefund.reports.eligibility import build_eligibility
from casefund.reports.files import claim_folder, stamped, write_csv, write_manifest
from casefund.reports.reasons import build_reasons, ids_in
from casefund.reports.recertification import build_recertification
from casefund.reports.typed import typed
from casefund.rules.book import rule_book


def eligibility(
    data: str | Path | Mapping[str, TableSource | None] | Dataset | None = None,
    contracts: str | Path | list[Contract] | dict[str, Any] | None = None,
    *,
    as_of: dt.date | str,
    enable_unverified: list[str] | None = None,
    explained: bool = False,
    **tables: TableSource | None,
) -> pd.DataFrame:
    """Every participant's eligibility per program and population on ``as_of``.

    Only facts dated on or before ``as_of`` are read; enrollment counts if active that day.
    Criteria resting on unverified parameters are reported as not met unless named in
    ``enable_unverified``. Rows carry rule ids (the reason catalog says what they mean);
    ``explained`` adds a plain-language ``explanation`` per row. Typed as
    ``evaluate().eligibility`` is (days as datetimes, months as periods, blanks missing).
    """
    day = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    dataset = as_dataset(data, contracts, tables)
    frame = _eligibility(dataset, day, enable_unverified, explained)
    return typed("eligibility", frame)


def _eligibility(
    dataset: Dataset, day: dt.date, enable_unverified: list[str] | None, explained: bool
) -> pd.DataFrame:
    """The eligibility table as built (what ``eligibility.csv`` holds)."""
    check_dataset(dataset)
    book = rule_book()
    known = {name for params in book.parameters.values() for name in params.parameters}
    for name in enable_unverified or []:
        if name not in known:
            raise InputError(
                f"--enable-unverified {name}: not a parameter of any program"
                f"{did_you_mean(name, known)}"
            )
    prepared = PreparedData.build(dataset)
    n = len(prepared.ids)
    days = np.full(n, day_number(day), dtype=np.int64)
    scope = FactScope(prepared, np.arange(n, dtype=np.int64), days, days)
    decided = decide_eligibility(book, scope, days, enable_unverified)
    ids = np.asarray(prepared.ids, dtype=object)
    return build_eligibility(book, decided, ids, np.arange(n), days, None, explained)


def recertification(
    data: str | Path | Mapping[str, TableSource | None] | Dataset | None = None,
    contracts: str | Path | list[Contract] | dict[str, Any] | None = None,
    *,
    as_of: dt.date | str,
    **tables: TableSource | None,
) -> pd.DataFrame:
    """Who lapses when, judged on ``as_of``: each participant's latest eligibility span per
    program and payer that has an end (Ryan White determinations: the recertification date).
    Typed as ``evaluate().recertification`` is."""
    day = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    dataset = as_dataset(data, contracts, tables)
    return typed("recertification", _recertification(dataset, day))


def _recertification(dataset: Dataset, day: dt.date) -> pd.DataFrame:
    """The recertification table as built (what ``recertification.csv`` holds)."""
    check_dataset(dataset)
    return build_recertification(dataset["coverage"], dataset.contracts, rule_book(), day)


def write_eligibility(
    dataset: Dataset, day: dt.date, out: Path, enable_unverified: list[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What ``casefund eligibility`` writes: eligibility and recertification on one day,
    with a manifest saying how they were made (so ``casefund verify`` can remake them)."""
    claim_folder(out)
    frame = _eligibility(dataset, day, enable_unverified, explained=False)
    due = _recertification(dataset, day)
    digest = rule_book().digest
    catalog = build_reasons(rule_book(), ids_in([frame["reasons"], frame["not_tested"]]))
    written = [
        write_csv(stamped(output, __version__, digest), out / f"{name}.csv")
        for name, output in (("eligibility", frame), ("recertification", due), ("reasons", catalog))
    ]
    write_manifest(
        out,
        {
            "casefund_version": __version__,
            "rules_hash": digest,
            "command": "eligibility",
            "as_of": day.isoformat(),
            "enable_unverified": sorted(enable_unverified or []),
            "inputs": input_hashes(dataset),
        },
        written,
    )
    return frame, due

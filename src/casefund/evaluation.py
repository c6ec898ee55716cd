"""``evaluate()``: input tables in, lines and reports out, in one pass.

The orchestrator of the flow: validate (:mod:`casefund.io`), adjudicate every activity
against the rules (:mod:`casefund.engine`), bill it through the payer waterfall
(:mod:`casefund.allocate`), and assemble every output from the lines and eligibility
decisions (:mod:`casefund.reports`). Partitioned and distributed runs
(:func:`casefund.evaluate` with ``partitions`` or ``backend``) reach the same
:func:`casefund.reports.outputs.assemble` through :mod:`casefund.scaleout`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from casefund.allocate.lines import bill
from casefund.allocate.waterfall import contract_order
from casefund.engine.adjudication import Adjudication
from casefund.engine.eligibility import decide_eligibility
from casefund.facts.calendar import month_label
from casefund.io.hashes import InputHashes
from casefund.io.load import Dataset, as_dataset
from casefund.io.sources import TableSource
from casefund.payers.terms import check_contracts
from casefund.records.contracts import Contract
from casefund.records.progress import ProgressCallback, tell
from casefund.reports.eligibility import build_eligibility
from casefund.reports.outputs import Evaluation, assemble
from casefund.rules.book import rule_book

__all__ = [
    "Evaluation",
    "assemble",
    "check_dataset",
    "evaluate",
    "evaluate_dataset",
    "monthly_eligibility",
]


def evaluate(
    data: str | Path | Mapping[str, TableSource | None] | Dataset | None = None,
    contracts: str | Path | list[Contract] | dict[str, Any] | None = None,
    *,
    as_of: dt.date | str | None = None,
    progress: ProgressCallback | None = None,
    **tables: TableSource | None,
) -> Evaluation:
    """Evaluate activities against the bundled rules and the user's contracts, in one pass.

    ``data`` is a folder of CSV/Parquet/XLSX files, a mapping of table name to source, or an
    already loaded :class:`Dataset`; tables may also be passed by keyword
    (``activities=df``). Bad rows never raise: they are in ``rejects``. ``as_of`` is the day
    recertification is judged on (default: the last service date). ``progress`` is called
    with a :class:`~casefund.records.progress.ProgressEvent` as each stage begins.
    """
    day = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    tell(progress, "validating inputs", 0, 1)
    return evaluate_dataset(as_dataset(data, contracts, tables), as_of=day, progress=progress)


def check_dataset(data: Dataset) -> None:
    """Refuse the dataset's contracts where their programs' parameter files say they are
    wrong (an unknown parameter, a term a time-unit contract must state)."""
    check_contracts(
        rule_book().parameters, data.contracts, data.sources.get("contracts", "contracts")
    )


def monthly_eligibility(adjudication: Adjudication) -> pd.DataFrame:
    """Eligibility of every participant-month the activities fall in, judged on the month's
    last day."""
    book = rule_book()
    months = adjudication.months
    scope = months.scope
    decided = decide_eligibility(book, scope, months.as_of)
    return build_eligibility(
        book,
        decided,
        np.asarray(scope.data.ids, dtype=object),
        scope.codes,
        months.as_of,
        month_label(months.as_of),
    )


# The stages of a single pass after validation, as progress tells them.
STAGES = ("adjudicating activities", "allocating to contracts", "eligibility", "outputs")


def evaluate_dataset(
    data: Dataset,
    adjudication: Adjudication | None = None,
    as_of: dt.date | None = None,
    progress: ProgressCallback | None = None,
) -> Evaluation:
    """The whole evaluation of a validated dataset (``adjudication``: already made for it,
    as a partition's later stages reuse its own)."""
    check_dataset(data)
    # Each stage is one step, told as it begins (a stage ends where the next begins).
    tell(progress, STAGES[0], 0, 1)
    adjudicated = adjudication or Adjudication.of(data)
    tell(progress, STAGES[1], 0, 1)
    billing = bill(adjudicated, contract_order(data.contracts), rule_book())
    tell(progress, STAGES[2], 0, 1)
    eligibility = monthly_eligibility(adjudicated)
    tell(progress, STAGES[3], 0, 1)
    result = assemble(data, billing.lines, billing.denials, eligibility, InputHashes(data), as_of)
    tell(progress, STAGES[3], 1, 1)
    return result

"""Questions asked of a dataset on a given day, without billing anything."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from casefund.evaluation import _dataset, check_contracts, rule_book
from casefund.facts.prepared import PreparedData
from casefund.facts.scope import FactScope
from casefund.io.errors import InputError
from casefund.io.load import Dataset
from casefund.io.sources import TableSource
from casefund.payers.contracts import Contract
from casefund.records.suggestions import did_you_mean
from casefund.reports.eligibility import build_eligibility
from casefund.reports.recertification import build_recertification


def eligibility(
    data: str | Path | Mapping[str, TableSource | None] | Dataset | None = None,
    contracts: str | Path | list[Contract] | dict[str, Any] | None = None,
    *,
    as_of: dt.date | str,
    enable_unverified: list[str] | None = None,
    **tables: TableSource | None,
) -> pd.DataFrame:
    """Every participant's eligibility per program and population on ``as_of``.

    Only facts dated on or before ``as_of`` are read; enrollment counts if active that day.
    Criteria resting on unverified parameters are reported as not met unless named in
    ``enable_unverified``.
    """
    day = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    dataset = _dataset(data, contracts, tables)
    check_contracts(dataset.contracts, dataset.sources.get("contracts", "contracts"))
    book = rule_book()
    known = {name for params in book.parameters.values() for name in params.parameters}
    for name in enable_unverified or []:
        if name not in known:
            raise InputError(f"--enable-unverified {name}: not a parameter of any program"
                             f"{did_you_mean(name, known)}")
    prepared = PreparedData.build(dataset)
    n = len(prepared.ids)
    days = np.full(n, (day - dt.date(1970, 1, 1)).days, dtype=np.int64)
    scope = FactScope(prepared, np.arange(n, dtype=np.int64), days, days)
    return build_eligibility(rule_book(), scope, np.asarray(prepared.ids), days, None,
                             enable_unverified)


def recertification(
    data: str | Path | Mapping[str, TableSource | None] | Dataset | None = None,
    contracts: str | Path | list[Contract] | dict[str, Any] | None = None,
    *,
    as_of: dt.date | str,
    **tables: TableSource | None,
) -> pd.DataFrame:
    """Who lapses when, judged on ``as_of``: each participant's latest eligibility span per
    program and payer that has an end (Ryan White determinations: the recertification date)."""
    day = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    dataset = _dataset(data, contracts, tables)
    check_contracts(dataset.contracts, dataset.sources.get("contracts", "contracts"))
    return build_recertification(dataset["coverage"], dataset.contracts, rule_book(), day)

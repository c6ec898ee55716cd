"""The terms each contract billed under: every parameter value and cap, where it came from
(the contract, or a bundled parameter file) and the service dates it is read for.

An explanation names the values that decided an activity; this table is what lets it do so
from a written output folder, without evaluating again.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd

from casefund.payers.terms import TermPeriod, contract_parameters
from casefund.records.contracts import Contract
from casefund.rules.book import RuleBook

TERM_COLUMNS = [
    "contract_id",
    "payer",
    "program",
    "payment",
    "parameter",
    "value",
    "source",
    "effective_from",
    "effective_to",
    "citation",
    "verified",
]
CONTRACT_SOURCE = "The agency's contract (contracts.yaml)"


def as_text(value: Any) -> str:
    """A parameter value as JSON text (dates as ISO strings)."""
    return json.dumps(value, default=str, sort_keys=True)


def _iso(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


def _rows(contract: Contract, period: TermPeriod) -> dict[str, Any]:
    from_contract = period.source == "contract"
    start = contract.effective.start if from_contract else period.start
    end = contract.effective.end if from_contract else period.end
    return {
        "contract_id": contract.id,
        "payer": contract.payer,
        "program": contract.program,
        "payment": contract.payment,
        "parameter": period.name,
        "value": as_text(period.value),
        "source": f"contract {contract.id}" if from_contract else period.source,
        "effective_from": _iso(start),
        "effective_to": _iso(end),
        "citation": CONTRACT_SOURCE if from_contract else period.citation,
        "verified": period.verified,
    }


def build_terms(contracts: list[Contract], book: RuleBook) -> pd.DataFrame:
    """One row per contract, parameter (or cap) and value period."""
    rows = []
    for contract in sorted(contracts, key=lambda c: (c.priority, c.id)):
        params = contract_parameters(book.parameters, contract)
        for name in sorted(params.names()):
            rows += [_rows(contract, period) for period in params.periods(name)]
        for cap, limit in sorted(contract.caps.model_dump(exclude_none=True).items()):
            rows.append(
                _rows(
                    contract, TermPeriod(f"caps.{cap}", limit, "contract", None, None, None, True)
                )
            )
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in TERM_COLUMNS})
    return pd.DataFrame(rows, columns=TERM_COLUMNS)

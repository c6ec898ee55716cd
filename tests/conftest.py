"""Shared builders: small, readable situations in the words a finance person would use."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import pytest
from hypothesis import Phase, settings

import casefund
from casefund.evaluation import Evaluation

# ``pytest --hypothesis-profile=triage``: a failing property reports its first
# counter-example without shrinking it (to see every failure of a change quickly).
settings.register_profile("triage", phases=[Phase.explicit, Phase.reuse, Phase.generate])


def frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows)


def evaluate(
    participants: list[dict[str, Any]],
    activities: list[dict[str, Any]],
    contracts: list[dict[str, Any]],
    coverage: list[dict[str, Any]] | None = None,
    events: list[dict[str, Any]] | None = None,
    **tables: list[dict[str, Any]],
) -> Evaluation:
    sources: dict[str, Any] = {
        "participants": frame(participants),
        "activities": frame(activities),
    }
    if coverage:
        sources["coverage"] = frame(coverage)
    if events:
        sources["events"] = frame(events)
    for name, rows in tables.items():
        sources[name] = frame(rows)
    return casefund.evaluate(sources, {"contracts": contracts})


def lines_for(evaluation: Evaluation, activity_id: str) -> pd.DataFrame:
    lines = evaluation.lines
    return lines.loc[lines["activity_id"] == activity_id].reset_index(drop=True)


def span(pid: str, program: str, start: str, end: str = "", payer: str = "") -> dict[str, Any]:
    return {
        "participant_id": pid,
        "program": program,
        "payer": payer,
        "start_date": start,
        "end_date": end,
    }


def act(aid: str, pid: str, date: str, minutes: int, activity: str, **more: Any) -> dict[str, Any]:
    return {
        "activity_id": aid,
        "participant_id": pid,
        "date": date,
        "minutes": minutes,
        "activity": activity,
        "mode": more.pop("mode", "in_person"),
        "staff_role": more.pop("staff_role", "non_clinical"),
        **more,
    }


TCM_CONTRACT = {
    "id": "county_tcm",
    "payer": "County BH",
    "payer_id": "county_bh",
    "program": "tcm",
    "payment": "ffs_unit",
    "rate": 30.0,
    "unit_minutes": 15,
    "rounding": "cms_8_minute",
    "aggregate": "per_day",
    "priority": 20,
}


@pytest.fixture
def tcm_member() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """An adult on Medi-Cal in the county's TCM target group all of 2024."""
    people = [{"participant_id": "p1", "birth_date": "1980-01-01"}]
    coverage = [
        span("p1", "medi_cal", "2024-01-01", payer="mcp_a"),
        span("p1", "tcm", "2024-01-01", "2024-12-31", payer="county_bh"),
    ]
    return people, coverage


@contextmanager
def dated_change(program: str, name: str, start: str, value: Any) -> Iterator[None]:
    """The bundled parameter ``name`` of ``program`` changes to ``value`` from ``start`` for
    the duration of a test (a stand-in for a future dated entry in the parameter file)."""
    from casefund.payers.parameters import ParameterValue
    from casefund.rules.book import rule_book

    parameter = rule_book().parameters[program].parameters[name]
    original = parameter.values
    change = ParameterValue.model_validate(
        {"from": start, "value": value, "cite": {"document": "a dated change (test)"}}
    )
    parameter.values = sorted([*original, change], key=lambda v: v.start)
    try:
        yield
    finally:
        parameter.values = original

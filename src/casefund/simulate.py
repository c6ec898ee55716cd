"""Rate simulation: the same activities under alternative contracts.

A scenario is an overlay on the contracts (``contracts: {id: {field: value}}``), optionally a
sweep of one field over values, and optionally an intensity what-if that resamples each
engaged member-month's activities to a target number of contacts. Overlays build new contract
objects; the baseline is never edited.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from casefund.errors import InputError
from casefund.evaluation import Evaluation, evaluate_dataset
from casefund.io.load import Dataset
from casefund.io.safe_yaml import read_yaml_file
from casefund.records.contracts import Contract

SIMULATION_COLUMNS = [
    "scenario",
    "revenue",
    "member_months",
    "revenue_per_member_month",
    "cost",
    "cost_coverage",
    "break_even_pempm",
    "contacts_per_member_month",
    "break_even_contacts_per_member_month",
    "billable_minutes",
    "unbillable_minutes",
]


class Sweep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contract: str
    field: str
    values: list[Any]


class Intensity(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contacts_per_month: float = Field(gt=0)
    seed: int = 0


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    contracts: dict[str, dict[str, Any]] = Field(default_factory=dict)
    sweep: Sweep | None = None
    intensity: Intensity | None = None


def load_scenarios(path: str | Path) -> list[Scenario]:
    raw = read_yaml_file(Path(path), "scenarios file")
    if not isinstance(raw, dict) or not isinstance(raw.get("scenarios", []), list):
        raise InputError(f"{path}: expected a top-level 'scenarios:' list")
    try:
        return [Scenario.model_validate(s) for s in raw.get("scenarios", [])]
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"])
        raise InputError(f"{path}: scenario key '{where}': {problem['msg']}") from None


def overlay(contracts: list[Contract], changes: dict[str, dict[str, Any]]) -> list[Contract]:
    """New contracts with the changes applied; unknown ids or keys are errors."""
    known = {c.id for c in contracts}
    unknown = set(changes) - known
    if unknown:
        raise InputError(f"scenario changes unknown contract(s) {sorted(unknown)}")
    out = []
    for contract in contracts:
        if contract.id not in changes:
            out.append(contract)
            continue
        merged = {**contract.model_dump(by_alias=True, exclude_none=True), **changes[contract.id]}
        try:
            out.append(Contract.model_validate(merged))
        except ValidationError as exc:
            raise InputError(
                f"scenario overlay on contract '{contract.id}': "
                f"{exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}"
            ) from None
    return out


def resample(activities: pd.DataFrame, contacts_per_month: float, seed: int) -> pd.DataFrame:
    """Each participant-month's activities resampled (with replacement) to the target count."""
    if activities.empty:
        return activities
    rng = np.random.default_rng(seed)
    month = activities["date"].dt.to_period("M").astype(str)
    groups = pd.factorize(activities["participant_id"].astype(str) + "|" + month)[0]
    n_groups = groups.max() + 1
    sizes = np.bincount(groups, minlength=n_groups)
    target = np.maximum(1, rng.poisson(contacts_per_month, n_groups))
    order = np.argsort(groups, kind="stable")
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    which = np.repeat(np.arange(n_groups), target)
    picks = order[starts[which] + (rng.random(len(which)) * sizes[which]).astype(np.int64)]
    out = activities.iloc[picks].reset_index(drop=True)
    out["activity_id"] = (
        out["activity_id"].astype(str) + "~" + pd.Series(np.arange(len(out))).astype(str)
    ).astype(object)
    resampled: pd.DataFrame = out
    return resampled


def _cost(lines: pd.DataFrame) -> float:
    """Staff time at hourly cost, for every accepted minute (unknown cost counts as 0): the
    lines of an activity share its minutes, so their costs add up to the activity's."""
    hourly = np.nan_to_num(lines["hourly_cost"].to_numpy(dtype=float, na_value=np.nan))
    return float((hourly * lines["minutes"].to_numpy(dtype=float, na_value=0.0) / 60.0).sum())


def summarize(name: str, evaluation: Evaluation) -> dict[str, Any]:
    lines = evaluation.lines.loc[evaluation.lines["status"] != "rejected"]
    billed = lines.loc[lines["status"].isin(["billable", "bundled"])]
    revenue = float(lines["amount"].sum())
    member_months = int(billed[["participant_id", "month"]].astype(str).drop_duplicates().shape[0])
    contacts = int(billed["activity_id"].nunique())
    cost = _cost(lines)
    per_contact = revenue / contacts if contacts else np.nan
    cost_per_mm = cost / member_months if member_months else np.nan
    return {
        "scenario": name,
        "revenue": round(revenue, 2),
        "member_months": member_months,
        "revenue_per_member_month": round(revenue / member_months, 2) if member_months else np.nan,
        "cost": round(cost, 2),
        "cost_coverage": round(revenue / cost, 4) if cost else np.nan,
        "break_even_pempm": round(cost_per_mm, 2) if member_months else np.nan,
        "contacts_per_member_month": round(contacts / member_months, 2)
        if member_months
        else np.nan,
        "break_even_contacts_per_member_month": round(cost_per_mm / per_contact, 2)
        if contacts and member_months and per_contact
        else np.nan,
        "billable_minutes": int(lines.loc[lines["status"] == "billable", "minutes"].sum()),
        "unbillable_minutes": int(lines.loc[lines["status"] == "unbillable", "minutes"].sum()),
    }


def simulate(data: Dataset, scenarios: list[Scenario]) -> pd.DataFrame:
    """One row per scenario (and per swept value): revenue, coverage and break-even figures."""
    rows = [summarize("baseline", evaluate_dataset(data))]
    for scenario in scenarios:
        variants: list[tuple[str, dict[str, dict[str, Any]]]] = [
            (scenario.name, scenario.contracts)
        ]
        if scenario.sweep is not None:
            sweep = scenario.sweep
            variants = [
                (
                    f"{scenario.name}[{sweep.field}={value}]",
                    {
                        **scenario.contracts,
                        sweep.contract: {
                            **scenario.contracts.get(sweep.contract, {}),
                            sweep.field: value,
                        },
                    },
                )
                for value in sweep.values
            ]
        for name, changes in variants:
            tables = dict(data.tables)
            if scenario.intensity is not None:
                tables["activities"] = resample(
                    data.activities, scenario.intensity.contacts_per_month, scenario.intensity.seed
                )
            variant = Dataset(
                tables,
                overlay(data.contracts, changes),
                data.rejects,
                data.sources,
                data.input_rows,
                data.refused,
            )
            rows.append(summarize(name, evaluate_dataset(variant)))
    return pd.DataFrame(rows, columns=SIMULATION_COLUMNS)

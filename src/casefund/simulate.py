"""Rate simulation: the same activities under alternative contracts.

A scenario is an overlay on the contracts (``contracts: {id: {field: value}}``), optionally a
sweep of one field over values, and optionally an intensity what-if that resamples each
engaged member-month's activities to a target number of contacts. Overlays build new contract
objects; the baseline is never edited.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from casefund.errors import InputError
from casefund.evaluation import Evaluation, evaluate_dataset
from casefund.io.load import Dataset
from casefund.io.safe_yaml import read_yaml_file
from casefund.records.contracts import Contract
from casefund.records.payment_models import claimed_by_month
from casefund.reports.columns import Kind, exact
from casefund.reports.funding_mix import line_costs

SIMULATION_COLUMNS = [
    "scenario",
    "revenue",
    "member_months",
    "revenue_per_member_month",
    "cost",
    "margin",
    "cost_coverage",
    "break_even_pempm",
    "contacts_per_member_month",
    "break_even_contacts_per_member_month",
    "billable_minutes",
    "unbillable_minutes",
]


# Per scenario and contract: what it earned, what the work it was paid for cost, and the
# break-evens solved from them (not swept).
CONTRACT_COLUMNS = [
    "scenario",
    "contract_id",
    "payment",
    "revenue",
    "cost",
    "margin",
    "cost_coverage",
    "member_months",
    "units",
    "services",
    "services_per_member_month",
    "break_even_pempm",
    "break_even_unit_rate",
    "break_even_services_per_month",
]
MAX_SWEEP_VALUES = 1000
M, R, C = Kind.MONEY, Kind.RATIO, Kind.COUNT
SIMULATION_KINDS: dict[str, Kind] = {
    "revenue": M,
    "cost": M,
    "margin": M,
    "cost_coverage": R,
    "member_months": C,
    "revenue_per_member_month": M,
    "units": Kind.UNITS,
    "services": C,
    "services_per_member_month": R,
    "contacts_per_member_month": R,
    "break_even_pempm": M,
    "break_even_unit_rate": M,
    "break_even_services_per_month": R,
    "break_even_contacts_per_member_month": R,
    "billable_minutes": Kind.MINUTES,
    "unbillable_minutes": Kind.MINUTES,
}


class Sweep(BaseModel):
    """One contract field over a list of ``values``, or a range ``from``..``to`` (inclusive)
    by ``step``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    contract: str
    field: str
    values: list[Any] | None = None
    start: float | None = Field(default=None, alias="from")
    stop: float | None = Field(default=None, alias="to")
    step: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _one_kind(self) -> Sweep:
        ranged = (self.start, self.stop, self.step)
        if self.values is not None and any(v is not None for v in ranged):
            raise ValueError("give either values or from/to/step, not both")
        if self.values is None and any(v is None for v in ranged):
            raise ValueError("give values, or all of from, to and step")
        if self.values is None and len(self.points()) > MAX_SWEEP_VALUES:
            raise ValueError(f"from/to/step gives more than {MAX_SWEEP_VALUES} values")
        if self.values is None and not self.points():
            raise ValueError("from/to/step gives no value (is 'to' below 'from'?)")
        return self

    def points(self) -> list[Any]:
        """The swept values, a range's counted in whole steps (no float drift: 0.1 steps
        give 0.3, not 0.30000000000000004)."""
        if self.values is not None:
            return list(self.values)
        assert self.start is not None and self.stop is not None and self.step is not None
        count = int(np.floor((self.stop - self.start) / self.step + 1e-9)) + 1
        if count > MAX_SWEEP_VALUES + 1:
            return [None] * count  # refused by the validator, never evaluated
        places = max(_places(self.start), _places(self.step))
        return [round(self.start + i * self.step, places) for i in range(max(count, 0))]


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


def _places(value: float) -> int:
    text = repr(float(value))
    return len(text.split(".")[1].rstrip("0")) if "." in text and "e" not in text else 6


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


def _line_costs(lines: pd.DataFrame) -> np.ndarray:
    """Each line's cost: staff time and recorded pass-through amounts, as the funding mix
    counts them."""
    staff, passed = line_costs(lines)
    costs: np.ndarray = staff + passed
    return costs


def _cost(lines: pd.DataFrame) -> float:
    return float(_line_costs(lines).sum())


def contract_figures(name: str, evaluation: Evaluation) -> pd.DataFrame:
    """Per contract that was paid anything: revenue, the cost of the work it was paid for
    (its billed and bundled lines), the margin, and each break-even solved from them —
    the PEMPM rate (cost ÷ engaged member-months), the unit rate (cost ÷ billed units) and
    the services per member-month its revenue per member-month would cover (revenue per
    member-month ÷ cost per service)."""
    lines = evaluation.table("lines")
    paid = lines.loc[lines["status"].isin(["billable", "bundled"]).to_numpy(dtype=bool)]
    paid = paid.assign(
        _cost=_line_costs(paid),
        _month=paid["participant_id"].astype(str) + "|" + paid["month"].astype(str),
        contract_id=paid["contract_id"].astype(str),
    )
    grouped = paid.groupby("contract_id", sort=True)
    table = pd.DataFrame(
        {
            "revenue": grouped["amount"].sum(),
            "cost": grouped["_cost"].sum(),
            "member_months": grouped["_month"].nunique(),
            "units": grouped["units"].sum(),
            "services": grouped["activity_id"].nunique(),
        }
    )
    payments = {c.id: c.payment for c in evaluation.dataset.contracts} if evaluation.dataset else {}
    mm, units, services = table["member_months"], table["units"], table["services"]
    cost_per_service = table["cost"] / services.where(services > 0)
    out = table.assign(
        scenario=name,
        contract_id=table.index,
        payment=[payments.get(c, "") for c in table.index],
        margin=table["revenue"] - table["cost"],
        cost_coverage=table["revenue"] / table["cost"].where(table["cost"] > 0),
        services_per_member_month=services / mm.where(mm > 0),
        break_even_pempm=table["cost"] / mm.where(mm > 0),
        break_even_unit_rate=table["cost"] / units.where(units > 0),
        break_even_services_per_month=(table["revenue"] / mm.where(mm > 0)) / cost_per_service,
    )
    return exact(out.reset_index(drop=True)[CONTRACT_COLUMNS], SIMULATION_KINDS)


def summarize(name: str, evaluation: Evaluation) -> dict[str, Any]:
    """The scenario's agency-wide row. Revenue and cost are taken to the cent first, so the
    margin is their difference as shown; every other figure is rounded once, by its
    declared kind, where the table is built (:data:`SIMULATION_KINDS`)."""
    every = evaluation.table("lines")
    lines = every.loc[(every["status"] != "rejected").to_numpy(dtype=bool)]
    billed = lines.loc[lines["status"].isin(["billable", "bundled"]).to_numpy(dtype=bool)]
    revenue = round(float(lines["amount"].sum()), 2)
    cost = round(_cost(lines), 2)
    member_months = int(billed[["participant_id", "month"]].astype(str).drop_duplicates().shape[0])
    contacts = int(billed["activity_id"].nunique())
    mm = member_months or np.nan
    per_contact = revenue / contacts if contacts else np.nan
    status = lines["status"].astype(object)
    return {
        "scenario": name,
        "revenue": revenue,
        "member_months": member_months,
        "revenue_per_member_month": revenue / mm,
        "cost": cost,
        "margin": round(revenue - cost, 2),
        "cost_coverage": revenue / cost if cost else np.nan,
        "break_even_pempm": cost / mm,
        "contacts_per_member_month": contacts / mm,
        "break_even_contacts_per_member_month": (cost / mm) / per_contact
        if per_contact
        else np.nan,
        "billable_minutes": int(lines.loc[(status == "billable").to_numpy(), "minutes"].sum()),
        "unbillable_minutes": int(lines.loc[(status == "unbillable").to_numpy(), "minutes"].sum()),
    }


@dataclass(frozen=True)
class SweepPoint:
    """Which swept value a scenario row is."""

    sweep: str  # the scenario's name
    contract: str
    field: str
    value: Any


@dataclass(frozen=True)
class Simulation:
    """Per scenario (``scenarios``: agency-wide) and per scenario and contract
    (``contracts``: the solved break-evens), and which rows are points of a sweep."""

    scenarios: pd.DataFrame
    contracts: pd.DataFrame
    points: dict[str, SweepPoint] = field(default_factory=dict)


def simulate(data: Dataset, scenarios: list[Scenario]) -> pd.DataFrame:
    """One row per scenario (and per swept value): revenue, cost, margin, coverage and
    agency-wide break-even figures (see :func:`run_simulation` for them per contract)."""
    return run_simulation(data, scenarios).scenarios


def run_simulation(data: Dataset, scenarios: list[Scenario]) -> Simulation:
    """Every scenario evaluated once: its agency-wide row and its rows per contract."""
    rows = []
    per_contract = []
    points: dict[str, SweepPoint] = {}
    for name, variant in _variants(data, scenarios, points):
        evaluation = evaluate_dataset(variant)
        rows.append(summarize(name, evaluation))
        per_contract.append(contract_figures(name, evaluation))
    return Simulation(
        exact(pd.DataFrame(rows, columns=SIMULATION_COLUMNS), SIMULATION_KINDS),
        pd.concat(per_contract, ignore_index=True),
        points,
    )


def _variants(
    data: Dataset, scenarios: list[Scenario], points: dict[str, SweepPoint]
) -> Iterator[tuple[str, Dataset]]:
    yield "baseline", data
    for scenario in scenarios:
        variants: list[tuple[str, dict[str, dict[str, Any]]]] = [
            (scenario.name, scenario.contracts)
        ]
        if scenario.sweep is not None:
            sweep = scenario.sweep
            variants = []
            for value in sweep.points():
                label = f"{scenario.name}[{sweep.field}={value}]"
                points[label] = SweepPoint(scenario.name, sweep.contract, sweep.field, value)
                mine = {**scenario.contracts.get(sweep.contract, {}), sweep.field: value}
                variants.append((label, {**scenario.contracts, sweep.contract: mine}))
        for name, changes in variants:
            tables = dict(data.tables)
            if scenario.intensity is not None:
                tables["activities"] = resample(
                    data.activities, scenario.intensity.contacts_per_month, scenario.intensity.seed
                )
            yield (
                name,
                Dataset(
                    tables,
                    overlay(data.contracts, changes),
                    data.rejects,
                    data.sources,
                    data.input_rows,
                    data.refused,
                ),
            )


def solved_break_even(row: pd.Series, field_name: str) -> float | None:
    """The swept field's break-even value, where one is solved for it: a contract's rate is
    its break-even PEMPM when it is paid by the month, else its break-even unit rate."""
    if field_name != "rate":
        return None
    column = "break_even_pempm" if row["payment"] in claimed_by_month() else "break_even_unit_rate"
    value = row[column]
    return None if pd.isna(value) else float(value)


def sweep_margins(
    simulation: Simulation,
) -> dict[str, tuple[pd.DataFrame, SweepPoint, float | None]]:
    """Per sweep over a number: the swept contract's margin at each value, and the solved
    break-even to mark (the same at every value: it does not depend on the rate)."""
    contracts = simulation.contracts.set_index(["scenario", "contract_id"])
    found: dict[str, list[tuple[float, float]]] = {}
    first: dict[str, tuple[SweepPoint, float | None]] = {}
    for label, point in simulation.points.items():
        if (label, point.contract) not in contracts.index:
            continue  # the contract was paid nothing at this value
        if not isinstance(point.value, (int, float)) or isinstance(point.value, bool):
            continue
        row = contracts.loc[[(label, point.contract)]].iloc[0]
        found.setdefault(point.sweep, []).append((float(point.value), float(row["margin"])))
        first.setdefault(point.sweep, (point, solved_break_even(row, point.field)))
    return {
        sweep: (pd.DataFrame(values, columns=["value", "margin"]), *first[sweep])
        for sweep, values in found.items()
    }

"""Rate simulation: overlays never edit the baseline; sweeps and intensity what-ifs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from casefund.cli import app
from casefund.errors import InputError
from casefund.io.load import load_dataset
from casefund.simulate import Scenario, Sweep, overlay, simulate
from casefund.synthetic import Shape, demo_contracts, generate

runner = CliRunner()


@pytest.fixture(scope="module")
def data() -> object:
    return load_dataset(generate(Shape(participants=30, months=2, seed=4)), demo_contracts())


def test_overlay_builds_new_contracts_and_leaves_the_baseline(data: object) -> None:
    contracts = data.contracts  # type: ignore[attr-defined]
    changed = overlay(contracts, {"mcp_a_ecm": {"rate": 600.0}})
    assert next(c for c in changed if c.id == "mcp_a_ecm").rate == 600.0
    assert next(c for c in contracts if c.id == "mcp_a_ecm").rate == 450.0
    with pytest.raises(InputError, match="unknown contract"):
        overlay(contracts, {"nope": {"rate": 1}})
    with pytest.raises(InputError, match="mcp_a_ecm"):
        overlay(contracts, {"mcp_a_ecm": {"payment": "barter"}})


def test_pempm_rate_sweep_moves_revenue_linearly(data: object) -> None:
    sweep = Scenario(name="s", sweep=Sweep(contract="mcp_a_ecm", field="rate", values=[400, 500]))
    result = simulate(data, [sweep]).set_index("scenario")  # type: ignore[arg-type]
    low, high = result.loc["s[rate=400]"], result.loc["s[rate=500]"]
    months_paid = (high["revenue"] - low["revenue"]) / 100
    assert months_paid == pytest.approx(round(months_paid))  # whole PEMPM months
    assert high["cost"] == low["cost"] and high["break_even_pempm"] == low["break_even_pempm"]
    assert result.loc["baseline", "revenue"] == pytest.approx(low["revenue"] + 50 * months_paid)


def test_more_contacts_cost_more(data: object) -> None:
    busy = Scenario.model_validate({"name": "busy", "intensity": {"contacts_per_month": 12}})
    result = simulate(data, [busy]).set_index("scenario")  # type: ignore[arg-type]
    assert result.loc["busy", "cost"] > result.loc["baseline", "cost"]
    assert (
        result.loc["busy", "contacts_per_member_month"]
        > result.loc["baseline", "contacts_per_member_month"]
    )


def test_simulate_command(tmp_path: Path) -> None:
    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "small_agency"
    scenarios = tmp_path / "scenarios.yaml"
    scenarios.write_text(
        "scenarios:\n  - name: higher\n    contracts:\n      county_tcm: {rate: 40}\n"
    )
    out = tmp_path / "sim.csv"
    result = runner.invoke(
        app, ["simulate", "--data", str(fixture), "--scenarios", str(scenarios), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out).set_index("scenario")
    chart = tmp_path / "chart.html"
    drawn = runner.invoke(
        app,
        [
            "simulate",
            "--data",
            str(fixture),
            "--scenarios",
            str(scenarios),
            "--out",
            str(out),
            "--chart",
            str(chart),
        ],
    )
    page = chart.read_text()
    assert drawn.exit_code == 0 and page.count('aria-roledescription="bar"') == 4
    solved = pd.read_csv(tmp_path / "sim_by_contract.csv")
    assert set(solved["scenario"]) == {"baseline", "higher"}
    assert {"break_even_pempm", "break_even_unit_rate", "margin"} <= set(solved.columns)
    assert "Break-evens per contract" in drawn.output
    # Regression (issue 17): the labels were cut to a few characters; each is whole now.
    assert "Scenario: baseline;" in page and "Scenario: higher;" in page
    assert frame.loc["higher", "revenue"] - frame.loc["baseline", "revenue"] == pytest.approx(
        2 * (40 - 31.5)
    )

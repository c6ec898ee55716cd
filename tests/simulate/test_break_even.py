"""Break-evens solved per contract, checked by hand on a tiny agency.

Three members with Medicaid TCM coverage; one case manager at $60 an hour; 171 minutes of
covered case management in January 2024 (p1: 60 + 30 minutes, p2: 81, p3: none), so two
engaged member-months and $171.00 of staff time. At $450 PEMPM the break-even rate is
$171 / 2 = $85.50; paid by 30-minute units rounded down (2 + 1 + 2 = 5 units) the
break-even unit rate is $171 / 5 = $34.20.
"""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

from casefund.io.load import load_dataset
from casefund.simulate import Scenario, Sweep, run_simulation

ACTIVITIES = pd.DataFrame(
    {
        "activity_id": ["a1", "a2", "a3"],
        "participant_id": ["p1", "p1", "p2"],
        "date": ["2024-01-05", "2024-01-12", "2024-01-20"],
        "minutes": [60, 30, 81],
        "activity": ["referral", "care_plan", "monitoring"],
        "mode": ["in_person"] * 3,
        "staff_id": ["s1"] * 3,
    }
)
COVERAGE = pd.DataFrame(
    {
        "participant_id": ["p1", "p2", "p3"] * 2,
        "program": ["tcm"] * 3 + ["medi_cal"] * 3,
        "payer": ["county_bh"] * 3 + ["mcp_a"] * 3,
        "start_date": ["2023-01-01"] * 6,
    }
)
PEMPM = {
    "id": "tcm",
    "payer": "County",
    "payer_id": "county_bh",
    "program": "tcm",
    "payment": "pempm",
    "rate": 450,
    "effective": {"from": "2024-01-01"},
}
FFS = {**PEMPM, "payment": "ffs_unit", "rate": 40, "unit_minutes": 30, "rounding": "whole_units"}


def _tiny(contract: dict[str, object]) -> object:
    tables = {
        "participants": pd.DataFrame({"participant_id": ["p1", "p2", "p3"]}),
        "activities": ACTIVITIES,
        "coverage": COVERAGE,
        "staff": pd.DataFrame({"staff_id": ["s1"], "hourly_cost": [60.0], "fte": [1.0]}),
    }
    return load_dataset(tables, {"contracts": [contract]})


def test_pempm_break_even_is_cost_over_engaged_member_months() -> None:
    result = run_simulation(_tiny(PEMPM), [])  # type: ignore[arg-type]
    row = result.contracts.set_index("contract_id").loc["tcm"]
    assert row["cost"] == 171.00 and row["member_months"] == 2 and row["revenue"] == 900.00
    assert row["break_even_pempm"] == 85.50
    assert row["margin"] == 729.00
    # $450 a member-month covers 450 / 57 services a month at $57 a service (171 / 3).
    assert row["break_even_services_per_month"] == pytest.approx(7.89, abs=0.005)
    scenario = result.scenarios.set_index("scenario").loc["baseline"]
    assert scenario["margin"] == 729.00 and scenario["cost"] == 171.00


def test_fee_for_service_break_even_is_cost_over_billed_units() -> None:
    result = run_simulation(_tiny(FFS), [])  # type: ignore[arg-type]
    row = result.contracts.set_index("contract_id").loc["tcm"]
    assert row["units"] == 5 and row["revenue"] == 200.00
    assert row["break_even_unit_rate"] == 34.20
    assert row["cost_coverage"] == pytest.approx(200 / 171, abs=0.005)


def test_a_rate_sweep_crosses_zero_margin_at_the_solved_break_even() -> None:
    sweep = Sweep.model_validate(
        {"contract": "tcm", "field": "rate", "from": 80, "to": 90, "step": 2.5}
    )
    assert sweep.points() == [80.0, 82.5, 85.0, 87.5, 90.0]
    result = run_simulation(
        _tiny(PEMPM),  # type: ignore[arg-type]
        [Scenario(name="pempm", sweep=sweep)],
    )
    rows = result.contracts.loc[result.contracts["scenario"].str.startswith("pempm")]
    margins = rows.set_index("scenario")["margin"]
    assert margins["pempm[rate=85.0]"] == -1.00 and margins["pempm[rate=87.5]"] == 4.00
    assert (rows["break_even_pempm"] == 85.50).all()  # solved, whatever the swept rate
    assert result.points["pempm[rate=85.0]"].value == 85.0


def test_sweep_ranges_are_exact_and_refused_when_malformed() -> None:
    tenths = Sweep.model_validate(
        {"contract": "c", "field": "rate", "from": 0.1, "to": 0.5, "step": 0.1}
    )
    assert tenths.points() == [0.1, 0.2, 0.3, 0.4, 0.5]  # never 0.30000000000000004
    for bad in (
        {"values": [1], "from": 0, "to": 1, "step": 1},
        {"from": 0, "to": 1},
        {"from": 5, "to": 1, "step": 1},
        {"from": 0, "to": 1e6, "step": 1},
        {"from": 0, "to": 1, "step": 0},
    ):
        with pytest.raises(ValidationError):
            Sweep.model_validate({"contract": "c", "field": "rate", **bad})


def test_the_chart_marks_the_break_even_on_the_margin_line(tmp_path: object) -> None:
    from pathlib import Path

    from typer.testing import CliRunner

    from casefund.cli import app
    from casefund.synthetic import write_dataset

    folder = Path(str(tmp_path))
    tables = {
        "participants": pd.DataFrame({"participant_id": ["p1", "p2", "p3"]}),
        "activities": ACTIVITIES,
        "coverage": COVERAGE,
        "staff": pd.DataFrame({"staff_id": ["s1"], "hourly_cost": [60.0], "fte": [1.0]}),
    }
    write_dataset(tables, {"contracts": [PEMPM]}, folder / "data")
    (folder / "s.yaml").write_text(
        "scenarios:\n  - name: pempm\n"
        "    sweep: {contract: tcm, field: rate, from: 60, to: 120, step: 20}\n"
    )
    result = CliRunner().invoke(
        app,
        ["simulate", "--data", str(folder / "data"), "--scenarios", str(folder / "s.yaml"),
         "--out", str(folder / "sim.csv"), "--chart", str(folder / "sim.html")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    page = (folder / "sim.html").read_text()
    assert "break-even $85.50" in page and "Margin of tcm against its rate" in page
    solved = pd.read_csv(folder / "sim_by_contract.csv").set_index("scenario")
    assert solved.loc["pempm[rate=80.0]", "margin"] == -11.00  # 2 × 80 − 171

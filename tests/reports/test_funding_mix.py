"""The funding-mix report: costs add up, funders' shares, files a finance person can open."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]
from typer.testing import CliRunner

import casefund
from casefund.cli import app
from casefund.reports.funding_mix import funding_mix

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "small_agency"
runner = CliRunner()


def test_costs_split_into_funders_and_the_unfunded_remainder() -> None:
    mix = funding_mix(casefund.evaluate(FIXTURE))
    by = mix.by_funder.set_index("funder")
    # Staff S01 costs $48/h, S02 $52.50/h (fixtures/small_agency/staff.csv).
    assert by.loc["County Behavioral Health", "cost"] == pytest.approx(35 * 48 / 60)
    assert by.loc["(unfunded)", "cost"] == pytest.approx(60 * 52.5 / 60)
    assert by["share_of_cost"].sum() == pytest.approx(1.0, abs=1e-3)
    assert mix.unbillable_reasons.iloc[0]["reason"]
    assert mix.budgets.set_index("contract_id").loc["rw_nmcm", "billed"] == 44.0


def test_regression_unfunded_cost_includes_unpaid_pass_through_amounts() -> None:
    """Regression (issue 17): unfunded cost counted staff time only; the demo's unpaid
    housing deposits and meals recorded on activities appeared nowhere."""
    from casefund.synthetic import Shape, demo_contracts, generate

    evaluation = casefund.evaluate(
        generate(Shape(participants=60, months=4, seed=3)), demo_contracts()
    )
    lines = evaluation.lines
    assert evaluation.dataset is not None
    recorded = float(evaluation.dataset.activities["amount"].astype(float).sum())
    assert recorded > 0
    assert float(lines["pass_through"].sum()) == pytest.approx(recorded, abs=0.01 * len(lines))
    unpaid = float(lines.loc[lines["status"] == "unbillable", "pass_through"].sum())
    assert unpaid > 0
    mix = funding_mix(evaluation)
    by = mix.by_funder.set_index("funder")
    assert by.loc["(unfunded)", "pass_through"] == pytest.approx(unpaid, abs=0.01)
    assert (by["cost"] - by["staff_cost"] - by["pass_through"]).abs().max() < 0.011
    assert by["pass_through"].sum() == pytest.approx(recorded, abs=0.5)


def test_a_run_without_staff_costs_says_so(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(FIXTURE, data)
    (data / "staff.csv").unlink()
    mix = funding_mix(casefund.evaluate(data))
    assert any(n.startswith("No staff table") for n in mix.notices)
    result = runner.invoke(
        app, ["report", "funding-mix", "--data", str(data), "--out", str(tmp_path / "m.html")]
    )
    assert result.exit_code == 0, result.output
    assert "note: No staff table" in " ".join(result.output.split())
    page = (tmp_path / "m.html").read_text()
    assert "No staff table" in page
    # Regression (issue 17): without staff costs every cost was $0.00; time is shown instead.
    assert "Staff time by funder and month (hours; no staff costs known)" in page
    assert "Hours of staff time" in page
    result = runner.invoke(
        app, ["report", "funding-mix", "--data", str(data), "--out", str(tmp_path / "m.xlsx")]
    )
    assert result.exit_code == 0, result.output
    book = load_workbook(tmp_path / "m.xlsx")
    assert "notes" in book.sheetnames and "No staff table" in str(book["notes"]["A2"].value)


def test_caseload_is_checked_against_the_program_models() -> None:
    caseload = funding_mix(casefund.evaluate(FIXTURE)).caseload
    assert set(caseload.columns) >= {"caseload_per_fte", "within_icm_20", "within_act_15"}
    assert caseload["within_icm_20"].all()


def test_xlsx_and_html_files(tmp_path: Path) -> None:
    xlsx, page = tmp_path / "mix.xlsx", tmp_path / "mix.html"
    for out in (xlsx, page):
        result = runner.invoke(
            app, ["report", "funding-mix", "--data", str(FIXTURE), "--out", str(out)]
        )
        assert result.exit_code == 0, result.output
    book = load_workbook(xlsx)
    assert "funding by funder" in book.sheetnames and book["funding by funder"]["A1"].font.bold
    text = page.read_text()
    assert "recoverable revenue" in book.sheetnames
    assert "<script" not in text and "<link" not in text  # nothing fetched at view time
    figures = re.findall(r"<svg.*?</svg>", text, flags=re.S)
    assert len(figures) >= 3
    for figure in figures:  # axes with values, a title saying the period
        assert figure.count("role-axis-label") >= 2 and "role-title-text" in figure
        assert "2024-0" in figure
    # Regression (issue 17): legends were cut at 20 characters ("County Behavioral He").
    assert "County Behavioral Health" in figures[0]
    # Regression (issue 17): expenses were stacked on the funders as if one of them.
    assert "Expenses table (not a funder)" in figures[0]


def _simulation_page(folder: Path) -> Path:
    scenarios = folder / "scenarios.yaml"
    scenarios.write_text(
        "scenarios:\n  - name: tcm_rate\n    sweep:\n      contract: county_tcm\n"
        "      field: rate\n      from: 20\n      to: 60\n      step: 10\n"
    )
    page = folder / "sim.html"
    result = runner.invoke(
        app,
        ["simulate", "--data", str(FIXTURE), "--scenarios", str(scenarios),
         "--out", str(folder / "sim.csv"), "--chart", str(page)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return page


def _funding_mix_page(folder: Path) -> Path:
    page = folder / "mix.html"
    result = runner.invoke(
        app, ["report", "funding-mix", "--data", str(FIXTURE), "--out", str(page)]
    )
    assert result.exit_code == 0, result.output
    return page


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium not installed")
@pytest.mark.parametrize("make", [_funding_mix_page, _simulation_page], ids=["mix", "simulation"])
def test_each_html_report_renders_in_headless_chromium(
    make: Callable[[Path], Path], tmp_path: Path
) -> None:
    """Each report page, rendered as a browser shows it, has its charts drawn (the bars'
    blue), and its tables sit in boxes that scroll sideways on their own."""
    page = make(tmp_path)
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={shot}",
            "--window-size=900,1400",
            page.as_uri(),
        ],
        check=True,
        timeout=120,
        capture_output=True,
    )
    import numpy as np
    from PIL import Image  # type: ignore[import-not-found]

    image = np.asarray(Image.open(shot).convert("RGB"))
    pixels = image.reshape(-1, 3)
    # Vega's first category colour fills the first series' bars; nothing else on the
    # page uses it (the tables' headers are another blue).
    bars = int((pixels == (76, 120, 168)).all(axis=1).sum())
    assert bars > 500
    assert "class='table'" in page.read_text(encoding="utf-8")


def test_regression_a_partitioned_run_costs_and_caseloads_like_one_pass() -> None:
    """Bug: funding_mix(evaluate(d, partitions=2)) reported $0 cost and an empty caseload
    sheet, because it costed the activities table, which a partitioned run does not hold.
    The lines now carry each share's staff member and hourly cost."""
    whole = funding_mix(casefund.evaluate(FIXTURE))
    for parts in (2, 3):
        split = funding_mix(casefund.evaluate(FIXTURE, partitions=parts))
        assert split.by_funder["cost"].sum() > 0
        for name, frame in whole.sheets().items():
            pd.testing.assert_frame_equal(split.sheets()[name], frame, obj=f"{name}, {parts}")


def test_chart_text_from_user_data_is_escaped() -> None:
    """A funder named by the agency (contracts.yaml) lands in a chart's legend: as text,
    never as markup in the page."""
    from casefund.reports import charts

    frame = pd.DataFrame(
        {"month": ["2024-01"], "<script>alert(1)</script>": [10.0], "expenses": [1.0]}
    )
    page = charts.cost_by_month(frame, "Cost <img src=x onerror=alert(1)>")
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;" in page and "&lt;img" in page


def test_page_tables_read_as_their_declared_kinds() -> None:
    """Regression (session 9): page tables printed every float with two places — a share
    of 0.2718 as 0.27 and a loss as $-146.50 once dollars were added."""
    from casefund.reports.columns import Kind
    from casefund.reports.funding_mix_files import html_table

    frame = pd.DataFrame(
        {"funder": ["<b>MCP</b>"], "margin": [-146.5], "share": [0.2718], "minutes": [1234]}
    )
    page = html_table(frame, {"margin": Kind.MONEY, "share": Kind.SHARE, "minutes": Kind.MINUTES})
    assert "<td class='n'>-$146.50</td>" in page
    assert "<td class='n'>27.18%</td>" in page and "<td class='n'>1,234</td>" in page
    assert "&lt;b&gt;MCP&lt;/b&gt;" in page and "<b>" not in page
    assert page.startswith("<div class='table'>")

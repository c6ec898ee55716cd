"""Outputs an auditor needs (issue 12, finding 9): who lapses when, and charges to Ryan White
clients against the annual caps of 42 U.S.C. 300ff-15(e)."""

from typing import Any

import numpy as np
import pandas as pd
import pytest

import casefund

from conftest import act, evaluate, span

RW = {
    "id": "rw",
    "payer": "Ryan White Part A",
    "payer_id": "rw_a",
    "program": "ryan_white_nmcm",
    "payment": "ffs_unit",
    "rate": 20.0,
    "unit_minutes": 15,
    "parameters": {"income_limit_pct_fpl": 300, "service_areas": ["Houston HSDA"]},
}
TEXAS = {**RW, "parameters": {**RW["parameters"], "recertification_days": 182}}
DETERMINATION = span("p1", "ryan_white", "2024-01-15", "2025-01-14", payer="rw_a")


def due(
    coverage: list[dict[str, Any]], contracts: list[dict[str, Any]], as_of: str
) -> pd.DataFrame:
    tables = {
        "participants": pd.DataFrame({"participant_id": ["p1"]}),
        "coverage": pd.DataFrame(coverage),
    }
    return casefund.recertification(tables, {"contracts": contracts}, as_of=as_of)


@pytest.mark.parametrize(
    ("as_of", "status", "days_left"),
    [
        ("2024-03-01", "current", 136),
        ("2024-06-15", "due_soon", 30),
        ("2024-07-15", "due_soon", 0),
        ("2024-07-16", "lapsed", -1),
    ],
)
def test_texas_six_month_recertification(as_of: str, status: str, days_left: int) -> None:
    # Texas DSHS Policy 220.001: a six-month self-attestation (182 days here) comes due
    # before the annual renewal; PCN 21-02 alone would give a year.
    row = due([DETERMINATION], [TEXAS], as_of).iloc[0]
    assert (row["eligible_through"], row["status"], row["days_left"]) == (
        pd.Timestamp("2024-07-15"),
        status,
        days_left,
    )


def test_annual_determination_under_pcn_21_02_ends_with_its_span() -> None:
    row = due([DETERMINATION], [RW], "2025-01-01").iloc[0]
    assert (row["program"], row["payer"], row["eligible_through"], row["status"]) == (
        "ryan_white",
        "rw_a",
        pd.Timestamp("2025-01-14"),
        "due_soon",
    )


def test_a_renewed_span_replaces_the_old_one_and_open_spans_never_lapse() -> None:
    coverage = [
        span("p1", "ryan_white", "2023-01-15", "2024-01-14", payer="rw_a"),
        DETERMINATION,
        span("p1", "medi_cal", "2020-01-01", payer="mcp_a"),
        span("p1", "community_supports", "2024-02-01", "2024-04-30", payer="mcp_a"),
    ]
    frame = due(coverage, [RW], "2024-06-01")
    assert frame[["program", "eligible_through", "status"]].values.tolist() == [
        ["community_supports", pd.Timestamp("2024-04-30"), "lapsed"],
        ["ryan_white", pd.Timestamp("2025-01-14"), "current"],
    ]


def test_evaluate_writes_recertification_as_of_the_last_service() -> None:
    person = {
        "participant_id": "p1",
        "hiv": "yes",
        "income_pct_fpl": 150,
        "service_area": "Houston HSDA",
    }
    result = evaluate(
        [person], [act("a1", "p1", "2024-07-10", 30, "referral")], [TEXAS], [DETERMINATION]
    )
    row = result.recertification.iloc[0]
    assert (row["as_of"], row["status"]) == (pd.Timestamp("2024-07-10"), "due_soon")


def charge_caps(
    people: list[dict[str, Any]],
    charges: list[tuple[str, str, float, str]],
    contracts: list[dict[str, Any]] = (RW,),
) -> pd.DataFrame:  # type: ignore[assignment]
    frame = pd.DataFrame(charges, columns=["participant_id", "date", "amount", "contract_id"])
    result = casefund.evaluate(
        {"participants": pd.DataFrame(people), "charges": frame}, {"contracts": list(contracts)}
    )
    return result.charge_caps.set_index(["participant_id", "year"])


def test_charges_against_the_income_bands() -> None:
    people = [
        {"participant_id": "low", "income_pct_fpl": 90, "annual_income": 12000},
        {"participant_id": "mid", "income_pct_fpl": 150, "annual_income": 20000},
        {"participant_id": "high", "income_pct_fpl": 350, "annual_income": 60000},
        {"participant_id": "unknown", "income_pct_fpl": 250},
    ]
    charges = [
        ("low", "2024-02-01", 10.0, "rw"),
        ("mid", "2024-02-01", 600.0, "rw"),
        ("mid", "2024-09-01", 500.0, ""),
        ("mid", "2025-01-05", 300.0, "rw"),
        ("high", "2024-05-01", 5000.0, "rw"),
        ("unknown", "2024-05-01", 50.0, "rw"),
    ]
    caps = charge_caps(people, charges)
    # At or below 100% FPL no charge at all (300ff-15(e)(1)).
    assert caps.loc[("low", 2024), ["cap_share", "cap_amount"]].tolist() == [0.0, 0.0]
    assert caps.loc[("low", 2024), "over_cap"]
    # 101-200% FPL: 5% of $20,000 = $1,000 a calendar year; $1,100 charged in 2024.
    mid = caps.loc[("mid", 2024)]
    assert (mid["cap_share"], mid["cap_amount"], mid["charged"]) == (0.05, 1000.0, 1100.0)
    assert mid["over_cap"] and mid["excess"] == 100.0 and mid["charges"] == 2
    assert not caps.loc[("mid", 2025), "over_cap"]  # the cap is per calendar year
    high = caps.loc[("high", 2024)]
    assert (high["cap_share"], high["cap_amount"], high["over_cap"]) == (0.10, 6000.0, False)
    # Income in dollars unknown: the share is known, the dollar cap cannot be stated.
    unknown = caps.loc[("unknown", 2024)]
    assert unknown["cap_share"] == 0.07 and pd.isna(unknown["cap_amount"])
    assert pd.isna(unknown["over_cap"])


def test_charges_under_another_program_are_not_ryan_white_charges() -> None:
    grant = {"id": "city", "payer": "City", "program": "grant", "payment": "grant"}
    people = [{"participant_id": "mid", "income_pct_fpl": 150, "annual_income": 20000}]
    caps = charge_caps(
        people,
        [("mid", "2024-02-01", 900.0, "rw"), ("mid", "2024-03-01", 900.0, "city")],
        [RW, grant],
    )
    assert caps.loc[("mid", 2024), "charged"] == 900.0


@pytest.mark.parametrize(
    ("income", "share"),
    [(100, 0.0), (100.5, 0.05), (200, 0.05), (201, 0.07), (300, 0.07), (301, 0.10)],
)
def test_client_charge_cap_bands(income: float, share: float) -> None:
    # 300ff-15(e): none at or below 100% FPL; 5% to 200%; 7% to 300%; 10% above.
    import datetime as dt

    from casefund.payers.charges import charge_cap_share
    from casefund.rules.book import rule_book

    bands = (
        rule_book().parameters["ryan_white_nmcm"].value("client_charge_caps", dt.date(2024, 1, 1))
    )
    assert charge_cap_share(np.array([income]), bands)[0] == share

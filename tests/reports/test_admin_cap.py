"""The administrative caps over the expenses table, measured against the award.

42 U.S.C. 300ff-14(h)(1)-(2): not more than 10 percent "of amounts received under the grant"
(for subrecipients, "of the aggregate amount so allocated"); 300ff-28(b)(2)-(4) for Part B's
planning and combined caps; 300ff-14(h)(5) for clinical quality management. Regression tests
for issue 12, finding 3: the caps were shares of spending, and Part A contracts got Part B's.
"""

from typing import Any

import pandas as pd
import pytest

import casefund

RW = {
    "id": "rw",
    "payer": "RW",
    "program": "ryan_white_nmcm",
    "payment": "ffs_unit",
    "rate": 20.0,
    "ryan_white_part": "A",
    "award": 2_000_000,
    "effective": {"from": "2024-03-01", "to": "2025-02-28"},
}


def cap_rows(expenses: list[tuple[Any, ...]], contract: dict[str, Any] = RW) -> pd.DataFrame:
    columns = ["month", "category", "amount", "service_category"][: len(expenses[0])]
    frame = pd.DataFrame(expenses, columns=columns).assign(contract_id=contract["id"])
    result = casefund.evaluate(
        {"participants": pd.DataFrame({"participant_id": ["p1"]}), "expenses": frame},
        {"contracts": [contract]},
    )
    return result.admin_cap


def cap_row(expenses: list[tuple[Any, ...]], contract: dict[str, Any] = RW) -> pd.Series:
    rows = cap_rows(expenses, contract)
    assert len(rows) == 1
    return rows.iloc[0]


def test_the_cap_is_ten_percent_of_the_award_not_of_spending() -> None:
    # $2,000,000 awarded, $1,000,000 spent of which $150,000 administrative: 7.5% of the
    # award (within the $200,000 cap) although 15% of what was spent.
    row = cap_row([("2024-03", "direct", 850_000.0), ("2024-03", "administrative", 150_000.0)])
    assert (row["award"], row["cap"], row["excess"]) == (2_000_000, 200_000.0, 0.0)
    assert row["share"] == pytest.approx(0.075)
    assert row["share_of_expenditure"] == pytest.approx(0.15)


def test_excess_is_the_dollars_above_the_cap() -> None:
    row = cap_row(
        [
            ("2024-03", "direct", 1_500_000.0),
            ("2024-04", "administrative", 180_000.0),
            ("2024-05", "indirect", 50_000.0),
        ]
    )
    assert row["administrative"] == 230_000.0  # indirect costs count (300ff-14(h)(4))
    assert row["excess"] == 30_000.0


def test_the_test_is_an_aggregate_over_the_budget_period() -> None:
    # One month at 40% administrative does not breach the cap: the period's total decides.
    row = cap_row(
        [
            ("2024-03", "direct", 100_000.0),
            ("2024-03", "administrative", 66_000.0),
            ("2024-09", "direct", 900_000.0),
            ("2024-09", "administrative", 60_000.0),
        ]
    )
    assert row["excess"] == 0.0 and row["administrative"] == 126_000.0


def test_budget_periods_run_from_the_contract_anniversary() -> None:
    rows = cap_rows(
        [
            ("2024-02", "administrative", 1000.0),
            ("2024-03", "administrative", 500.0),
            ("2025-02", "administrative", 250.0),
        ]
    )
    day = pd.Timestamp
    assert rows[["period", "period_start", "period_end", "administrative"]].values.tolist() == [
        ["2023", day("2023-03-01"), day("2024-02-29"), 1000.0],
        ["2024", day("2024-03-01"), day("2025-02-28"), 750.0],
    ]


def test_regression_a_leap_day_anchor_leaves_no_day_between_budget_periods() -> None:
    """Regression (issue 17): a period's end was counted from its own (clipped) start, so a
    contract begun on 29 February had its 2027 period end on 2028-02-27 while the next
    began on 2028-02-29, leaving 28 February in no period."""
    contract = {**RW, "effective": {"from": "2024-02-29"}}
    rows = cap_rows(
        [("2027-03", "administrative", 10.0), ("2028-03", "administrative", 20.0)], contract
    )
    spans = [[d.strftime("%Y-%m-%d") for d in pair] for pair in
             rows[["period_start", "period_end"]].itertuples(index=False)]  # fmt: skip
    assert spans == [["2027-02-28", "2028-02-28"], ["2028-02-29", "2029-02-27"]]


def test_budget_stands_in_for_a_missing_award_and_spending_for_both() -> None:
    budget = {k: v for k, v in RW.items() if k != "award"} | {"caps": {"budget": 500_000}}
    row = cap_row(
        [("2024-03", "direct", 90_000.0), ("2024-03", "administrative", 10_000.0)], budget
    )
    assert (row["award"], row["award_source"], row["cap"]) == (500_000, "budget", 50_000.0)
    neither = {k: v for k, v in RW.items() if k != "award"}
    row = cap_row(
        [("2024-03", "direct", 90_000.0), ("2024-03", "administrative", 11_000.0)], neither
    )
    # Spending can only be at or below the award, so the stand-in can only be stricter.
    assert (row["award"], row["award_source"], row["cap"]) == (101_000, "expenditure", 10_100.0)
    assert row["excess"] == 900.0


def test_quality_management_is_carved_out_only_up_to_its_limit() -> None:
    # Lesser of 5% of the award or $3,000,000 (300ff-14(h)(5)): $100,000 on a $2,000,000
    # award; the $20,000 above it counts as administrative.
    row = cap_row(
        [
            ("2024-03", "direct", 1_000_000.0),
            ("2024-03", "administrative", 190_000.0),
            ("2024-03", "quality_management", 120_000.0),
        ]
    )
    assert (row["cqm_limit"], row["cqm_excess"]) == (100_000.0, 20_000.0)
    assert row["administrative"] == 210_000.0 and row["excess"] == 10_000.0


def test_three_million_dollar_ceiling_on_quality_management() -> None:
    big = {**RW, "award": 100_000_000}
    row = cap_row([("2024-03", "quality_management", 3_500_000.0)], big)
    assert (row["cqm_limit"], row["cqm_excess"]) == (3_000_000.0, 500_000.0)


def test_part_b_planning_and_combined_caps_against_the_award() -> None:
    # Part B: planning and evaluation <= 10% (300ff-28(b)(2)); with administration <= 15%
    # (300ff-28(b)(4)). $1,000,000 award: $120,000 planning, $60,000 administration.
    part_b = {**RW, "ryan_white_part": "B", "award": 1_000_000}
    row = cap_row(
        [
            ("2024-03", "direct", 700_000.0),
            ("2024-03", "planning", 120_000.0),
            ("2024-03", "administrative", 60_000.0),
        ],
        part_b,
    )
    assert (row["planning_cap"], row["planning_excess"]) == (100_000.0, 20_000.0)
    assert (row["combined_cap"], row["combined_excess"]) == (150_000.0, 30_000.0)
    assert (row["administrative"], row["excess"]) == (60_000.0, 0.0)


def test_part_a_gets_no_part_b_caps_and_its_planning_costs_are_administrative() -> None:
    # Part A: planning-council activities are administrative (300ff-14(h)(3)).
    row = cap_row(
        [
            ("2024-03", "direct", 700_000.0),
            ("2024-03", "planning", 120_000.0),
            ("2024-03", "administrative", 100_000.0),
        ]
    )
    assert pd.isna(row["planning_cap"]) and pd.isna(row["combined_cap"])
    assert (row["administrative"], row["excess"]) == (220_000.0, 20_000.0)


def test_contract_cap_overrides_the_program_default() -> None:
    florida = {**RW, "admin_cap": 0.075}  # Florida Part B's stricter aggregate limit
    row = cap_row([("2024-03", "administrative", 160_000.0)], florida)
    assert (row["cap"], row["excess"]) == (150_000.0, 10_000.0)


def test_share_does_not_depend_on_expense_row_order() -> None:
    rows = [
        ("2024-03", "direct", 9000.0),
        ("2024-05", "administrative", 700.0),
        ("2024-04", "indirect", 333.33),
        ("2024-04", "direct", 1234.5),
    ]
    assert cap_row(rows).equals(cap_row(rows[::-1]))


def test_core_medical_share_of_what_remains_after_reserves() -> None:
    row = cap_row(
        [
            ("2024-03", "direct", 70000.0, "core_medical"),
            ("2024-03", "direct", 20000.0, "support"),
            ("2024-03", "administrative", 8000.0, None),
            ("2024-03", "quality_management", 2000.0, None),
        ]
    )
    assert row["core_medical_share"] == pytest.approx(70000 / 90000, abs=1e-6)
    assert row["core_medical_floor"] == 0.75

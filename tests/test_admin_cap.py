"""The administrative cap over the expenses table (42 U.S.C. 300ff-14(h))."""

import pandas as pd
import pytest

import casefund

RW = {"id": "rw", "payer": "RW", "program": "ryan_white_nmcm", "payment": "ffs_unit",
      "rate": 20.0}


def cap_row(expenses: list[tuple[str, str, float]], contract: dict[str, object] = RW
            ) -> pd.Series:
    frame = pd.DataFrame(expenses, columns=["month", "category", "amount"]).assign(
        contract_id="rw")
    result = casefund.evaluate({"participants": pd.DataFrame({"participant_id": ["p1"]}),
                                "expenses": frame}, {"contracts": [contract]})
    return result.admin_cap.iloc[0]


def test_admin_exactly_at_the_cap_has_no_excess() -> None:
    row = cap_row([("2024-01", "direct", 9000.0), ("2024-01", "administrative", 1000.0)])
    assert row["share"] == pytest.approx(0.10) and row["cap"] == 0.10 and row["excess"] == 0


def test_one_dollar_over_shows_as_excess() -> None:
    row = cap_row([("2024-01", "direct", 9000.0), ("2024-01", "administrative", 1001.0)])
    assert row["excess"] == pytest.approx(1001.0 - 0.10 * 10001.0, abs=0.01)
    assert row["excess"] > 0


def test_indirect_costs_count_as_administrative() -> None:
    row = cap_row([("2024-01", "direct", 9000.0), ("2024-01", "administrative", 600.0),
                   ("2024-02", "indirect", 600.0)])
    assert row["administrative"] == 1200.0 and row["excess"] > 0


def test_quality_management_is_not_administrative() -> None:
    row = cap_row([("2024-01", "direct", 8500.0), ("2024-01", "administrative", 1000.0),
                   ("2024-01", "quality_management", 500.0)])
    assert row["administrative"] == 1000.0 and row["excess"] == 0


def test_contract_cap_overrides_the_program_default() -> None:
    florida = {**RW, "admin_cap": 0.075}
    row = cap_row([("2024-01", "direct", 9000.0), ("2024-01", "administrative", 900.0)], florida)
    assert row["cap"] == 0.075 and row["excess"] == pytest.approx(900 - 0.075 * 9900)


def test_share_does_not_depend_on_expense_row_order() -> None:
    rows = [("2024-01", "direct", 9000.0), ("2024-03", "administrative", 700.0),
            ("2024-02", "indirect", 333.33), ("2024-02", "direct", 1234.5)]
    forward = cap_row(rows)
    backward = cap_row(rows[::-1])
    assert forward.equals(backward)


@pytest.mark.parametrize(("income", "share"), [(100, 0.0), (100.5, 0.05), (200, 0.05),
                                                (201, 0.07), (300, 0.07), (301, 0.10)])
def test_client_charge_caps_by_income(income: float, share: float) -> None:
    from casefund.payers.charges import annual_charge_cap_share

    assert annual_charge_cap_share(pd.Series([income])).iloc[0] == share


def test_part_b_planning_and_combined_caps_and_cqm_limit() -> None:
    contract = {**RW, "caps": {"budget": 100000}}
    row = cap_row([("2024-01", "direct", 80000.0), ("2024-01", "administrative", 8000.0),
                   ("2024-01", "planning", 8000.0), ("2024-01", "quality_management", 6000.0)],
                  contract)
    assert row["planning_cap"] == 0.10 and row["planning_admin_cap"] == 0.15
    assert row["planning_admin_share"] == pytest.approx(16000 / 102000, abs=1e-6)
    assert row["cqm_limit"] == 5000.0 and row["cqm_excess"] == 1000.0


def test_core_medical_share_of_what_remains_after_reserves() -> None:
    frame = pd.DataFrame([
        ("2024-01", "direct", 70000.0, "core_medical"),
        ("2024-01", "direct", 20000.0, "support"),
        ("2024-01", "administrative", 8000.0, None),
        ("2024-01", "quality_management", 2000.0, None),
    ], columns=["month", "category", "amount", "service_category"]).assign(contract_id="rw")
    result = casefund.evaluate({"participants": pd.DataFrame({"participant_id": ["p1"]}),
                                "expenses": frame}, {"contracts": [RW]})
    row = result.admin_cap.iloc[0]
    assert row["core_medical_share"] == pytest.approx(70000 / 90000, abs=1e-6)
    assert row["core_medical_floor"] == 0.75

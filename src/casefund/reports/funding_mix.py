"""The funding-mix report: who paid for the case management delivered, and what is left.

Cost is staff time at the staff table's hourly cost for every accepted minute (the minutes
of each line, so a split activity's cost is split with it), plus the expenses table. Every
figure is read from the lines (which carry their staff member and hourly cost) and the
contracts, so a partitioned run reports exactly what one pass does. Each
funder's share is what its contracts billed; the unfunded remainder is the cost of
unbillable minutes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from casefund.reports.columns import KINDS, Kind, exact
from casefund.reports.functions import function_order
from casefund.reports.outputs import Evaluation
from casefund.rules.book import RuleBook, rule_book


@dataclass
class FundingMix:
    by_funder: pd.DataFrame
    by_month: pd.DataFrame
    unbillable_reasons: pd.DataFrame
    budgets: pd.DataFrame
    caseload: pd.DataFrame
    admin_cap: pd.DataFrame
    recoverable: pd.DataFrame
    # What the reader must know to read the cost right (no staff costs, say).
    notices: list[str] = field(default_factory=list)
    # Hours of staff time by month and funder, and whether any staff cost is known: where
    # none is, the report shows time where it cannot show dollars.
    hours_by_month: pd.DataFrame = field(default_factory=pd.DataFrame)
    staff_costs_known: bool = True
    # Per case manager over the period, against their program model; and time by
    # case-management function (TIP 27) with how much of it was billable.
    caseloads: pd.DataFrame = field(default_factory=pd.DataFrame)
    functions: pd.DataFrame = field(default_factory=pd.DataFrame)

    def sheet_kinds(self) -> dict[str, dict[str, Kind]]:
        """What each sheet's numbers are (its workbook formats)."""
        money, share = Kind.MONEY, Kind.SHARE
        return {
            "funding by funder": {
                "minutes": Kind.MINUTES,
                "staff_cost": money,
                "pass_through": money,
                "cost": money,
                "billed": money,
                "share_of_cost": share,
            },
            "funding by month": {"*": money, "month": Kind.MONTH},  # a cost column per funder
            "unbillable reasons": {
                "lines": Kind.COUNT,
                "minutes": Kind.MINUTES,
                "cost": money,
                "share_of_unfunded_cost": share,
            },
            "budget vs actual": {
                "budget": money,
                "billed": money,
                "remaining": money,
                "share_spent": share,
            },
            "caseload per FTE": {
                "month": Kind.MONTH,
                "participants": Kind.COUNT,
                "fte": Kind.RATIO,
                "caseload_per_fte": Kind.RATIO,
            },
            "admin cap": KINDS["admin_cap"],
            "recoverable revenue": KINDS["recoverable"],
            "caseloads by model": {
                "months": Kind.COUNT,
                "most_participants": Kind.COUNT,
                "fte": Kind.RATIO,
                "caseload_max": Kind.COUNT,
                "limit_for_fte": Kind.RATIO,
                "months_over": Kind.COUNT,
                "most_past_span": Kind.COUNT,
            },
            "time by function": {
                "minutes": Kind.MINUTES,
                "billable_minutes": Kind.MINUTES,
                "bundled_minutes": Kind.MINUTES,
                "unbillable_minutes": Kind.MINUTES,
                "hours": Kind.RATIO,
                "share_billable": share,
            },
        }

    def sheets(self) -> dict[str, pd.DataFrame]:
        """Each sheet, its numbers rounded to their declared places."""
        frames = {
            "funding by funder": self.by_funder,
            "funding by month": self.by_month,
            "unbillable reasons": self.unbillable_reasons,
            "budget vs actual": self.budgets,
            "caseload per FTE": self.caseload,
            "admin cap": self.admin_cap,
            "recoverable revenue": self.recoverable,
            "caseloads by model": self.caseloads,
            "time by function": self.functions,
        }
        kinds = self.sheet_kinds()
        sheets = {name: exact(frame, kinds[name]) for name, frame in frames.items()}
        if self.notices:
            sheets["notes"] = pd.DataFrame({"note": self.notices})
        return sheets


def line_costs(lines: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each line's staff cost (its minutes at the hourly cost; unknown cost counts as 0)
    and the recorded pass-through amount it carries (a deposit, meals: with the line that
    paid it, or with the activity's unbillable remainder when nobody did). The lines of an
    activity share its minutes and its recorded cost, so their costs add up to the
    activity's: every recorded dollar once."""
    hourly = np.nan_to_num(lines["hourly_cost"].to_numpy(dtype=float, na_value=np.nan))
    minutes = lines["minutes"].to_numpy(dtype=float, na_value=0.0)
    passed = np.nan_to_num(lines["pass_through"].to_numpy(dtype=float, na_value=0.0))
    return hourly * minutes / 60.0, passed


def _line_costs(evaluation: Evaluation) -> pd.DataFrame:
    every = evaluation.table("lines")
    lines = every.loc[every["status"] != "rejected"].copy()
    for column in ("payer", "contract_id", "program", "status", "month"):
        lines[column] = lines[column].astype(object).fillna("")
    staff, passed = line_costs(lines)
    lines["staff_cost"] = np.round(staff, 2)
    lines["pass_through"] = np.round(passed, 2)
    lines["cost"] = (lines["staff_cost"] + lines["pass_through"]).round(2)
    lines["funder"] = np.where(lines["status"] == "unbillable", "(unfunded)", lines["payer"])
    return lines


def funding_mix(evaluation: Evaluation) -> FundingMix:
    lines = _line_costs(evaluation)
    by_funder = (
        lines.groupby(["funder", "contract_id", "program"], sort=True)
        .agg(
            minutes=("minutes", "sum"),
            staff_cost=("staff_cost", "sum"),
            pass_through=("pass_through", "sum"),
            cost=("cost", "sum"),
            billed=("amount", "sum"),
        )
        .reset_index()
    )
    total_cost = by_funder["cost"].sum()
    by_funder["share_of_cost"] = (by_funder["cost"] / total_cost).round(4) if total_cost else 0.0
    assert evaluation.dataset is not None
    expenses = evaluation.dataset["expenses"]
    monthly = lines.pivot_table(
        index="month", columns="funder", values="cost", aggfunc="sum", fill_value=0.0
    ).round(2)
    hours = (
        lines.assign(hours=lines["minutes"] / 60.0)
        .pivot_table(index="month", columns="funder", values="hours", aggfunc="sum", fill_value=0.0)
        .round(2)
        .reset_index()
    )
    hours.columns.name = None
    if not expenses.empty:
        other = expenses.groupby(expenses["month"].astype(str))["amount"].sum()
        monthly["expenses"] = other.reindex(monthly.index).fillna(0.0)
    by_month = monthly.reset_index()
    by_month.columns.name = None
    reasons = _unbillable_reasons(lines, rule_book())
    budgets = _budgets(evaluation, lines)
    return FundingMix(
        by_funder,
        by_month,
        reasons,
        budgets,
        _caseload(evaluation, lines),
        evaluation.table("admin_cap"),
        _recoverable(evaluation.table("recoverable")),
        cost_notices(lines, expenses_missing=expenses.empty, staff=evaluation.dataset["staff"]),
        hours,
        bool(lines["hourly_cost"].astype(float).notna().any()),
        caseloads_by_model(evaluation.table("caseloads")),
        time_by_function(evaluation.table("functions")),
    )


def caseloads_by_model(caseloads: pd.DataFrame) -> pd.DataFrame:
    """One row per case manager over the period: their model and limit, their largest
    caseload, the months they were over it and the most participants past a time-limited
    model's span (the month-by-month table is the caseloads output)."""
    columns = [
        "staff_id",
        "team",
        "program_model",
        "basis",
        "months",
        "most_participants",
        "fte",
        "caseload_max",
        "limit_for_fte",
        "months_over",
        "most_past_span",
    ]
    if caseloads.empty:
        return pd.DataFrame(columns=columns)
    frame = caseloads.assign(over=caseloads["over_limit"].astype(bool))
    out = frame.groupby(["staff_id", "team", "program_model", "basis"], as_index=False).agg(
        months=("month", "nunique"),
        most_participants=("participants", "max"),
        fte=("fte", "last"),
        caseload_max=("caseload_max", "last"),
        limit_for_fte=("limit_for_fte", "last"),
        months_over=("over", "sum"),
        most_past_span=("past_span", "max"),
    )
    out["months_over"] = out["months_over"].astype(int)
    return (
        out[columns]
        .sort_values(["program_model", "staff_id"], kind="stable")
        .reset_index(drop=True)
    )


def time_by_function(functions: pd.DataFrame) -> pd.DataFrame:
    """Minutes per case-management function over the period, whoever was billed, in the
    functions output's order (TIP 27's), with the share billable or bundled."""
    columns = ["function", "minutes", "billable_minutes", "bundled_minutes", "unbillable_minutes"]
    if functions.empty:
        return pd.DataFrame(columns=[*columns, "hours", "share_billable"])
    order = function_order(rule_book())
    out = functions.groupby("function", sort=False)[columns[1:]].sum()
    out = out.reindex([f for f in order if f in out.index]).reset_index()
    out["hours"] = (out["minutes"] / 60.0).round(2)
    billed = out["billable_minutes"] + out["bundled_minutes"]
    out["share_billable"] = (billed / out["minutes"].where(out["minutes"] > 0)).round(6)
    return out


def cost_notices(lines: pd.DataFrame, expenses_missing: bool, staff: pd.DataFrame) -> list[str]:
    """What the cost figures leave out, in words (shown in the report and the console)."""
    minutes = lines["minutes"].to_numpy(dtype=np.int64)
    total = int(minutes.sum())
    unknown = lines["hourly_cost"].astype(float).isna().to_numpy(dtype=bool)
    uncosted = int(minutes[unknown].sum())
    notices = []
    if staff.empty and total:
        notices.append(
            f"No staff table (staff.csv): the cost of staff time is unknown, so cost counts "
            f"recorded pass-through amounts only; staff time is shown as time instead "
            f"({total:,} minutes, {total / 60:,.0f} hours)."
        )
    elif uncosted:
        notices.append(
            f"{uncosted:,} of {total:,} minutes ({uncosted / total:.1%}) have no staff hourly "
            "cost (no staff member on the activity, or none in staff.csv with a cost): their "
            "staff time counts as $0.00."
        )
    if expenses_missing:
        notices.append(
            "No expenses table (expenses.csv): spending outside activities is not shown."
        )
    return notices


def _unbillable_reasons(lines: pd.DataFrame, book: RuleBook) -> pd.DataFrame:
    """Unfunded time by each unbillable line's primary reason (one reason a line, so the
    rows add up to the unfunded cost), largest cost first."""
    unbillable = lines.loc[lines["status"] == "unbillable"]
    keys = ["primary_contract_id", "primary_reason"]
    table = (
        unbillable.assign(**{k: unbillable[k].astype(object) for k in keys})
        .groupby(keys, sort=True)
        .agg(lines=("minutes", "size"), minutes=("minutes", "sum"), cost=("cost", "sum"))
        .reset_index()
        .rename(columns={"primary_contract_id": "contract_id", "primary_reason": "rule"})
    )
    total = table["cost"].sum()
    table["share_of_unfunded_cost"] = (table["cost"] / total).round(4) if total else 0.0
    entries = book.reason_entries()
    table["reason"] = table["rule"].map(lambda r: entries[r].reason if r in entries else "")
    table["cost"] = table["cost"].round(2)
    return table.sort_values(
        ["cost", "minutes", "rule"], ascending=[False, False, True], kind="stable"
    ).reset_index(drop=True)


def _recoverable(recoverable: pd.DataFrame) -> pd.DataFrame:
    """Unbillable time by class (fixable by the agency or not billable), contract and
    primary reason over the whole period, with its estimated worth, largest first."""
    keys = ["class", "contract_id", "payer", "rule_id", "what_to_fix"]
    table = (
        recoverable.groupby(keys, sort=True)
        .agg(
            activities=("activities", "sum"),
            minutes=("minutes", "sum"),
            estimated_amount=("estimated_amount", "sum"),
        )
        .reset_index()
    )
    table["estimated_amount"] = table["estimated_amount"].round(2)
    return table.sort_values(
        ["class", "estimated_amount"], ascending=[True, False], kind="stable"
    ).reset_index(drop=True)


def _budgets(evaluation: Evaluation, lines: pd.DataFrame) -> pd.DataFrame:
    assert evaluation.dataset is not None
    rows = []
    billed = lines.loc[lines["status"] == "billable"]
    for contract in evaluation.dataset.contracts:
        mine = billed.loc[billed["contract_id"] == contract.id]
        spent = float(mine["amount"].sum())
        budget = contract.caps.budget
        rows.append(
            {
                "contract_id": contract.id,
                "payer": contract.payer,
                "budget": budget,
                "billed": round(spent, 2),
                "remaining": None if budget is None else round(budget - spent, 2),
                "share_spent": None if not budget else round(spent / budget, 4),
            }
        )
    return pd.DataFrame(rows)


def _caseload(evaluation: Evaluation, lines: pd.DataFrame) -> pd.DataFrame:
    """Participants served per staff member and month, per FTE, against the program models
    (activities without a staff member are not anyone's caseload)."""
    assert evaluation.dataset is not None
    data = evaluation.dataset
    staffed = lines.loc[lines["staff_id"].astype(object).fillna("") != ""]
    if staffed.empty:
        return pd.DataFrame(
            columns=["staff_id", "month", "participants", "fte", "caseload_per_fte"]
        )
    served = (
        staffed[["staff_id", "month", "participant_id"]]
        .astype(object)
        .groupby(["staff_id", "month"])["participant_id"]
        .nunique()
        .rename("participants")
        .reset_index()
    )
    fte = data["staff"].set_index(data["staff"]["staff_id"].astype(str))["fte"].astype(float)
    served["fte"] = served["staff_id"].astype(str).map(fte).fillna(1.0)
    served["caseload_per_fte"] = (served["participants"] / served["fte"]).round(1)
    models = rule_book().parameters["program_models"]
    # Each month is judged by the limits in force on its first day.
    firsts = {m: dt.date.fromisoformat(f"{m}-01") for m in served["month"].unique()}
    icm = served["month"].map({m: models.value("icm_caseload_max", d) for m, d in firsts.items()})
    act = served["month"].map({m: models.value("act_caseload_max", d) for m, d in firsts.items()})
    served["within_icm_20"] = served["caseload_per_fte"] <= icm.astype(float)
    served["within_act_15"] = served["caseload_per_fte"] <= act.astype(float)
    return served

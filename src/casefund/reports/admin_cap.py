"""The administrative-cost caps per contract and budget period, against the award.

Ryan White caps administration at 10 percent "of amounts received under the grant" (42 U.S.C.
300ff-14(h)(1)); for the entities a recipient funds, of "the aggregate amount so allocated"
(h)(2): the denominator is the award, not what was spent, and the test is an aggregate over
everything charged to the award in the period, never a per-line or per-entity test. Indirect
costs count as administrative ((h)(4): "usual and recognized overhead, including established
indirect rates"). Clinical quality management is not administrative up to its own limit, the
lesser of 5 percent of the award or $3,000,000 ((h)(5)); what is spent above that limit is
counted as administrative too (the conservative reading: only the limited amount is carved
out). Part B adds planning and evaluation at 10 percent (300ff-28(b)(2)) and planning,
evaluation and administration together at 15 percent (300ff-28(b)(4)); for the other parts
planning and planning-council costs are administrative (300ff-14(h)(3)).

A budget period runs twelve months from the anniversary of the contract's start (the Ryan
White grant year; a calendar year for a contract without a start) and is labelled by the
year it begins, as grant years are. The award is read as the amount for one budget period;
without an award or a budget the period's own expenditure stands in for it, which can only
make a cap stricter (nobody spends more than they receive), and ``award_source`` says so.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from dateutil.relativedelta import relativedelta

from casefund.payers.terms import contract_parameters
from casefund.records.contracts import Contract
from casefund.rules.book import RuleBook

ADMIN_CAP_COLUMNS = [
    "contract_id",
    "period",
    "award",
    "direct",
    "administrative",
    "share",
    "cap",
    "excess",
    "period_start",
    "period_end",
    "award_source",
    "ryan_white_part",
    "share_of_expenditure",
    "indirect",
    "planning",
    "quality_management",
    "total",
    "planning_cap",
    "planning_excess",
    "combined_cap",
    "combined_excess",
    "cqm_limit",
    "cqm_excess",
    "core_medical_share",
    "core_medical_floor",
]
_CATEGORIES = ("direct", "administrative", "indirect", "planning", "quality_management")


def budget_period_start(contract: Contract, month_start: dt.date) -> dt.date:
    """The first day of the budget period a month falls in (its first day decides)."""
    anchor = contract.effective.start
    if anchor is None:
        return dt.date(month_start.year, 1, 1)
    year = (
        month_start.year
        if (month_start.month, month_start.day) >= (anchor.month, anchor.day)
        else month_start.year - 1
    )
    return _anniversary(anchor, year)


def budget_period_end(contract: Contract, start: dt.date) -> dt.date:
    """The last day of the budget period beginning on ``start``: the day before the next
    anniversary of the contract's start (counted from the contract's own start, so a period
    anchored on 29 February ends on the right day in a leap year too)."""
    anchor = contract.effective.start or dt.date(start.year, 1, 1)
    return _anniversary(anchor, start.year + 1) - dt.timedelta(days=1)


def _anniversary(anchor: dt.date, year: int) -> dt.date:
    # relativedelta's absolute year keeps the month and day, 29 February becoming the 28th
    # in a common year.
    day: dt.date = anchor + relativedelta(year=year)
    return day


def build_admin_cap(
    expenses: pd.DataFrame, contracts: list[Contract], book: RuleBook
) -> pd.DataFrame:
    """One row per contract and budget period of its expenses."""
    if expenses.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in ADMIN_CAP_COLUMNS})
    by_id = {c.id: c for c in contracts}
    keys = pd.DataFrame(
        {
            "contract_id": expenses["contract_id"].astype(object),
            "month": expenses["month"].astype(object),
        }
    )
    # Budget periods are found once per distinct contract and month, then joined back.
    distinct = keys.drop_duplicates()
    firsts = pd.to_datetime(distinct["month"].astype("string") + "-01", errors="coerce")
    period_starts = np.array(
        [
            budget_period_start(by_id[cid], first.date())
            if cid in by_id and not pd.isna(first)
            else None
            for cid, first in zip(distinct["contract_id"], firsts, strict=True)
        ],
        dtype=object,
    )
    distinct = distinct.assign(period_start=period_starts)
    starts = keys.merge(distinct, on=["contract_id", "month"], how="left")["period_start"]
    frame = pd.DataFrame(
        {
            "contract_id": keys["contract_id"],
            "period_start": starts.to_numpy(dtype=object),
            "category": expenses["category"].astype(object).to_numpy(),
            "amount": expenses["amount"].astype(float).to_numpy(),
            "core": (expenses["service_category"].astype(object) == "core_medical").to_numpy(),
            "categorized": expenses["service_category"].notna().to_numpy(),
        }
    ).dropna(subset=["period_start"])
    totals = frame.pivot_table(
        index=["contract_id", "period_start"],
        columns="category",
        values="amount",
        aggfunc="sum",
        fill_value=0.0,
    )
    direct_core = (
        frame.loc[frame["core"] & (frame["category"] == "direct")]
        .groupby(["contract_id", "period_start"])["amount"]
        .sum()
    )
    categorized = frame.loc[frame["categorized"]].groupby(["contract_id", "period_start"]).size()
    spent = totals.reindex(columns=list(_CATEGORIES), fill_value=0.0).astype(float)
    rows = [
        _period_row(
            by_id[cid],
            start,
            spent.loc[(cid, start)].to_dict(),
            float(direct_core.get((cid, start), 0.0)),
            bool(categorized.get((cid, start), 0)),
            book,
        )
        for cid, start in spent.index
    ]
    out = pd.DataFrame(rows, columns=ADMIN_CAP_COLUMNS)
    return out.sort_values(["contract_id", "period_start"]).reset_index(drop=True)


def _period_row(
    contract: Contract,
    start: dt.date,
    spent: dict[str, float],
    core_direct: float,
    split_known: bool,
    book: RuleBook,
) -> dict[str, object]:
    params = contract_parameters(book.parameters, contract)
    at = params.at(start)  # the limits in force when the budget period begins
    ryan_white = contract.program == "ryan_white_nmcm"
    part_b = ryan_white and contract.ryan_white_part == "B"
    total = sum(spent.values())
    qm = spent["quality_management"]
    award, source = contract.award_amount, "award" if contract.award is not None else "budget"
    if award is None:
        award, source = total, "expenditure"

    def dollars(share_name: str) -> float:
        share = at.get(share_name)
        return float("nan") if share is None else round(float(share) * award, 2)

    cqm_limit = (
        min(dollars("cqm_share_cap"), float(at.get("cqm_dollar_cap") or np.inf))
        if ryan_white
        else float("nan")
    )
    cqm_excess = round(max(qm - cqm_limit, 0.0), 2) if ryan_white else 0.0
    planning_is_admin = ryan_white and not part_b
    administrative = (
        spent["administrative"]
        + spent["indirect"]
        + cqm_excess
        + (spent["planning"] if planning_is_admin else 0.0)
    )
    rate = contract.admin_cap if contract.admin_cap is not None else at.get("admin_cap")
    cap = float("nan") if rate is None else round(float(rate) * award, 2)
    remaining = total - administrative - min(qm, cqm_limit if ryan_white else qm)
    planning_cap = dollars("planning_cap") if part_b else float("nan")
    combined_cap = dollars("planning_admin_cap") if part_b else float("nan")
    return {
        "contract_id": contract.id,
        "period": str(start.year),
        "award": round(award, 2),
        "direct": round(spent["direct"], 2),
        "administrative": round(administrative, 2),
        "share": round(administrative / award, 6) if award > 0 else float("nan"),
        "cap": cap,
        "excess": _excess(administrative, cap),
        "period_start": start.isoformat(),
        "period_end": budget_period_end(contract, start).isoformat(),
        "award_source": source,
        "ryan_white_part": contract.ryan_white_part or "",
        "share_of_expenditure": round(administrative / total, 6) if total > 0 else 0.0,
        "indirect": round(spent["indirect"], 2),
        "planning": round(spent["planning"], 2),
        "quality_management": round(qm, 2),
        "total": round(total, 2),
        "planning_cap": planning_cap,
        "planning_excess": _excess(spent["planning"], planning_cap),
        "combined_cap": combined_cap,
        "combined_excess": _excess(spent["planning"] + administrative, combined_cap),
        "cqm_limit": cqm_limit,
        "cqm_excess": cqm_excess,
        "core_medical_share": (
            round(core_direct / remaining, 6) if split_known and remaining > 0 else float("nan")
        ),
        "core_medical_floor": (
            float(at["core_medical_floor"])
            if split_known and ryan_white and at.get("core_medical_floor") is not None
            else float("nan")
        ),
    }


def _excess(spent: float, cap: float) -> float:
    """Dollars above the cap (0 within it; blank where no cap applies)."""
    if np.isnan(cap):
        return float("nan")
    return round(max(spent - cap, 0.0), 2)

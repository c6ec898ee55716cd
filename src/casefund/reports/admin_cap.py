"""The administrative-cost cap per contract and period, from the expenses table.

Indirect costs count as administrative (42 U.S.C. 300ff-14(h)(4): subrecipient administrative
costs include "usual and recognized overhead, including established indirect rates");
clinical quality management does not (300ff-14(h)(5)). The cap is an aggregate test over
everything charged to the contract in the period, not a per-line test (300ff-14(h)(2)).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from casefund.payers.contracts import Contract

ADMIN_CAP_COLUMNS = [
    "contract_id",
    "period",
    "direct",
    "administrative",
    "share",
    "cap",
    "excess",
    "indirect",
    "planning",
    "quality_management",
    "total",
    "planning_share",
    "planning_cap",
    "planning_admin_share",
    "planning_admin_cap",
    "cqm_limit",
    "cqm_excess",
    "budget",
    "core_medical_share",
    "core_medical_floor",
]
ADMINISTRATIVE = ("administrative", "indirect")


def build_admin_cap(
    expenses: pd.DataFrame,
    contracts: list[Contract],
    default_caps: dict[str, float | None],
    program_limits: dict[str, dict[str, float]] | None = None,
) -> pd.DataFrame:
    """One row per contract and calendar year of its expenses.

    ``share`` is administrative ÷ total expenditure charged to the contract; ``excess`` is
    the administrative spending above ``cap`` × total. Contracts without a cap (their own
    ``admin_cap`` or their program's default) are listed with a blank cap and no excess.
    """
    if expenses.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in ADMIN_CAP_COLUMNS})
    frame = expenses.assign(
        period=expenses["month"].astype("string").str.slice(0, 4),
        category=expenses["category"].astype("string"),
        amount=expenses["amount"].astype(float),
    )
    table = frame.pivot_table(
        index=["contract_id", "period"], columns="category", values="amount", aggfunc="sum",
        fill_value=0.0, observed=True,
    )
    for column in ("direct", "administrative", "indirect", "planning", "quality_management"):
        if column not in table.columns:
            table[column] = 0.0
    out = table.reset_index()
    out.columns.name = None
    admin = out["administrative"] + out["indirect"]
    total = out["direct"] + admin + out["planning"] + out["quality_management"]
    caps = {c.id: c.admin_cap if c.admin_cap is not None else default_caps.get(c.program)
            for c in contracts}
    cap = out["contract_id"].map(caps).astype(float)
    out = out.assign(
        administrative=admin.round(2),
        total=total.round(2),
        share=np.where(total > 0, admin / total, 0.0).round(6),
        cap=cap,
        excess=np.where(cap.notna(), np.maximum(admin - cap.fillna(0) * total, 0.0), 0.0),
    )
    out["excess"] = out["excess"].round(2)
    limits = program_limits or {}
    program = out["contract_id"].map({c.id: c.program for c in contracts})
    budget = out["contract_id"].map({c.id: c.caps.budget for c in contracts}).astype(float)

    def limit(name: str) -> pd.Series:
        return program.map({p: v.get(name) for p, v in limits.items()}).astype(float)

    # Part B planning and evaluation ≤ 10%, with administration ≤ 15% together
    # (300ff-28(b)(3)); shares of the period's total expenditure, like the admin share.
    out["planning_share"] = np.where(total > 0, out["planning"] / total, 0.0).round(6)
    out["planning_cap"] = limit("planning_cap")
    out["planning_admin_share"] = np.where(total > 0, (out["planning"] + admin) / total,
                                           0.0).round(6)
    out["planning_admin_cap"] = limit("planning_admin_cap")
    # Quality management: the lesser of 5% of the grant or $3M, never counted as admin.
    base = budget.fillna(total)
    out["cqm_limit"] = np.minimum(limit("cqm_share_cap") * base, limit("cqm_dollar_cap"))
    out["cqm_excess"] = np.where(out["cqm_limit"].notna(),
                                 np.maximum(out["quality_management"] - out["cqm_limit"], 0.0),
                                 0.0).round(2)
    out["budget"] = budget
    # Core medical services: at least 75% of what remains after the administrative and
    # quality-management reserves (300ff-14(c)(1)); only where direct costs are categorized.
    core = frame.loc[frame["service_category"].astype(object) == "core_medical"]
    core_direct = core.groupby(["contract_id", "period"], observed=True)["amount"].sum()
    categorized = frame["service_category"].notna()
    has_split = frame.loc[categorized].groupby(["contract_id", "period"],
                                               observed=True)["amount"].size()
    keys = pd.MultiIndex.from_frame(out[["contract_id", "period"]])
    core_amount = core_direct.reindex(keys).fillna(0.0).to_numpy()
    remaining = (total - admin - out["quality_management"]).to_numpy()
    split_known = has_split.reindex(keys).notna().to_numpy()
    out["core_medical_share"] = np.where(split_known & (remaining > 0),
                                         core_amount / np.where(remaining > 0, remaining, 1),
                                         np.nan).round(6)
    out["core_medical_floor"] = np.where(split_known, limit("core_medical_floor"), np.nan)
    return out[ADMIN_CAP_COLUMNS].sort_values(["contract_id", "period"]).reset_index(drop=True)

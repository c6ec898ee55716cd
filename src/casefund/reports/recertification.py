"""Who lapses when: each participant's current eligibility span per program and payer.

A Ryan White span is an eligibility determination; it stays current for the recertification
period of the recipient's contract (``recertification_days``: a year under HRSA PCN 21-02,
six months where Texas requires a self-attestation) or until the span's own end, whichever
comes first. Any other span that has an end is listed with that end. Only the latest span
begun by the as-of day counts, per participant, program and payer: an earlier span that a
renewal replaced has not lapsed.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from casefund.records.contracts import Contract, payer_slug
from casefund.rules.book import RuleBook

RECERTIFICATION_COLUMNS = [
    "participant_id",
    "program",
    "payer",
    "eligible_through",
    "status",
    "as_of",
    "start_date",
    "days_left",
]
# The interchange contract's definition of `due_soon`: eligibility ends within this many
# days of the as-of date.
DUE_SOON_DAYS = 30
_DETERMINATIONS = {"ryan_white": "ryan_white_nmcm"}  # coverage program → its rule program


def build_recertification(
    coverage: pd.DataFrame, contracts: list[Contract], book: RuleBook, as_of: dt.date | None
) -> pd.DataFrame:
    if as_of is None or coverage.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in RECERTIFICATION_COLUMNS})
    day = pd.Timestamp(as_of)
    spans = pd.DataFrame(
        {
            "participant_id": coverage["participant_id"].astype(object),
            "program": coverage["program"].astype(object),
            "payer": coverage["payer"].astype(object).fillna(""),
            "start_date": pd.to_datetime(coverage["start_date"]),
            "end_date": pd.to_datetime(coverage["end_date"]),
        }
    )
    spans = spans.loc[spans["start_date"] <= day]
    # The latest span per participant, program and payer (a later start, then a later end).
    spans = spans.assign(_end=spans["end_date"].fillna(pd.Timestamp.max)).sort_values(
        ["participant_id", "program", "payer", "start_date", "_end"], kind="stable"
    )
    latest = spans.drop_duplicates(["participant_id", "program", "payer"], keep="last")
    through = latest["end_date"].copy()
    for program, rule_program in _DETERMINATIONS.items():
        mine = (latest["program"] == program).to_numpy()
        if not mine.any():
            continue
        days = _recertification_days(latest.loc[mine], contracts, book, rule_program)
        due = latest.loc[mine, "start_date"] + pd.to_timedelta(days, unit="D")
        # The earlier of the recertification date and the span's own end (either may be
        # unknown: the other then decides).
        through.loc[mine] = pd.concat([due, latest.loc[mine, "end_date"]], axis=1).min(axis=1)
    listed = through.notna().to_numpy()
    out = latest.loc[listed].assign(eligible_through=through[listed])
    left = (out["eligible_through"] - day).dt.days.astype(int)
    status = np.where(left < 0, "lapsed", np.where(left <= DUE_SOON_DAYS, "due_soon", "current"))
    frame = pd.DataFrame(
        {
            "participant_id": out["participant_id"].to_numpy(dtype=object),
            "program": out["program"].to_numpy(dtype=object),
            "payer": out["payer"].to_numpy(dtype=object),
            "eligible_through": out["eligible_through"]
            .dt.strftime("%Y-%m-%d")
            .to_numpy(dtype=object),
            "status": status.astype(object),
            "as_of": as_of.isoformat(),
            "start_date": out["start_date"].dt.strftime("%Y-%m-%d").to_numpy(dtype=object),
            "days_left": left.to_numpy(),
        }
    )
    return frame.sort_values(["participant_id", "program", "payer"]).reset_index(drop=True)


def _recertification_days(
    spans: pd.DataFrame, contracts: list[Contract], book: RuleBook, rule_program: str
) -> np.ndarray:
    """Days a determination stays current: the shortest period among the contracts that bill
    its payer (a span with a blank payer: all of the program's contracts), else the program's
    default in force on the day the determination began."""
    params = book.parameters.get(rule_program)
    by_payer: dict[str, float] = {}
    for contract in contracts:
        if contract.program != rule_program:
            continue
        value = contract.parameters.get("recertification_days")
        if value is not None:
            slug = contract.coverage_payer
            by_payer[slug] = min(float(value), by_payer.get(slug, float("inf")))
    # Parameters and payer codes are looked up once per distinct value, never per span.
    starts = spans["start_date"].dt.date
    defaults = {
        start: params.value("recertification_days", start) if params else None
        for start in starts.unique()
    }
    default = starts.map(defaults).to_numpy(dtype=float, na_value=np.nan)
    slugs = spans["payer"].map(
        {p: payer_slug(str(p)) if p else "" for p in spans["payer"].unique()}
    )
    chosen = slugs.map(by_payer).to_numpy(dtype=float, na_value=np.nan).copy()
    blank = (slugs == "").to_numpy()
    if by_payer:
        chosen[blank] = min(by_payer.values())
    days: np.ndarray = np.where(np.isnan(chosen), default, chosen)
    return days

"""Caseloads: the participants each case manager carries in a month, against the caseload
limit of the program model they work under (staff.program_model).

Who is carried comes from the ``assignments`` table where one is given (every participant
whose assignment overlaps the month); otherwise it is derived from the work itself: the
participants a staff member served that month, said so in the ``basis`` column. A limit is
per full-time case manager, so a half-time one is over at half of it. Under a time-limited
model with a span (ACT, where the agency states ``max_months``), the participants carried
longer than the span are counted in ``past_span``: months are counted from the assignment's
start (or, when derived, from the first month this staff member served the participant),
the first month being month 1.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from casefund.io.load import Dataset
from casefund.payers.program_models import program_models
from casefund.records.frames import coded
from casefund.reports.accepted import accepted_rows
from casefund.rules.book import RuleBook

CASELOAD_COLUMNS = [
    "staff_id",
    "team",
    "program_model",
    "month",
    "basis",
    "participants",
    "fte",
    "participants_per_fte",
    "caseload_max",
    "limit_for_fte",
    "over_by",
    "over_limit",
    "time_limited",
    "max_months",
    "past_span",
    "model_source",
]


def _month_index(texts: np.ndarray) -> np.ndarray:
    """Months since 1970 of ``YYYY-MM`` (or ISO day) texts; a blank is month 0 (never a
    line's: an accepted line always has its month)."""
    parsed = pd.to_datetime(
        pd.Series(texts, dtype=object).astype(str).str.slice(0, 7) + "-01",
        format="%Y-%m-%d",
        errors="coerce",
    )
    months = parsed.to_numpy().astype("datetime64[M]").astype(np.int64)
    return np.asarray(np.where(parsed.isna().to_numpy(), 0, months))


def _month_text(index: np.ndarray) -> np.ndarray:
    return np.asarray(index.astype("datetime64[M]").astype(str), dtype=object)


def _served(lines: pd.DataFrame) -> pd.DataFrame:
    """(staff, participant, month) from the lines, with months since first served; found on
    integer codes, the few distinct ids decoded at the end."""
    staff_code, staff_ids = coded(lines["staff_id"])
    person_code, person_ids = coded(lines["participant_id"])
    month_code, month_texts = coded(lines["month"])
    pairs = pd.DataFrame(
        {"staff": staff_code, "person": person_code, "month": _month_index(month_texts)[month_code]}
    )
    pairs = pairs.loc[staff_ids[staff_code] != ""].drop_duplicates()
    first = pairs.groupby(["staff", "person"])["month"].transform("min")
    return pd.DataFrame(
        {
            "staff_id": staff_ids[pairs["staff"].to_numpy()],
            "participant_id": person_ids[pairs["person"].to_numpy()],
            "month": pairs["month"].to_numpy(),
            "carried": (pairs["month"] - first).to_numpy() + 1,
        }
    )


def _assigned(assignments: pd.DataFrame, months: np.ndarray) -> pd.DataFrame:
    """(staff, participant, month) for every assignment overlapping each month, with the
    months carried since the assignment began."""
    start = pd.to_datetime(assignments["start_date"]).to_numpy().astype("datetime64[M]")
    end = pd.to_datetime(assignments["end_date"]).to_numpy()
    end_month = np.where(
        np.isnat(end),
        np.datetime64(int(months.max()), "M"),
        end.astype("datetime64[M]"),
    ).astype(np.int64)
    start_month = start.astype(np.int64)
    rows, month_of = np.nonzero(
        (start_month[:, None] <= months[None, :]) & (end_month[:, None] >= months[None, :])
    )
    carried = pd.DataFrame(
        {
            "staff_id": assignments["staff_id"].astype(str).to_numpy()[rows],
            "participant_id": assignments["participant_id"].astype(str).to_numpy()[rows],
            "month": months[month_of],
            "carried": months[month_of] - start_month[rows] + 1,
        }
    )
    # Two assignments of one participant to one case manager count the participant once.
    once: pd.DataFrame = carried.groupby(
        ["staff_id", "participant_id", "month"], as_index=False
    ).agg(carried=("carried", "max"))
    return once


def _model_terms(data: Dataset, book: RuleBook, months: np.ndarray) -> pd.DataFrame:
    """Per month and model in force on its first day: the model's terms (a small table,
    months × models, joined onto the caseloads)."""
    parameters = book.parameters["program_models"]
    rows = []
    for month in months.tolist():
        first = dt.date.fromisoformat(f"{np.datetime64(month, 'M')}-01")
        for model in program_models(parameters, data.program_models, first).values():
            rows.append(
                {
                    "month": month,
                    "program_model": model.id,
                    "caseload_max": model.caseload_max,
                    "time_limited": model.time_limited,
                    "max_months": model.max_months if model.time_limited else None,
                    "model_source": model.source,
                }
            )
    columns = ["month", "program_model", "caseload_max", "time_limited", "max_months"]
    return pd.DataFrame(rows, columns=[*columns, "model_source"])


def build_caseloads(data: Dataset, lines: pd.DataFrame, book: RuleBook) -> pd.DataFrame:
    """Case manager × month: participants carried, the model's limit and how far over."""
    accepted = accepted_rows(lines, ["staff_id", "participant_id", "month"])
    if accepted.empty:
        return pd.DataFrame(columns=CASELOAD_COLUMNS)
    month_code, month_texts = coded(accepted["month"])
    months = np.unique(_month_index(month_texts)[np.unique(month_code)])
    assignments = data.tables.get("assignments")
    if assignments is not None and len(assignments):
        basis, carried = "assigned", _assigned(assignments, months)
    else:
        basis, carried = "served", _served(accepted)
    if carried.empty:
        return pd.DataFrame(columns=CASELOAD_COLUMNS)
    staff = data["staff"]
    ids = staff["staff_id"].astype(str).to_numpy()

    def of_staff(column: str) -> pd.Series:
        if column not in staff:
            return pd.Series(dtype=object)
        return pd.Series(staff[column].to_numpy(dtype=object), index=ids, dtype=object).dropna()

    carried["program_model"] = _text(carried["staff_id"].map(of_staff("program_model")))
    terms = _model_terms(data, book, months)
    carried = carried.merge(terms, on=["month", "program_model"], how="left")
    span = pd.to_numeric(carried["max_months"], errors="coerce").fillna(np.inf)
    carried["past"] = carried["carried"].to_numpy() > span.to_numpy()
    frame = (
        carried.groupby(["staff_id", "month", "program_model"], as_index=False)
        .agg(participants=("participant_id", "nunique"), past_span=("past", "sum"))
        .merge(terms, on=["month", "program_model"], how="left")
        .sort_values(["staff_id", "month"], kind="stable")
        .reset_index(drop=True)
    )
    fte = pd.to_numeric(frame["staff_id"].map(of_staff("fte")), errors="coerce")
    frame["fte"] = fte.fillna(1.0).astype(float)
    frame["team"] = _text(frame["staff_id"].map(of_staff("team")))
    frame["basis"] = basis
    full_time = frame["fte"].where(frame["fte"] > 0)
    frame["participants_per_fte"] = (frame["participants"] / full_time).round(2)
    limit = pd.to_numeric(frame["caseload_max"], errors="coerce").to_numpy(dtype=float)
    frame["caseload_max"] = pd.array(
        [None if np.isnan(v) else int(v) for v in limit], dtype="Int64"
    )
    frame["limit_for_fte"] = np.round(limit * frame["fte"].to_numpy(), 2)
    frame["over_by"] = np.round(frame["participants"].to_numpy() - frame["limit_for_fte"], 2)
    frame["over_limit"] = np.nan_to_num(frame["over_by"].to_numpy(), nan=0.0) > 0
    frame["time_limited"] = frame["time_limited"].astype(object).fillna(False).astype(bool)
    frame["max_months"] = pd.array(
        [None if pd.isna(v) else int(v) for v in frame["max_months"]], dtype="Int64"
    )
    frame["past_span"] = frame["past_span"].astype(np.int64)
    frame["model_source"] = frame["model_source"].fillna("").astype(str)
    frame["month"] = _month_text(frame["month"].to_numpy())
    return frame[CASELOAD_COLUMNS]


def _text(values: pd.Series) -> pd.Series:
    """Looked-up text with a blank for nothing found."""
    return values.astype(object).where(values.notna(), "").astype(str)


def caseload_warnings(caseloads: pd.DataFrame, most: int = 5) -> list[str]:
    """What a program manager must hear: each case manager over their model's limit (worst
    month first), and participants carried past a time-limited model's span."""
    out: list[str] = []
    over = caseloads.loc[caseloads["over_limit"].astype(bool)]
    for staff_id, rows in list(over.groupby("staff_id", sort=True))[:most]:
        worst = rows.sort_values(["over_by", "month"], ascending=[False, True]).iloc[0]
        more = len(rows) - 1
        out.append(
            f"caseload: {staff_id} ({worst['program_model']}, limit "
            f"{_number(worst['limit_for_fte'])} at {_number(worst['fte'])} FTE) carries "
            f"{int(worst['participants'])} participants in {worst['month']} "
            f"({_number(worst['over_by'])} over)"
            + (f", and is over in {more} more month{'s' if more > 1 else ''}" if more else "")
        )
    hidden = over["staff_id"].nunique() - most
    if hidden > 0:
        out.append(f"caseload: {hidden} more case managers over their limit (see caseloads)")
    past = caseloads.loc[caseloads["past_span"].astype(int) > 0]
    for staff_id, rows in list(past.groupby("staff_id", sort=True))[:most]:
        last = rows.iloc[-1]
        out.append(
            f"caseload: {staff_id} ({last['program_model']}, time-limited to "
            f"{int(last['max_months'])} months) carries {int(last['past_span'])} participant"
            f"{'s' if int(last['past_span']) > 1 else ''} past the span in {last['month']}"
        )
    return out


def _number(value: object) -> str:
    number = float(value)  # type: ignore[arg-type]
    return f"{number:g}"

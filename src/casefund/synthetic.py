"""A seeded generator of realistic synthetic case-management data.

Used by the demo, the tests and the benchmarks, so all three exercise the same shapes of
data: mixed coverage, about eight contacts a month per person, the whole activity vocabulary,
utilization events, and a sprinkling of malformed rows that validation must refuse.
Everything is drawn with numpy from one seed; no row-by-row Python loops.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

ACTIVITY_MIX = {
    "outreach": 6,
    "assessment": 4,
    "reassessment": 2,
    "care_plan": 4,
    "referral": 7,
    "monitoring": 10,
    "care_coordination": 12,
    "transitional_care": 2,
    "health_promotion": 3,
    "family_support": 2,
    "community_linkage": 4,
    "benefits_assistance": 5,
    "crisis_intervention": 2,
    "accompaniment": 5,
    "transportation": 5,
    "travel": 6,
    "resource_search": 4,
    "direct_medical": 1,
    "sud_treatment": 2,
    "housing_navigation": 5,
    "housing_deposit": 0.4,
    "tenancy_sustaining": 2,
    "documentation": 6,
    "administrative": 2,
    "medically_tailored_meals": 0.6,
    "respite": 0.3,
    "recuperative_care": 0.2,
}
MODES = {"in_person": 55, "phone": 30, "video": 8, "text": 5, "email": 2}
ROLES = [
    "clinical",
    "non_clinical",
    "non_clinical",
    "peer",
    "non_clinical",
    "clinical",
    "peer",
    "non_clinical",
    "supervisor",
    "non_clinical",
    "clinical",
    "peer",
]
COUNTIES = {"Los Angeles": 70, "San Joaquin": 20, "Fresno": 10}
RACES = {
    "black": 28,
    "white": 22,
    "other": 25,
    "asian": 8,
    "american_indian_alaska_native": 4,
    "pacific_islander": 3,
    "unknown": 10,
}


@dataclass(frozen=True)
class Shape:
    participants: int = 300
    months: int = 12
    contacts_per_month: float = 8.0
    start: dt.date = dt.date(2024, 1, 1)
    malformed_share: float = 0.002
    seed: int = 20240101


def _choice(rng: np.random.Generator, weights: Mapping[str, float], size: int) -> np.ndarray:
    names = np.array(list(weights))
    p = np.array(list(weights.values()), dtype=float)
    return names[rng.choice(len(names), size=size, p=p / p.sum())]


def _numbered(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded ids; an empty draw gives an empty array (NumPy's zfill has no width for none)."""
    if numbers.size == 0:
        return np.array([], dtype=f"<U{len(prefix) + width}")
    return np.char.add(prefix, np.char.zfill(numbers.astype(str), width))


def _days(start: dt.date, offsets: np.ndarray) -> pd.Series:
    return pd.Series(np.datetime64(start, "D") + offsets.astype("timedelta64[D]"))


def generate(shape: Shape = Shape()) -> dict[str, pd.DataFrame]:
    """Every input table of the contract, as DataFrames of text (as if read from CSV)."""
    rng = np.random.default_rng(shape.seed)
    n = shape.participants
    ids = _numbered("P", np.arange(1, n + 1), 6)
    end = (np.datetime64(shape.start, "M") + np.timedelta64(shape.months, "M")).astype(
        "datetime64[D]"
    )
    horizon = int((end - np.datetime64(shape.start, "D")).astype(np.int64))
    participants = _participants(rng, ids, shape)
    coverage = _coverage(rng, participants, shape, horizon)
    events = _events(rng, ids, shape, horizon)
    activities = _activities(rng, ids, shape, horizon)
    staff = pd.DataFrame(
        {
            "staff_id": [f"S{i:02d}" for i in range(1, len(ROLES) + 1)],
            "hourly_cost": np.round(rng.uniform(32, 68, len(ROLES)), 2),
            "fte": 1.0,
        }
    )
    expenses = _expenses(rng, shape)
    assessments = _assessments(rng, ids, shape, horizon)
    # Tables added later draw from their own stream, so the earlier tables stay as they were.
    later = np.random.default_rng([shape.seed, 1])
    participants["annual_income"] = _annual_income(later, participants)
    charges = _charges(later, participants, shape, horizon)
    staff, assignments, activities = _caseloads(
        np.random.default_rng([shape.seed, 2]), ids, shape, staff, activities
    )
    tables = {
        "participants": participants,
        "coverage": coverage,
        "events": events,
        "activities": activities,
        "staff": staff,
        "assignments": assignments,
        "expenses": expenses,
        "assessments": assessments,
        "charges": charges,
    }
    return {
        name: frame.astype(str).replace({"nan": "", "NaT": "", "<NA>": "", "None": ""})
        for name, frame in tables.items()
    }


def _participants(rng: np.random.Generator, ids: np.ndarray, shape: Shape) -> pd.DataFrame:
    n = len(ids)
    age = np.where(rng.random(n) < 0.15, rng.integers(12, 21, n), rng.integers(21, 76, n))
    birth = _days(
        dt.date(shape.start.year, 1, 1), -(age * 365.25).astype(int) - rng.integers(0, 365, n)
    )
    flags = {
        "hiv": 0.15,
        "sud": 0.55,
        "smi": 0.35,
        "spmi": 0.15,
        "smhs_criteria_met": 0.35,
        "dmc_criteria_met": 0.45,
        "homeless": 0.45,
        "complex_need": 0.6,
        "lacks_food": 0.4,
        "unable_to_work": 0.35,
        "aces_4_plus": 0.3,
        "in_foster_care": 0.03,
        "former_foster_youth": 0.06,
        "recent_law_enforcement_contact": 0.5,
        "high_risk_institutionalization": 0.1,
        "high_risk_overdose": 0.25,
        "high_risk_suicide": 0.1,
        "crisis_primary_care_source": 0.2,
        "idd": 0.04,
        "ccs_enrolled": 0.03,
        "child_welfare": 0.05,
        "pregnant": 0.04,
        "nf_level_of_care": 0.04,
        "nf_resident": 0.02,
        "at_risk_second_chronic_condition": 0.3,
    }
    frame = pd.DataFrame(
        {
            "participant_id": ids,
            "birth_date": birth.dt.strftime("%Y-%m-%d"),
            "state": "CA",
            "county": _choice(rng, COUNTIES, n),
            "service_area": "Los Angeles EMA",
            "income_pct_fpl": np.round(rng.gamma(2.0, 45.0, n), 1),
            "race": _choice(rng, RACES, n),
            "chronic_condition_count": rng.poisson(1.4, n),
        }
    )
    for flag, share in flags.items():
        drawn = rng.random(n)
        # About one flag in twenty is simply not known: blank, never a silent 'no'.
        frame[flag] = np.where(drawn < 0.05, "", np.where(drawn < 0.05 + share, "yes", "no"))
    soon = rng.random(n) < 0.05
    frame["housing_loss_date"] = np.where(
        soon, _days(shape.start, rng.integers(0, 28 * shape.months, n)).dt.strftime("%Y-%m-%d"), ""
    )
    return frame


def _annual_income(rng: np.random.Generator, people: pd.DataFrame) -> np.ndarray:
    """Gross household income in dollars, roughly in line with income_pct_fpl (a household
    near $15,000 a year per 100% FPL); one in ten is not recorded."""
    pct = people["income_pct_fpl"].to_numpy(dtype=float)
    dollars = np.round(pct * rng.uniform(140, 200, len(pct)), -1)
    return np.where(rng.random(len(pct)) < 0.1, np.nan, dollars)


def _charges(
    rng: np.random.Generator, people: pd.DataFrame, shape: Shape, horizon: int
) -> pd.DataFrame:
    """Fees some Ryan White clients were charged (a few more than the law allows)."""
    charged = people.loc[
        (people["hiv"] == "yes").to_numpy() & (rng.random(len(people)) < 0.4), "participant_id"
    ].to_numpy()
    counts = rng.integers(1, 7, len(charged))
    who = np.repeat(charged, counts)
    return pd.DataFrame(
        {
            "participant_id": who,
            "date": _days(shape.start, rng.integers(0, horizon, len(who))).dt.strftime("%Y-%m-%d"),
            "amount": np.round(rng.uniform(15, 450, len(who)), 2),
            "contract_id": "rw_part_a_nmcm",
        }
    )


def _span_frame(
    ids: np.ndarray, program: str, payer: Any, start: pd.Series, end: pd.Series | str
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "participant_id": ids,
            "program": program,
            "payer": payer,
            "start_date": start.dt.strftime("%Y-%m-%d").to_numpy(),
            "end_date": end
            if isinstance(end, str)
            else end.dt.strftime("%Y-%m-%d").fillna("").to_numpy(),
        }
    )


def _coverage(
    rng: np.random.Generator, people: pd.DataFrame, shape: Shape, horizon: int
) -> pd.DataFrame:
    ids = people["participant_id"].to_numpy()
    n = len(ids)
    before = _days(shape.start, -rng.integers(30, 900, n))
    parts = []
    plan = rng.random(n)
    medi = plan < 0.85
    payer = np.where(plan < 0.6, "mcp_a", "mcp_b")
    lapse = rng.random(n) < 0.1
    end = _days(shape.start, rng.integers(min(60, horizon - 1), horizon, n)).where(lapse)
    parts.append(_span_frame(ids[medi], "medi_cal", payer[medi], before[medi], end[medi]))
    ecm = medi & (rng.random(n) < 0.55)
    ecm_start = _days(shape.start, rng.integers(-200, 120, n))
    parts.append(_span_frame(ids[ecm], "ecm", payer[ecm], ecm_start[ecm], ""))
    tcm = medi & (rng.random(n) < 0.45)
    parts.append(_span_frame(ids[tcm], "tcm", "county_bh", before[tcm], ""))
    hiv = (people["hiv"] == "yes").to_numpy()
    rw_start = _days(shape.start, rng.integers(-300, 60, n))
    rw_end = rw_start + pd.to_timedelta(364, unit="D")
    parts.append(
        _span_frame(ids[hiv], "ryan_white", "ryan_white_part_a", rw_start[hiv], rw_end[hiv])
    )
    renew = hiv & (rng.random(n) < 0.7)
    parts.append(
        _span_frame(
            ids[renew],
            "ryan_white",
            "ryan_white_part_a",
            rw_end[renew] + pd.to_timedelta(1, unit="D"),
            rw_end[renew] + pd.to_timedelta(365, unit="D"),
        )
    )
    cs = medi & (rng.random(n) < 0.2)
    parts.append(
        _span_frame(
            ids[cs],
            "community_supports",
            payer[cs],
            _days(shape.start, rng.integers(-60, 180, n))[cs],
            "",
        )
    )
    hh = medi & (rng.random(n) < 0.2)
    parts.append(_span_frame(ids[hh], "health_home", "state_hh", before[hh], ""))
    other = rng.random(n) < 0.05
    parts.append(_span_frame(ids[other], "other_insurance", "commercial", before[other], ""))
    for program, share in (
        ("hospice", 0.01),
        ("smhs_tcm", 0.06),
        ("fsp", 0.05),
        ("dmc_ods", 0.1),
        ("ccm", 0.01),
    ):
        pick = medi & (rng.random(n) < share)
        start = _days(shape.start, rng.integers(0, horizon, n))
        parts.append(
            _span_frame(
                ids[pick],
                program,
                "county_bh",
                start[pick],
                (start + pd.to_timedelta(90, unit="D"))[pick],
            )
        )
    return pd.concat(parts, ignore_index=True)


def _events(rng: np.random.Generator, ids: np.ndarray, shape: Shape, horizon: int) -> pd.DataFrame:
    n = len(ids)
    rates = {
        "ed_visit": 2.5,
        "inpatient_stay": 0.6,
        "snf_stay": 0.1,
        "crisis_service": 0.5,
        "urgent_care": 0.8,
        "incarceration_release": 0.15,
        "delivery": 0.03,
        "overdose": 0.2,
    }
    frames = []
    for event, per_year in rates.items():
        heavy = rng.gamma(0.6, 1 / 0.6, n)  # a few people account for most visits
        counts = rng.poisson(per_year * heavy * (horizon + 365) / 365)
        who = np.repeat(ids, counts)
        offsets = rng.integers(-365, horizon, len(who))
        frames.append(
            pd.DataFrame(
                {
                    "participant_id": who,
                    "date": _days(shape.start, offsets).dt.strftime("%Y-%m-%d").to_numpy(),
                    "event": event,
                    "bh_related": np.where(rng.random(len(who)) < 0.4, "yes", "no"),
                    "planned": np.where(rng.random(len(who)) < 0.1, "yes", "no"),
                    "avoidable": np.where(rng.random(len(who)) < 0.8, "yes", "no"),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _assessments(
    rng: np.random.Generator, ids: np.ndarray, shape: Shape, horizon: int
) -> pd.DataFrame:
    k = max(1, len(ids) // 5) if len(ids) else 0
    who = rng.choice(ids, k)
    return pd.DataFrame(
        {
            "participant_id": who,
            "date": _days(shape.start, rng.integers(0, horizon, k)).dt.strftime("%Y-%m-%d"),
            "fact": _choice(rng, {"homeless": 3, "complex_need": 2, "pregnant": 1, "sud": 1}, k),
            "value": np.where(rng.random(k) < 0.5, "yes", "no"),
        }
    )


def _activities(
    rng: np.random.Generator, ids: np.ndarray, shape: Shape, horizon: int
) -> pd.DataFrame:
    n = len(ids)
    intensity = rng.gamma(4.0, shape.contacts_per_month / 4.0, n)
    counts = rng.poisson(intensity * shape.months)
    who = np.repeat(ids, counts)
    m = len(who)
    codes = _choice(rng, ACTIVITY_MIX, m)
    minutes = np.clip(np.round(rng.lognormal(3.0, 0.7, m)), 1, 240).astype(int)
    minutes = np.where(codes == "housing_deposit", rng.integers(0, 20, m), minutes)
    amount = np.where(
        codes == "housing_deposit",
        np.round(rng.uniform(800, 3200, m), 2),
        np.where(codes == "medically_tailored_meals", np.round(rng.uniform(60, 180, m), 2), np.nan),
    )
    staff = rng.integers(0, len(ROLES), m)
    frame = pd.DataFrame(
        {
            "activity_id": _numbered("A", np.arange(1, m + 1), 8),
            "participant_id": who,
            "date": _days(shape.start, rng.integers(0, horizon, m)).dt.strftime("%Y-%m-%d"),
            "minutes": minutes.astype(str),
            "activity": codes,
            "mode": _choice(rng, MODES, m),
            "staff_id": _numbered("S", staff + 1, 2),
            "staff_role": np.array(ROLES)[staff],
            "amount": pd.Series(amount).map(lambda v: "" if np.isnan(v) else f"{v:.2f}"),
        }
    )
    return _malform(rng, frame, shape.malformed_share)


# The example agency's case managers: LEAD's intensive case management team and a Co-LEAD
# assertive community treatment team (the supervisor, S09, carries no caseload). Six case
# managers joined after the first twelve staff, so they are listed after them.
CASE_MANAGERS = {
    **{f"S{i:02d}": ("LEAD", "icm") for i in (1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15)},
    **{f"S{i:02d}": ("Co-LEAD", "act") for i in (16, 17, 18)},
}
ACT_SHARE = 0.12  # of participants, carried by the Co-LEAD team for its time-limited span
OVERLOADED = ("S02", 23 / 300)  # a planted overload: 23 participants in an agency of 300
REASSIGNED_SHARE = 0.8  # activities delivered by the participant's own case manager


def _with_case_managers(rng: np.random.Generator, staff: pd.DataFrame) -> pd.DataFrame:
    """The staff table with the case managers who joined later, each one's team and model."""
    joined = [f"S{i:02d}" for i in range(len(staff) + 1, len(CASE_MANAGERS) + 2)]
    staff = pd.concat(
        [
            staff,
            pd.DataFrame(
                {
                    "staff_id": joined,
                    "hourly_cost": np.round(rng.uniform(32, 68, len(joined)), 2),
                    "fte": 1.0,
                }
            ),
        ],
        ignore_index=True,
    )
    staff["team"] = staff["staff_id"].map({k: v[0] for k, v in CASE_MANAGERS.items()}).fillna("")
    staff["program_model"] = (
        staff["staff_id"].map({k: v[1] for k, v in CASE_MANAGERS.items()}).fillna("")
    )
    return staff


def _caseloads(
    rng: np.random.Generator,
    ids: np.ndarray,
    shape: Shape,
    staff: pd.DataFrame,
    activities: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Program models, caseload assignments, and the activities their case managers did.

    Co-LEAD carries a share of participants for ACT's span, one of them past it; LEAD
    carries the rest, one case manager over the ICM limit. Four in five of a carried
    participant's activities are their own case manager's. A few contacts are advocacy and
    disengagement, which the vocabulary adds for TIP 27's functions."""
    staff = _with_case_managers(rng, staff)
    n = len(ids)
    act = [k for k, v in CASE_MANAGERS.items() if v[1] == "act"]
    icm = [k for k, v in CASE_MANAGERS.items() if v[1] == "icm"]
    order = rng.permutation(n)
    n_act = round(n * ACT_SHARE)
    n_over = min(round(n * OVERLOADED[1]), n - n_act)
    manager = np.empty(n, dtype=object)
    manager[order[:n_act]] = np.array(act, dtype=object)[np.arange(n_act) % len(act)]
    manager[order[n_act : n_act + n_over]] = OVERLOADED[0]
    others = [s for s in icm if s != OVERLOADED[0]]
    rest = order[n_act + n_over :]
    manager[rest] = np.array(others, dtype=object)[np.arange(len(rest)) % len(others)]
    start = np.datetime64(shape.start, "D")
    # Co-LEAD carries for the span the demo agency gives ACT, so its planted case is past it.
    span = int(demo_contracts()["program_models"]["act"]["max_months"])
    act_end = (np.datetime64(shape.start, "M") + np.timedelta64(span, "M")).astype(
        "datetime64[D]"
    ) - np.timedelta64(1, "D")
    is_act = np.isin(manager, act)
    end = np.where(is_act, act_end, np.datetime64("NaT", "D"))
    if n_act:
        end[order[0]] = np.datetime64("NaT", "D")  # a Co-LEAD participant kept past the span
    assignments = pd.DataFrame(
        {
            "participant_id": ids,
            "staff_id": manager.astype(str),
            "start_date": np.datetime_as_string(np.full(n, start), unit="D"),
            "end_date": np.where(
                np.isnat(end), "", np.datetime_as_string(end, unit="D").astype(object)
            ),
        }
    )
    activities = activities.copy()
    m = len(activities)
    own = dict(zip(ids.tolist(), manager.tolist(), strict=True))
    mine = activities["participant_id"].map(own).to_numpy(dtype=object)
    day = pd.to_datetime(activities["date"], errors="coerce").to_numpy().astype("datetime64[D]")
    ends = activities["participant_id"].map(dict(zip(ids.tolist(), end, strict=True)))
    carried = ~np.isnat(day) & (
        ends.isna().to_numpy() | (day <= ends.to_numpy(dtype="datetime64[D]"))
    )
    by_own = carried & (rng.random(m) < REASSIGNED_SHARE) & pd.notna(mine)
    roles = dict(zip([f"S{i:02d}" for i in range(1, len(ROLES) + 1)], ROLES, strict=True))
    activities.loc[by_own, "staff_id"] = mine[by_own]
    activities.loc[by_own, "staff_role"] = (
        pd.Series(mine[by_own]).map(roles).fillna("non_clinical").to_numpy()
    )
    draw = rng.random(m)
    plain = activities["activity"].isin(["care_coordination", "monitoring", "referral"]).to_numpy()
    activities.loc[plain & (draw < 0.03), "activity"] = "advocacy"
    activities.loc[plain & (draw > 0.99), "activity"] = "disengagement"
    return staff, assignments, activities


def _malform(rng: np.random.Generator, frame: pd.DataFrame, share: float) -> pd.DataFrame:
    """Damage a few rows the way real exports do, so rejects always have something to say."""
    m = len(frame)
    k = round(m * share)
    if k == 0:
        return frame
    rows = rng.choice(m, size=k, replace=False)
    kinds = rows % 5
    frame = frame.copy()
    frame.loc[rows[kinds == 0], "activity"] = "asessment"
    frame.loc[rows[kinds == 1], "date"] = "2024-02-30"
    frame.loc[rows[kinds == 2], "minutes"] = "-15"
    frame.loc[rows[kinds == 3], "participant_id"] = "P999999"
    dup = rows[kinds == 4]
    frame.loc[dup, "activity_id"] = frame["activity_id"].iloc[(dup + 1) % m].to_numpy()
    return frame


def demo_contracts(start: dt.date = dt.date(2024, 1, 1)) -> dict[str, Any]:
    """The example agency's contracts (``demo_contracts.yaml``: an ECM plan, county TCM, Ryan
    White, two grants), each in effect for the demo year that begins on ``start``."""
    text = resources.files("casefund").joinpath("demo_contracts.yaml").read_text("utf-8")
    contracts: dict[str, Any] = yaml.safe_load(text)
    period = {"from": start.isoformat(), "to": dt.date(start.year, 12, 31).isoformat()}
    # Each contract's period goes just before its priority, where the demo has always
    # written it (the demo's contracts.yaml is byte-for-byte stable).
    for position, contract in enumerate(contracts["contracts"]):
        keys = list(contract)
        at = keys.index("priority")
        contracts["contracts"][position] = {
            **{k: contract[k] for k in keys[:at]},
            "effective": dict(period),
            **{k: contract[k] for k in keys[at:]},
        }
    return contracts


def _expenses(rng: np.random.Generator, shape: Shape) -> pd.DataFrame:
    months = pd.period_range(pd.Timestamp(shape.start), periods=shape.months, freq="M")
    rows = []
    for contract, direct in (("rw_part_a_nmcm", 11000.0), ("city_diversion_grant", 4500.0)):
        for category, share in (
            ("direct", 1.0),
            ("administrative", 0.07),
            ("indirect", 0.035),
            ("quality_management", 0.02),
        ):
            amounts = np.round(direct * share * rng.uniform(0.85, 1.15, len(months)), 2)
            rows.append(
                pd.DataFrame(
                    {
                        "contract_id": contract,
                        "month": months.astype(str),
                        "category": category,
                        "amount": amounts,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def write_dataset(tables: dict[str, pd.DataFrame], contracts: dict[str, Any], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False, lineterminator="\n")
    (folder / "contracts.yaml").write_text(yaml.safe_dump(contracts, sort_keys=False))
    return folder

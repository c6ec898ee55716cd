"""Event-at-a-time decisions, on each backend the interpreter has, held to the batch
engine's lines: the native backend everywhere, durable-rules where it installs (Python
3.12 and earlier)."""

from __future__ import annotations

import importlib.util
import itertools
import threading
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import casefund
from casefund.live import Session
from casefund.synthetic import Shape, demo_contracts, generate

# The native backend always; durable-rules where the 'durable' extra installed.
BACKENDS = ["native", *(["durable"] if importlib.util.find_spec("durable") else [])]
each_backend = pytest.mark.parametrize("backend", BACKENDS)

COMPARED = ["activity_id", "contract_id", "status", "minutes", "units", "amount", "reasons"]


def _canonical(lines: pd.DataFrame) -> pd.DataFrame:
    frame = lines.loc[lines["status"] != "rejected", COMPARED].astype(str)
    return frame.sort_values(COMPARED).reset_index(drop=True)


def post_all(tables: dict[str, pd.DataFrame], contracts: dict[str, Any], backend: str) -> Session:
    session = Session(
        {k: v for k, v in tables.items() if k != "activities"}, contracts, backend=backend
    )
    acts = tables["activities"]
    for record in acts.sort_values(["date", "participant_id", "activity_id"]).to_dict("records"):
        session.post(record)
    return session


@each_backend
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.integers(2, 4))
def test_posting_in_date_order_gives_the_batch_lines(
    backend: str, seed: int, participants: int
) -> None:
    """Budgets are left unbinding here: a budget that runs out mid-day is spent in posting
    order by a session and in canonical order by the batch (documented in the guide)."""
    tables = generate(Shape(participants=participants, months=2, seed=seed, malformed_share=0.0))
    contracts = demo_contracts()
    batch = casefund.evaluate(tables, contracts)
    session = post_all(tables, contracts, backend)
    pd.testing.assert_frame_equal(_canonical(session.lines()), _canonical(batch.lines))


PEOPLE = [{"participant_id": "p1", "birth_date": "1980-01-01"}]
COVERAGE = [
    {"participant_id": "p1", "program": "medi_cal", "payer": "mcp_a", "start_date": "2024-01-01"},
    {"participant_id": "p1", "program": "tcm", "payer": "county_bh", "start_date": "2024-01-01"},
]
TCM = {
    "contracts": [
        {
            "id": "tcm",
            "payer": "County",
            "payer_id": "county_bh",
            "program": "tcm",
            "payment": "ffs_unit",
            "rate": 30.0,
            "unit_minutes": 15,
            "rounding": "cms_8_minute",
            "aggregate": "per_day",
            "caps": {"units_per_month": 3},
        }
    ]
}


def session(backend: str) -> Session:
    return Session(
        {"participants": pd.DataFrame(PEOPLE), "coverage": pd.DataFrame(COVERAGE)},
        TCM,
        backend=backend,
    )


@each_backend
def test_post_returns_the_decision_at_once_with_running_caps(backend: str) -> None:
    live = session(backend)
    first = live.post(
        {
            "activity_id": "a1",
            "participant_id": "p1",
            "date": "2024-03-01",
            "minutes": 30,
            "activity": "referral",
        }
    )
    assert (first.status, first.contract_id, first.units, first.amount) == (
        "billable",
        "tcm",
        2.0,
        60.0,
    )
    second = live.post(
        {
            "activity_id": "a2",
            "participant_id": "p1",
            "date": "2024-03-02",
            "minutes": 30,
            "activity": "referral",
        }
    )
    assert second.units == 1.0 and "cap.units_per_month" in second.reasons
    denied = live.post(
        {
            "activity_id": "a3",
            "participant_id": "p1",
            "date": "2024-03-03",
            "minutes": 30,
            "activity": "transportation",
        }
    )
    assert denied.status == "unbillable" and "tcm.transportation_not_covered" in denied.reasons


@each_backend
def test_retract_and_repost_corrects_an_activity(backend: str) -> None:
    live = session(backend)
    live.post(
        {
            "activity_id": "a1",
            "participant_id": "p1",
            "date": "2024-03-01",
            "minutes": 30,
            "activity": "transportation",
        }
    )
    live.retract("a1")
    fixed = live.post(
        {
            "activity_id": "a1",
            "participant_id": "p1",
            "date": "2024-03-01",
            "minutes": 30,
            "activity": "referral",
        }
    )
    assert fixed.status == "billable"
    assert live.lines()["activity_id"].tolist() == ["a1"]
    with pytest.raises(KeyError):
        live.retract("nope")


@each_backend
def test_bad_post_is_refused_with_field_and_problem(backend: str) -> None:
    live = session(backend)
    refused = live.post(
        {
            "activity_id": "a1",
            "participant_id": "p1",
            "date": "2024-02-30",
            "minutes": 30,
            "activity": "referal",
        }
    )
    assert refused.status == "rejected"
    assert any(p.startswith("activity:") and "did you mean" in p for p in refused.problems)
    unknown = live.post(
        {
            "activity_id": "a2",
            "participant_id": "p9",
            "date": "2024-02-03",
            "minutes": 30,
            "activity": "referral",
        }
    )
    assert unknown.problems == ["participant_id: unknown participant_id 'p9'"]


@each_backend
def test_restarting_from_stored_activities_replays_them(backend: str) -> None:
    stored = pd.DataFrame(
        [
            {
                "activity_id": "a1",
                "participant_id": "p1",
                "date": "2024-03-01",
                "minutes": 45,
                "activity": "referral",
            }
        ]
    )
    live = Session(
        {
            "participants": pd.DataFrame(PEOPLE),
            "coverage": pd.DataFrame(COVERAGE),
            "activities": stored,
        },
        TCM,
        backend=backend,
    )
    after = live.post(
        {
            "activity_id": "a2",
            "participant_id": "p1",
            "date": "2024-03-02",
            "minutes": 30,
            "activity": "referral",
        }
    )
    assert after.units == 0.0 and "cap.units_per_month" in after.reasons


@each_backend
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.integers(2, 4), st.integers(1, 4))
def test_posting_in_batches_gives_the_batch_lines(
    backend: str, seed: int, participants: int, batches: int
) -> None:
    """post_many (a day's import, a backlog) in date-ordered batches equals evaluate()."""
    tables = generate(Shape(participants=participants, months=2, seed=seed, malformed_share=0.0))
    contracts = demo_contracts()
    live = Session(
        {k: v for k, v in tables.items() if k != "activities"}, contracts, backend=backend
    )
    ordered = tables["activities"].sort_values(["date", "participant_id", "activity_id"])
    days = sorted(ordered["date"].unique())
    cuts = [days[len(days) * k // batches] for k in range(1, batches)]
    for chunk in _split_by_date(ordered, cuts):
        decisions = live.post_many(chunk)
        assert [d.activity_id for d in decisions] == chunk["activity_id"].tolist()
    batch = casefund.evaluate(tables, contracts)
    pd.testing.assert_frame_equal(_canonical(live.lines()), _canonical(batch.lines))


def _split_by_date(frame: pd.DataFrame, cuts: list[str]) -> list[pd.DataFrame]:
    edges = [None, *cuts, None]
    out = []
    for lo, hi in itertools.pairwise(edges):
        mask = pd.Series(True, index=frame.index)
        if lo is not None:
            mask &= frame["date"] >= lo
        if hi is not None:
            mask &= frame["date"] < hi
        out.append(frame.loc[mask])
    return out


@each_backend
def test_post_many_refuses_row_by_row_and_decides_the_rest(backend: str) -> None:
    live = session(backend)
    decisions = live.post_many(
        [
            {
                "activity_id": "a1",
                "participant_id": "p1",
                "date": "2024-03-01",
                "minutes": 30,
                "activity": "referral",
            },
            {
                "activity_id": "a2",
                "participant_id": "p9",
                "date": "2024-03-01",
                "minutes": 30,
                "activity": "referral",
            },
            {
                "activity_id": " a3 ",
                "participant_id": "p1",
                "date": "2024-03-01",
                "minutes": 10,
                "activity": "refferal",
            },
            {
                "activity_id": " a4 ",
                "participant_id": "p1",
                "date": "2024-03-02",
                "minutes": 20,
                "activity": "referral",
            },
        ]
    )
    assert [d.status for d in decisions] == ["billable", "rejected", "rejected", "billable"]
    assert decisions[1].problems == ["participant_id: unknown participant_id 'p9'"]
    assert decisions[2].problems[0].startswith("activity: unknown activity code")
    assert decisions[3].activity_id == " a4 " and decisions[3].units == 1.0
    again = live.post(
        {
            "activity_id": "a1",
            "participant_id": "p1",
            "date": "2024-03-05",
            "minutes": 30,
            "activity": "referral",
        }
    )
    assert again.status == "rejected" and "already posted" in again.problems[0]


def test_concurrent_posts_never_spend_a_shared_budget_twice() -> None:
    """Four threads post for four participants against one contract budget: every post is
    decided under the session's lock, so the billed total is what the budget allows and
    equals a batch run's — never more (a budget read stale by two threads at once)."""
    people = [{"participant_id": f"p{i}", "birth_date": "1980-01-01"} for i in range(4)]
    coverage = [
        {**span, "participant_id": p["participant_id"]} for p in people for span in COVERAGE
    ]
    budget = {"contracts": [{**TCM["contracts"][0], "caps": {"budget": 300.0}}]}
    live = Session(
        {"participants": pd.DataFrame(people), "coverage": pd.DataFrame(coverage)}, budget
    )
    posts = {
        p["participant_id"]: [
            {
                "activity_id": f"{p['participant_id']}-{day}",
                "participant_id": p["participant_id"],
                "date": f"2024-03-{day:02d}",
                "minutes": 30,
                "activity": "referral",
            }
            for day in range(1, 6)
        ]
        for p in people
    }

    def worker(records: list[dict[str, Any]]) -> None:
        for record in records:
            live.post(record)

    threads = [threading.Thread(target=worker, args=(r,)) for r in posts.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    lines = live.lines()
    billed = float(lines.loc[lines["status"] == "billable", "amount"].sum())
    assert billed == 300.0  # 20 posts of $60 could bill $1,200; the budget is $300
    every = pd.DataFrame([r for records in posts.values() for r in records])
    batch = casefund.evaluate(
        {
            "participants": pd.DataFrame(people),
            "coverage": pd.DataFrame(coverage),
            "activities": every,
        },
        budget,
    ).lines
    assert billed == float(batch.loc[batch["status"] == "billable", "amount"].sum())
    assert len(lines.loc[lines["status"] != "rejected"]) >= len(every)


def test_an_unknown_backend_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="backend must be one of native, durable"):
        Session({"participants": pd.DataFrame(PEOPLE)}, TCM, backend="drools")


CS_CONTRACT = {
    "contracts": [
        {
            "id": "cs",
            "payer": "MCP A",
            "program": "community_supports",
            "payment": "cost_reimbursement",
        }
    ]
}


def _deposit(activity_id: str, date: str) -> dict[str, Any]:
    return {
        "activity_id": activity_id,
        "participant_id": "p1",
        "date": date,
        "minutes": 0,
        "activity": "housing_deposit",
        "amount": 1500,
    }


@each_backend
def test_retracting_an_earlier_activity_redecides_the_later_ones(backend: str) -> None:
    """Regression: a retract re-decided no later activity, so a deposit refused as the
    second in a lifetime stayed refused after the first was withdrawn."""
    coverage = [
        {
            "participant_id": "p1",
            "program": "medi_cal",
            "payer": "mcp_a",
            "start_date": "2020-01-01",
        },
        {
            "participant_id": "p1",
            "program": "community_supports",
            "payer": "mcp_a",
            "start_date": "2020-01-01",
        },
    ]
    live = Session(
        {"participants": pd.DataFrame(PEOPLE), "coverage": pd.DataFrame(coverage)},
        CS_CONTRACT,
        backend=backend,
    )
    live.post(_deposit("d1", "2024-03-01"))
    second = live.post(_deposit("d2", "2024-09-01"))
    assert second.status == "unbillable" and "cs.housing_deposit_lifetime" in second.reasons
    live.retract("d1")
    (now,) = live.lines().itertuples()
    assert (now.activity_id, now.status) == ("d2", "billable")


@each_backend
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.integers(2, 4), st.data())
def test_corrections_and_restarts_give_the_batch_lines(
    backend: str, seed: int, participants: int, data: st.DataObject
) -> None:
    """Post everything, retract some activities, re-post some of those corrected to another
    activity code, restart a session from what is stored: each step's lines equal
    evaluate() on the activities then standing."""
    tables = generate(Shape(participants=participants, months=2, seed=seed, malformed_share=0.0))
    contracts = demo_contracts()
    live = post_all(tables, contracts, backend)
    acts = tables["activities"].reset_index(drop=True)
    ids = acts["activity_id"].tolist()
    withdrawn = data.draw(st.lists(st.sampled_from(ids), unique=True, max_size=6), "retracted")
    for activity_id in withdrawn:
        live.retract(activity_id)
    corrected = (
        data.draw(st.lists(st.sampled_from(withdrawn), unique=True), "re-posted")
        if withdrawn
        else []
    )
    codes = sorted(set(acts["activity"].astype(str)))
    fixes = acts.loc[acts["activity_id"].isin(corrected)].copy()
    fixes["activity"] = [data.draw(st.sampled_from(codes), "corrected to") for _ in corrected]
    for record in fixes.to_dict("records"):
        live.post(record)
    standing = pd.concat([acts.loc[~acts["activity_id"].isin(withdrawn)], fixes], ignore_index=True)
    now = {**tables, "activities": standing}
    batch = _canonical(casefund.evaluate(now, contracts).lines)
    pd.testing.assert_frame_equal(_canonical(live.lines()), batch)
    restarted = Session(now, contracts, backend=backend)
    pd.testing.assert_frame_equal(_canonical(restarted.lines()), batch)


@each_backend
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.integers(2, 3), st.randoms(use_true_random=False))
def test_posting_in_any_order_ends_at_the_batch_lines(
    backend: str, seed: int, participants: int, shuffle: Any
) -> None:
    """Backdated posts re-decide what they change: whatever the posting order, the lines
    once everything is posted are evaluate()'s (budgets unbinding, as above)."""
    tables = generate(Shape(participants=participants, months=2, seed=seed, malformed_share=0.0))
    contracts = demo_contracts()
    live = Session(
        {k: v for k, v in tables.items() if k != "activities"}, contracts, backend=backend
    )
    records = tables["activities"].to_dict("records")
    shuffle.shuffle(records)
    for record in records:
        live.post(record)
    batch = casefund.evaluate(tables, contracts)
    pd.testing.assert_frame_equal(_canonical(live.lines()), _canonical(batch.lines))


def test_regression_a_session_keeps_no_collector_work_per_participant() -> None:
    """Kept as pandas objects, each posted participant's activities and lines were about
    600 objects the garbage collector tracks, and every full collection walked them all:
    with 1,373 participants posted, one took 557 ms. Frozen, they are a few each."""
    import gc
    import weakref

    def tracked() -> int:
        gc.collect()
        gc.collect()
        # pandas' copy-on-write keeps weak references on the long-lived input frames
        # (pruned at 500 a block): bounded, and not the session's to keep.
        return sum(1 for o in gc.get_objects() if type(o) is not weakref.ReferenceType)

    tables = generate(Shape(participants=150, months=1, seed=3, malformed_share=0.0))
    session = Session({k: v for k, v in tables.items() if k != "activities"}, demo_contracts())
    acts = tables["activities"].sort_values(["date", "participant_id", "activity_id"])
    first = acts.drop_duplicates("participant_id")  # one post per participant
    records = first.to_dict("records")
    for record in records[:30]:
        session.post(record)
    before, posted = tracked(), len(session._activities)
    for record in records[30:]:
        session.post(record)
    growth = (tracked() - before) / (len(session._activities) - posted)
    assert len(session._activities) - posted >= 100
    assert growth < 25, growth


def test_regression_posts_leave_no_references_on_the_participants_frame() -> None:
    """Facts took participant columns from the prepared frame on every post, and each read
    left a weak reference in the frame (pandas' copy-on-write tracking): about twenty a
    post, walked by every full collection until pandas pruned them. The columns are now
    converted once."""
    import gc
    import weakref

    def references() -> int:
        gc.collect()
        return sum(1 for o in gc.get_objects() if type(o) is weakref.ReferenceType)

    tables = generate(Shape(participants=150, months=1, seed=3, malformed_share=0.0))
    session = Session({k: v for k, v in tables.items() if k != "activities"}, demo_contracts())
    records = tables["activities"].sort_values(["date", "participant_id", "activity_id"])
    records = records.head(160).to_dict("records")
    for record in records[:40]:
        session.post(record)
    before = references()
    for record in records[40:]:
        session.post(record)
    per_post = (references() - before) / (len(records) - 40)
    assert per_post < 3, per_post


@pytest.mark.parametrize("backend", BACKENDS)
def test_opening_a_session_builds_the_fact_indexes_the_first_post_reads(backend: str) -> None:
    """Opening a session builds the indexes the rules' facts search (every participant's
    spans, determinations, events, observations), which the first post built before (37 ms
    of its 61 with 10,000 participants). The first post reuses every one of them and builds
    only the few behind a condition the opening probe never reaches; its answer is the
    batch evaluator's."""
    state = generate(Shape(participants=40, months=1, seed=7, malformed_share=0.0))
    people = {k: v for k, v in state.items() if k != "activities"}
    first = state["activities"].sort_values(["date", "participant_id", "activity_id"]).iloc[0]
    session = Session(people, demo_contracts(), backend=backend)
    prepared = session.prepared
    caches = ("_spans", "_determinations", "_events", "_observations")

    def indexes() -> dict[tuple[str, Any], int]:  # each index, and which object it is
        return {(name, k): id(v) for name in caches for k, v in getattr(prepared, name).items()}

    opened = indexes()
    decision = session.post(first.to_dict())
    after = indexes()
    assert {key: after[key] for key in opened} == opened  # reused, none rebuilt
    assert len(opened) >= 0.8 * len(after)  # most of what the first post read
    whole = casefund.evaluate({**people, "activities": pd.DataFrame([first])}, demo_contracts())
    pd.testing.assert_frame_equal(
        _canonical(decision.lines)[COMPARED], _canonical(whole.lines)[COMPARED]
    )

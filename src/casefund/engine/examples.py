"""Running the examples written beside each rule (OpenFisca-style situations).

An example is a small situation in the interchange contract's own columns — a participant,
perhaps an activity and earlier ones, enrollment spans, events — and what the rule decides
in it. Each is validated like real input, its facts derived by the same fact layer and the
rule decided by the same evaluator as a real run, so an example can only pass if the rule
does what its source says for that case.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from casefund.engine.decide import decide
from casefund.facts.calendar import month_start, to_days
from casefund.facts.prepared import PreparedData
from casefund.facts.scope import FactScope
from casefund.io.load import load_dataset
from casefund.payers.terms import CONVENTIONS, ResolvedParameters
from casefund.records.days import day_number
from casefund.rules.book import RuleBook
from casefund.rules.loader import CompiledRule
from casefund.rules.model import RuleExample

PARTICIPANT = "p1"


@dataclass(frozen=True)
class ExampleResult:
    rule_id: str
    name: str
    expected: str
    observed: str
    problem: str = ""

    @property
    def passed(self) -> bool:
        return not self.problem and _matches(self.expected, self.observed)


def _matches(expected: str, observed: str) -> bool:
    if expected.startswith("not "):
        return observed != expected[4:]
    if expected == "does not qualify":
        return observed == "does not qualify"
    return observed == expected


def _tables(example: RuleExample) -> dict[str, pd.DataFrame]:
    person = {"participant_id": PARTICIPANT, **example.participant}
    rows = [*example.earlier_activities]
    if example.activity:
        rows.append({"date": example.date.isoformat(), **example.activity})
    activities = [
        {
            "activity_id": f"x{i}",
            "participant_id": PARTICIPANT,
            "minutes": 15,
            "activity": "referral",
            **row,
        }
        for i, row in enumerate(rows)
    ]
    tables = {"participants": pd.DataFrame([person]), "activities": pd.DataFrame(activities)}
    for name in ("coverage", "events", "assessments"):
        given: list[dict[str, Any]] = getattr(example, name)
        if given:
            tables[name] = pd.DataFrame([{"participant_id": PARTICIPANT, **row} for row in given])
    return tables


def run_example(book: RuleBook, rule: CompiledRule, example: RuleExample) -> ExampleResult:
    """What the rule decides in the example's situation, with the expectation beside it."""
    data = load_dataset(_tables(example))
    if len(data.rejects):
        first = data.rejects.iloc[0]
        return ExampleResult(
            rule.id,
            example.name,
            example.expect,
            "",
            f"the example's {first['table']} row {first['row']} is refused: "
            f"{first['field']}: {first['problem']}",
        )
    prepared = PreparedData.build(data)
    on = np.array([day_number(example.date)], dtype=np.int64)
    if rule.rule.scope == "activity":
        acts = data.activities
        days = to_days(acts["date"])
        order = np.argsort(days, kind="stable")
        acts = acts.iloc[order].reset_index(drop=True)
        days = days[order]
        codes = prepared.codes_for(acts["participant_id"])
        scope = FactScope(prepared, codes, days, days, activity=acts)
        row = int(np.flatnonzero(days == on[0])[-1]) if example.activity else -1
        if row < 0:
            return ExampleResult(
                rule.id,
                example.name,
                example.expect,
                "",
                "an activity rule's example needs an activity",
            )
    else:
        days = on
        scope = FactScope(prepared, np.zeros(1, dtype=np.int64), on, month_start(on))
        row = 0
    params = ResolvedParameters(
        book.parameters.get(rule.rule.program),
        dict(example.parameters),
        book.parameters.get(CONVENTIONS),
    )
    decisions = decide([rule], scope, params, days, example.payer)
    return ExampleResult(rule.id, example.name, example.expect, _observed(rule, decisions, row))


def _observed(rule: CompiledRule, decisions: Any, row: int) -> str:
    if rule.id in decisions.skipped:
        return "off"
    if any(mask[row] for _, mask in decisions.denied):
        return "denied"
    if any(mask[row] for _, mask in decisions.warned):
        return "warned"
    if rule.rule.then.decision == "qualify":
        met = any(m[row] for _, _, m in decisions.qualified.values())
        return "qualifies" if met else "does not qualify"
    return "not denied"


def all_examples(book: RuleBook) -> Iterator[tuple[CompiledRule, RuleExample]]:
    for rule in book.all_rules():
        for example in rule.rule.examples:
            yield rule, example


def run_all(book: RuleBook) -> list[ExampleResult]:
    return [run_example(book, rule, example) for rule, example in all_examples(book)]

"""The examples written beside each rule, run as tests (one test per example)."""

from typing import Any

import pytest

from casefund.engine.examples import all_examples, run_example
from casefund.rules.book import rule_book
from casefund.rules.model import RuleExample

EXAMPLES = list(all_examples(rule_book()))


@pytest.mark.parametrize(
    ("rule", "example"), EXAMPLES, ids=[f"{r.id}: {e.name}" for r, e in EXAMPLES]
)
def test_rule_example(rule: Any, example: RuleExample) -> None:
    result = run_example(rule_book(), rule, example)
    assert not result.problem, result.problem
    assert result.passed, f"expected {result.expected}, got {result.observed}"


def test_examples_cover_the_rules_this_round_fixed() -> None:
    covered = {rule.id for rule, _ in EXAMPLES}
    assert {
        "rw.hiv_diagnosis",
        "hh.pop.two_chronic_conditions",
        "hh.pop.medically_complex_child",
        "ecm.excluded.chw",
        "cs.code_in_guidance",
    } <= covered


def test_a_wrong_expectation_fails() -> None:
    rule, example = next((r, e) for r, e in EXAMPLES if r.id == "rw.hiv_diagnosis")
    flipped = (
        example.model_copy(update={"expect": "not denied"})
        if example.expect == "denied"
        else example.model_copy(update={"expect": "denied"})
    )
    assert not run_example(rule_book(), rule, flipped).passed


def test_an_example_the_validator_refuses_says_so() -> None:
    rule, example = next((r, e) for r, e in EXAMPLES if r.id == "rw.hiv_diagnosis")
    broken = example.model_copy(update={"participant": {"hiv": "perhaps"}})
    result = run_example(rule_book(), rule, broken)
    assert not result.passed and "refused" in result.problem and "hiv" in result.problem

"""Every bundled rule and parameter is cited, dated, explained and internally consistent."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from casefund.rules.book import rule_book
from casefund.rules.check import check_rule_book
from casefund.rules.pages import write_pages

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules"


def test_rule_book_has_no_static_problems() -> None:
    assert check_rule_book() == []


def test_every_rule_has_citation_dates_and_plain_reason() -> None:
    book = rule_book()
    assert len(book.all_rules()) > 50
    for compiled in book.all_rules():
        rule = compiled.rule
        assert rule.cite.document.strip(), rule.id
        assert rule.effective.start is not None, rule.id
        assert len(rule.then.reason) >= 10, rule.id
        assert rule.program, rule.id


def test_every_parameter_value_has_citation_and_date() -> None:
    book = rule_book()
    for program in book.parameters.values():
        for name, parameter in program.parameters.items():
            for value in parameter.values:
                assert value.cite.document.strip(), f"{program.program}.{name}"
                assert value.start is not None


def test_unconfirmed_citations_are_never_silently_on() -> None:
    """An unconfirmed rule is off by default: it reads an unverified parameter, or what it
    decides by default is only a warning. Regression (issue 12, finding 8): the CHW exclusion
    denied ECM by default from an unread source."""
    book = rule_book()
    for compiled in book.all_rules():
        rule = compiled.rule
        if rule.cite.status != "unconfirmed":
            continue
        params = book.parameters[rule.program].parameters
        unverified = any(not params[p].verified for p in compiled.condition.params() if p in params)
        decision = rule.then.decision
        switch = params.get(rule.then.decision_parameter or "")
        if switch is not None and switch.verified:
            decision = switch.values[-1].value
        assert unverified or decision == "warn", rule.id


def test_outcomes_are_cited() -> None:
    for outcome in rule_book().outcomes.values():
        assert outcome.cite.document.strip() and len(outcome.reason) >= 10


def test_generated_rule_pages_are_up_to_date(tmp_path: Path) -> None:
    written = write_pages(rule_book(), tmp_path)
    for page in written:
        committed = DOCS / page.name
        assert committed.exists(), f"run `casefund rules docs` to add {page.name}"
        assert committed.read_text() == page.read_text(), (
            f"docs/rules/{page.name} is stale: run `casefund rules docs`"
        )


@contextmanager
def rule_dated(rule_id: str, start: str) -> Iterator[None]:
    """The bundled rule in effect from ``start`` instead, for the duration of a test."""
    from casefund.records.periods import Effective

    compiled = rule_book().rule(rule_id)
    assert compiled is not None
    before = compiled.rule.effective
    compiled.rule.effective = Effective.model_validate({"from": start})
    try:
        yield
    finally:
        compiled.rule.effective = before


def test_check_finds_a_requirement_that_starts_after_its_rule_set() -> None:
    with rule_dated("rw.hiv_diagnosis", "2022-01-01"):
        problems = check_rule_book()
    assert any("rw.hiv_diagnosis" in p and "without it" in p for p in problems)


def test_check_finds_a_rule_reading_a_parameter_before_it_has_a_value() -> None:
    with rule_dated("ecm.pof.birth_equity", "2023-01-01"):
        problems = check_rule_book()
    assert any("birth_equity_races" in p and "no value before 2024-01-01" in p for p in problems)

"""Every bundled rule and parameter is cited, dated, explained and internally consistent."""

from pathlib import Path

from casefund.evaluation import rule_book
from casefund.rules.check import check_rule_book
from casefund.rules.pages import write_pages

DOCS = Path(__file__).resolve().parents[1] / "docs" / "rules"


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
    """An unconfirmed rule is off by default: it reads an unverified parameter or only warns,
    or can be switched by a decision parameter."""
    book = rule_book()
    for compiled in book.all_rules():
        if compiled.rule.cite.status != "unconfirmed":
            continue
        params = book.parameters[compiled.rule.program].parameters
        unverified = any(not params[p].verified for p in compiled.condition.params()
                         if p in params)
        switchable = compiled.rule.then.decision_parameter is not None
        assert unverified or switchable, compiled.id


def test_outcomes_are_cited() -> None:
    for outcome in rule_book().outcomes.values():
        assert outcome.cite.document.strip() and len(outcome.reason) >= 10


def test_generated_rule_pages_are_up_to_date(tmp_path: Path) -> None:
    written = write_pages(rule_book(), tmp_path)
    for page in written:
        committed = DOCS / page.name
        assert committed.exists(), f"run `casefund rules docs` to add {page.name}"
        assert committed.read_text() == page.read_text(), (
            f"docs/rules/{page.name} is stale: run `casefund rules docs`")

"""Markdown pages generated from the rule files, so the docs can never drift from the rules."""

from __future__ import annotations

from pathlib import Path

from casefund.payers.parameters import ProgramParameters
from casefund.records.citations import Citation
from casefund.records.payment_models import PAYMENT_MODELS
from casefund.rules.book import RuleBook
from casefund.rules.loader import CompiledRule

# Terms a contract paying by time needs; a program whose sources set none lends it none.
TIME_TERMS = ("unit_minutes", "rounding")
CONVENTIONS = "units"
PROGRAM_MODELS = "program_models"


def _cite(cite: Citation) -> str:
    text = ", ".join(filter(None, [cite.document, cite.section]))
    if cite.url:
        text = f"[{text}]({cite.url})"
    if cite.via:
        text += f"; read as restated by {cite.via}"
    if cite.status != "confirmed":
        text += f" *({cite.status.replace('_', ' ')})*"
    return text


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _rule_row(rule: CompiledRule) -> str:
    r = rule.rule
    what = r.then.population or r.then.decision
    if r.then.decision_parameter:
        what += f" (or as `{r.then.decision_parameter}` says)"
    if r.fix is not None:
        what += f"; fixable ({r.fix.remedy}): {_cell(r.fix.text)}"
    dates = f"{r.effective.start}" + (f" – {r.effective.end}" if r.effective.end else " –")
    condition = f"`{_cell(r.when)}`"
    if r.applies_when:
        condition = f"only where `{_cell(r.applies_when)}`: {condition}"
    return (
        f"| `{r.id}` | {what} | {r.scope.replace('_', '-')} | {condition} | "
        f"{_cell(r.then.reason)} | {_cell(_cite(r.cite))} | {dates} |"
    )


def _value_text(value: object) -> str:
    """A parameter value in full, as an auditor reads it: a mapping as ``key: values`` pairs
    (a code table, the function of each activity code), a list as its items."""
    if isinstance(value, dict):
        return "; ".join(f"`{k}`: {_value_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(f"`{item}`" for item in value)
    return f"`{value!r}`"


def _parameter_rows(params: ProgramParameters) -> list[str]:
    rows = []
    for name, parameter in sorted(params.parameters.items()):
        for value in parameter.values:
            flag = "" if parameter.verified else " **unverified**"
            rows.append(
                f"| `{name}`{flag} | {_cell(parameter.description)} | "
                f"{_cell(_value_text(value.value))} | {value.start} | "
                f"{_cell(_cite(value.cite))} |"
            )
    return rows


def program_page(book: RuleBook, program: str) -> str:
    rule_set = book.rule_set(program)
    title = rule_set.title if rule_set else program
    lines = [
        f"# {title}",
        "",
        f"Generated from the rule files by `casefund rules docs` (rules hash "
        f"`{book.digest}`). Edit the YAML, not this page.",
        "",
    ]
    lines += _in_force(book, program)
    lines += _contract_terms(book, program)
    notes = []
    for kind in ("eligibility", "coverage", "units", "limit", "allocation"):
        rules = [r for r in book.program_rules(program) if r.rule.kind == kind]
        if not rules:
            continue
        lines += [
            f"## {kind.capitalize()} rules",
            "",
            "| id | decides | scope | condition | reason | source | effective |",
            "|---|---|---|---|---|---|---|",
        ]
        lines += [_rule_row(r) for r in rules]
        lines.append("")
        notes += [(r.id, r.rule.notes) for r in rules if r.rule.notes]
    coding = book.coding.get(program, [])
    if coding:
        lines += [
            "## Coding (first match wins)",
            "",
            "| id | condition | code | modifiers | source |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| `{c.coding.id}` | `{_cell(c.coding.when)}` | {c.coding.procedure_code} | "
            f"{c.coding.modifiers} | {_cell(_cite(c.coding.cite))} |"
            for c in coding
        ]
        lines.append("")
    params = book.parameters.get(program)
    if params:
        lines += [
            "## Parameters",
            "",
            "| parameter | meaning | value | from | source |",
            "|---|---|---|---|---|",
            *_parameter_rows(params),
            "",
        ]
    examples = [(r.id, e) for r in book.program_rules(program) for e in r.rule.examples]
    if examples:
        lines += [
            "## Examples (run by the tests and by `casefund rules check`)",
            "",
            "| rule | situation | date | decides |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| `{rule_id}` | {_cell(e.name)} | {e.date} | {e.expect} |" for rule_id, e in examples
        ]
        lines.append("")
    if params:
        notes += [(name, p.notes) for name, p in sorted(params.parameters.items()) if p.notes]
    if notes:
        lines += ["## Notes on readings", ""]
        lines += [f"- `{rule_id}`: {' '.join(text.split())}" for rule_id, text in notes]
        lines.append("")
    return "\n".join(lines)


def _in_force(book: RuleBook, program: str) -> list[str]:
    """The period the program's rules decide, and what a line says outside it."""
    rule_set = book.rule_set(program)
    lines: list[str] = []
    if rule_set is not None:
        period = rule_set.in_force
        lines += [
            "## In force",
            "",
            f"These rules decide services from {period.start}"
            + (f" through {period.end}" if period.end else " on")
            + ". On any other "
            f"date a contract of this program bills nothing, and the line says so with "
            f'`{rule_set.id}`: "{_cell(rule_set.reason)}" Source: '
            f"{_cell(_cite(rule_set.cite))}.",
            "",
        ]
        if rule_set.notes:
            lines += [" ".join(rule_set.notes.split()), ""]
    return lines


def _contract_terms(book: RuleBook, program: str) -> list[str]:
    """What a contract paying by time must state because the program's sources do not."""
    params = book.parameters.get(program)
    missing = [
        name
        for name in TIME_TERMS
        if params is None
        or name not in params.parameters
        or all(v.value is None for v in params.parameters[name].values)
    ]
    if not missing:
        return []
    names = " and ".join(f"`{n}`" for n in missing)
    return [
        "## Terms a contract must state",
        "",
        f"The program's sources set no convention for time units, so casefund lends none: "
        f"a contract of this program that pays by time (`ffs_unit`, or a grant with a unit "
        f"rate) must state {names}, or it is refused when the contracts are read. Minutes "
        f"are summed per day only where the contract says `aggregate: per_day` (see "
        f"[conventions](conventions.md)).",
        "",
    ]


def conventions_page(book: RuleBook) -> str:
    """The conventions every program shares (units.yaml)."""
    return _parameters_page(
        book,
        CONVENTIONS,
        "Conventions every program shares",
        "A contract's own terms, then its program's, come first; these apply where neither says.",
    )


def program_models_page(book: RuleBook) -> str:
    """The case-management models caseloads are judged by, and the TIP 27 functions."""
    return _parameters_page(
        book,
        PROGRAM_MODELS,
        "Program models and case-management functions",
        "Caseload limits per full-time case manager (the `caseloads` output; "
        "`staff.program_model` names the model, `program_models:` in contracts.yaml adjusts "
        "or adds one) and the TIP 27 function of each activity code (the `functions` "
        "output).",
    )


def _parameters_page(book: RuleBook, program: str, title: str, lead: str) -> str:
    params = book.parameters[program]
    lines = [
        f"# {title}",
        "",
        f"Generated from the rule files by `casefund rules docs` (rules hash "
        f"`{book.digest}`). {lead}",
        "",
        "| parameter | meaning | value | from | source |",
        "|---|---|---|---|---|",
        *_parameter_rows(params),
        "",
        "## Notes on readings",
        "",
    ]
    lines += [
        f"- `{name}`: {' '.join(p.notes.split())}"
        for name, p in sorted(params.parameters.items())
        if p.notes
    ]
    lines.append("")
    return "\n".join(lines)


def payment_models_page(book: RuleBook) -> str:
    """The payment models a contract may name (vocabulary.yaml's ``payment`` table)."""
    lines = [
        "# Payment models",
        "",
        "Generated from `records/vocabulary.yaml` by `casefund rules docs` (rules hash "
        f"`{book.digest}`). A contract's `payment` names one of these; the unit says which "
        "module of `casefund/allocate/models/` pays it.",
        "",
        "| payment | pays | rate | unit | claimed by | paid lines carry | source |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, model in PAYMENT_MODELS.items():
        outcome = book.outcomes.get(model.outcome)
        source = _cell(_cite(outcome.cite)) if outcome is not None else ""
        unit = model.unit.replace("_", " ") + (" (and staff time)" if model.staff_time else "")
        lines.append(
            f"| `{name}` | {_cell(model.meaning)} | {model.rate} | {unit} | "
            f"{model.claimed_by} | `{model.outcome}` | {source} |"
        )
    lines.append("")
    return "\n".join(lines)


def write_pages(book: RuleBook, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for program in sorted(book.rules):
        path = folder / f"{program}.md"
        path.write_text(program_page(book, program))
        written.append(path)
    if CONVENTIONS in book.parameters:
        path = folder / "conventions.md"
        path.write_text(conventions_page(book))
        written.append(path)
    if PROGRAM_MODELS in book.parameters:
        path = folder / "program-models.md"
        path.write_text(program_models_page(book))
        written.append(path)
    path = folder / "payment-models.md"
    path.write_text(payment_models_page(book))
    written.append(path)
    return written

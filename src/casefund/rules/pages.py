"""Markdown pages generated from the rule files, so the docs can never drift from the rules."""

from __future__ import annotations

from pathlib import Path

from casefund.rules.loader import CompiledRule, ProgramParameters, RuleBook
from casefund.rules.model import Citation

TITLES = {
    "ecm": "CalAIM Enhanced Care Management",
    "community_supports": "CalAIM Community Supports",
    "tcm": "Medicaid targeted case management (SSA §1915(g))",
    "health_home": "Medicaid Health Homes (SSA §1945, §1945A)",
    "ryan_white_nmcm": "Ryan White Non-Medical Case Management",
    "grant": "Grants",
}


def _cite(cite: Citation) -> str:
    text = cite.short()
    if cite.url:
        text = f"[{text}]({cite.url})"
    if cite.status != "confirmed":
        text += f" *({cite.status.replace('_', ' ')})*"
    return text


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _rule_row(rule: CompiledRule) -> str:
    r = rule.rule
    what = r.then.population or r.then.decision
    dates = f"{r.effective.start}" + (f" – {r.effective.end}" if r.effective.end else " –")
    return (f"| `{r.id}` | {what} | {r.scope.replace('_', '-')} | `{_cell(r.when)}` | "
            f"{_cell(r.then.reason)} | {_cell(_cite(r.cite))} | {dates} |")


def _parameter_rows(params: ProgramParameters) -> list[str]:
    rows = []
    for name, parameter in sorted(params.parameters.items()):
        for value in parameter.values:
            flag = "" if parameter.verified else " **unverified**"
            rows.append(f"| `{name}`{flag} | {_cell(parameter.description)} | "
                        f"`{_cell(repr(value.value))[:200]}` | {value.start} | "
                        f"{_cell(_cite(value.cite))} |")
    return rows


def program_page(book: RuleBook, program: str) -> str:
    lines = [f"# {TITLES.get(program, program)}", "",
             f"Generated from the rule files by `casefund rules docs` (rules hash "
             f"`{book.digest}`). Edit the YAML, not this page.", ""]
    notes = []
    for kind in ("eligibility", "coverage", "units", "limit", "allocation"):
        rules = [r for r in book.program_rules(program) if r.rule.kind == kind]
        if not rules:
            continue
        lines += [f"## {kind.capitalize()} rules", "",
                  "| id | decides | scope | condition | reason | source | effective |",
                  "|---|---|---|---|---|---|---|"]
        lines += [_rule_row(r) for r in rules]
        lines.append("")
        notes += [(r.id, r.rule.notes) for r in rules if r.rule.notes]
    coding = book.coding.get(program, [])
    if coding:
        lines += ["## Coding (first match wins)", "", "| id | condition | code | modifiers |"
                  " source |", "|---|---|---|---|---|"]
        lines += [f"| `{c.coding.id}` | `{_cell(c.coding.when)}` | {c.coding.procedure_code} | "
                  f"{c.coding.modifiers} | {_cell(_cite(c.coding.cite))} |" for c in coding]
        lines.append("")
    params = book.parameters.get(program)
    if params:
        lines += ["## Parameters", "", "| parameter | meaning | value | from | source |",
                  "|---|---|---|---|---|", *_parameter_rows(params), ""]
    if notes:
        lines += ["## Notes on readings", ""]
        lines += [f"- `{rule_id}`: {' '.join(text.split())}" for rule_id, text in notes]
        lines.append("")
    return "\n".join(lines)


def write_pages(book: RuleBook, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for program in sorted(book.rules):
        path = folder / f"{program}.md"
        path.write_text(program_page(book, program))
        written.append(path)
    return written

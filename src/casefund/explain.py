"""Why an activity's minutes went where they went, in at most twenty lines.

The explanation is read from the lines the engine already produced and from the rule book;
nothing is re-evaluated, so it can never disagree with the outputs.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from casefund.reports.outputs import Evaluation
from casefund.rules.book import RuleBook, rule_book

MAX_LINES = 20


def explain_activity(evaluation: Evaluation, activity_id: str) -> list[str]:
    lines = evaluation.lines
    mine = lines.loc[lines["activity_id"].astype(str) == activity_id]
    if mine.empty:
        return [f"activity '{activity_id}' is not in the evaluated activities"]
    book = rule_book()
    first = mine.iloc[0]
    total = int(mine["minutes"].sum())
    out = [
        f"activity {activity_id}: {first['activity']} on {first['service_date']} for "
        f"participant {first['participant_id']}, {total} minutes"
    ]
    for _, row in mine.iterrows():  # an activity has a handful of lines, never thousands
        where = row["contract_id"] or "no contract"
        out.append(
            f"  {row['status']:<10} {int(row['minutes']):>4} min  {where}"
            f"  units {row['units']:g}  ${row['amount']:,.2f}"
            + (
                f"  {row['procedure_code']} {row['modifiers']}".rstrip()
                if row["procedure_code"]
                else ""
            )
        )
    reason_ids = list(
        dict.fromkeys(r for text in mine["reasons"] for r in str(text).split(";") if r)
    )
    for rule_id in reason_ids:
        out.append(f"  - {rule_id}: {_reason(book, rule_id)}")
        out.append(f"      source: {_citation(book, rule_id)}")
    out.extend(_parameters(evaluation, book, mine, reason_ids))
    if len(out) > MAX_LINES:
        out = [*out[: MAX_LINES - 1], f"  … {len(out) - MAX_LINES + 1} more lines not shown"]
    return out


def _reason(book: RuleBook, rule_id: str) -> str:
    rule = book.rule(rule_id)
    if rule is not None:
        return rule.rule.then.reason
    outcome = book.outcomes.get(rule_id)
    return outcome.reason if outcome else "(unknown rule id)"


def _citation(book: RuleBook, rule_id: str) -> str:
    rule = book.rule(rule_id)
    cite = (
        rule.rule.cite
        if rule
        else (book.outcomes[rule_id].cite if rule_id in book.outcomes else None)
    )
    if cite is None:
        return "—"
    return cite.short() + (f" <{cite.url}>" if cite.url else "")


def _parameters(
    evaluation: Evaluation, book: RuleBook, mine: pd.DataFrame, reason_ids: list[str]
) -> list[str]:
    """Parameter values the deciding rules read, with their effective date and source."""
    day = dt.date.fromisoformat(str(mine.iloc[0]["service_date"]))
    out = []
    contracts = {c.id: c for c in (evaluation.dataset.contracts if evaluation.dataset else [])}
    for rule_id in reason_ids:
        rule = book.rule(rule_id)
        if rule is None:
            continue
        program = book.parameters.get(rule.rule.program)
        for name in sorted(rule.condition.params()):
            if program is None or name not in program.parameters:
                continue
            entries = [v for v in program.parameters[name].values if v.start <= day]
            if not entries:
                continue
            entry = entries[-1]
            out.append(
                f"  param {rule.rule.program}.{name} = {entry.value!r} "
                f"(from {entry.start}; {entry.cite.short()})"
            )
    for contract_id in mine["contract_id"].unique():
        contract = contracts.get(str(contract_id))
        if contract is not None:
            out.append(
                f"  contract {contract.id}: {contract.payment} at {contract.rate} "
                f"(priority {contract.priority}, effective {contract.effective.start}.."
                f"{contract.effective.end or ''})"
            )
    return out

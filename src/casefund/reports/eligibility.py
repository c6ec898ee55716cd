"""Eligibility per participant, program and population, with the deciding rule ids."""

from __future__ import annotations

import numpy as np
import pandas as pd

from casefund.allocate.reasons import ReasonBits
from casefund.engine.decide import decide
from casefund.engine.params import ResolvedParameters
from casefund.facts.calendar import from_days
from casefund.facts.scope import ACTIVITY_FACTS, FactScope
from casefund.reports.frames import categorical
from casefund.rules.loader import CompiledRule, RuleBook

ELIGIBILITY_COLUMNS = [
    "participant_id",
    "program",
    "population",
    "eligible",
    "as_of",
    "month",
    "reasons",
    "explanation",
]


def person_rules(book: RuleBook, program: str) -> list[CompiledRule]:
    """Eligibility rules that are about the person, not about a particular activity."""
    return [
        r for r in book.program_rules(program)
        if r.rule.kind == "eligibility" and not (r.condition.names() & set(ACTIVITY_FACTS))
    ]


def eligibility_programs(book: RuleBook) -> list[str]:
    """Programs whose rule files decide who is eligible."""
    return sorted(program for program in book.rules if person_rules(book, program))


def build_eligibility(
    book: RuleBook,
    scope: FactScope,
    participant_ids: np.ndarray,
    as_of: np.ndarray,
    month: np.ndarray | None,
    enable_unverified: list[str] | None = None,
) -> pd.DataFrame:
    """One row per population tested (or one 'all' row for programs without populations).

    ``eligible`` is true only where the population is met and no exclusion or requirement
    of the program denies; ``reasons`` names the population rule and every denying rule.
    """
    frames = []
    as_of_text = np.datetime_as_string(from_days(as_of), unit="D").astype(object)
    texts = {r.id: r.rule.then.reason for r in book.all_rules()}
    for program in eligibility_programs(book):
        rules = person_rules(book, program)
        params = ResolvedParameters(
            book.parameters.get(program), {"enable_unverified": list(enable_unverified or [])}
        )
        decisions = decide(rules, scope, params, as_of)
        bits = ReasonBits([rule_id for rule_id, _ in decisions.denied] or ["none.none"],
                          len(as_of))
        matrix = bits.empty()
        for rule_id, mask in decisions.denied:
            bits.set(matrix, rule_id, mask)
        denied_ids = np.asarray(bits.decode(matrix), dtype=object)
        denied_any = np.asarray(matrix.any(axis=1), dtype=bool)
        populations = decisions.qualified or {"all": ("", np.ones(len(as_of), dtype=bool),
                                                       np.ones(len(as_of), dtype=bool))}
        for population, (rule_id, tested, met) in sorted(populations.items()):
            rows = np.flatnonzero(tested)
            eligible = met[rows] & ~denied_any[rows]
            deny_text = denied_ids[rows]
            # Distinct denial sets are few: build the reason text once per set.
            deny_codes, deny_sets = pd.factorize(pd.Series(deny_text, dtype=object))
            joined = np.array([";".join(filter(None, [rule_id, str(d)])) for d in deny_sets],
                              dtype=object)
            explanation = _explain(rule_id, met[rows], deny_text, texts,
                                   set(decisions.skipped))
            frames.append({
                "row": rows,
                "program": np.full(len(rows), program, dtype=object),
                "population": np.full(len(rows), population, dtype=object),
                "eligible": eligible,
                "reasons": joined[deny_codes] if len(rows) else np.zeros(0, dtype=object),
                "explanation": explanation,
            })
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in ELIGIBILITY_COLUMNS})
    columns = {name: np.concatenate([f[name] for f in frames]) for name in frames[0]}
    rows = columns.pop("row")
    # Categoricals and one integer sort: no million-string columns are built or sorted.
    people = categorical(participant_ids)
    out = pd.DataFrame({
        "participant_id": pd.Categorical.from_codes(people.codes[rows], people.categories),
        "program": categorical(columns["program"]),
        "population": categorical(columns["population"]),
        "eligible": columns["eligible"],
        "as_of": categorical(as_of_text[rows]),
        "month": categorical(month[rows] if month is not None else
                             np.full(len(rows), "", dtype=object)),
        "reasons": categorical(columns["reasons"]),
        "explanation": categorical(columns["explanation"]),
    })
    order = np.lexsort((out["population"].cat.codes, as_of[rows], out["program"].cat.codes,
                        out["participant_id"].cat.codes))
    return out.iloc[order].reset_index(drop=True)[ELIGIBILITY_COLUMNS]


def _explain(
    population_rule: str, met: np.ndarray, denied: np.ndarray, texts: dict[str, str],
    skipped: set[str],
) -> np.ndarray:
    """Plain-language text per row, built once per distinct combination."""
    keys = pd.Series(np.where(met, "1", "0"), dtype="object") + "|" + pd.Series(denied)
    codes, uniques = pd.factorize(keys)
    explained = np.empty(len(uniques), dtype=object)
    for position, key in enumerate(uniques):  # once per distinct combination, not per row
        is_met, _, denied_ids = str(key).partition("|")
        parts = []
        if population_rule:
            prefix = "meets" if is_met == "1" else "does not meet"
            ids = population_rule.split(";")
            described = " or ".join(
                texts[i] + (" (not tested: rests on an unverified parameter a contract must "
                            "enable)" if i in skipped else "")
                for i in ids
            )
            parts.append(f"{prefix}: {described}")
        parts += [texts[d] for d in denied_ids.split(";") if d]
        explained[position] = " | ".join(parts) if parts else "eligible"
    return np.asarray(explained[codes], dtype=object)

"""Who is eligible for what: each program's person rules decided over participant-days.

Only rules about the person count (not about an activity); a day outside the program's rule
set finds nobody eligible (rules fail closed); a program with populations is met only where
one of its population rules is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from casefund.engine.decide import Decisions, decide
from casefund.engine.reasons import ReasonBits
from casefund.facts.scope import ACTIVITY_FACTS, FactScope
from casefund.payers.terms import ResolvedParameters
from casefund.rules.book import RuleBook
from casefund.rules.loader import CompiledRule
from casefund.rules.model import RuleSet

Populations = dict[str, tuple[str, np.ndarray, np.ndarray]]  # name → (rule ids, tested, met)


@dataclass
class ProgramEligibility:
    """One program's decisions over the rows: where its rule set is in force, which
    populations were tested and met, and which rules denied each row."""

    program: str
    in_force: np.ndarray
    rule_set: RuleSet | None
    populations: Populations
    denied_ids: pd.Categorical  # ';'-joined denying rule ids per row
    denied_any: np.ndarray
    skipped: set[str]


def person_rules(book: RuleBook, program: str) -> list[CompiledRule]:
    """Eligibility rules that are about the person, not about a particular activity."""
    return [
        r
        for r in book.program_rules(program)
        if r.rule.kind == "eligibility" and not (r.condition.names() & set(ACTIVITY_FACTS))
    ]


def eligibility_programs(book: RuleBook) -> list[str]:
    """Programs whose rule files decide who is eligible."""
    return sorted(program for program in book.rules if person_rules(book, program))


def decide_eligibility(
    book: RuleBook, scope: FactScope, as_of: np.ndarray, enable_unverified: list[str] | None = None
) -> list[ProgramEligibility]:
    """Every eligibility program decided over the scope's rows (participant, as-of day)."""
    out = []
    for program in eligibility_programs(book):
        in_force = book.in_force(program, as_of)
        empty = Decisions()
        decisions = (
            empty
            if not in_force.any()
            else decide(
                person_rules(book, program),
                scope,
                ResolvedParameters(
                    book.parameters.get(program),
                    {"enable_unverified": list(enable_unverified or [])},
                ),
                as_of,
            )
        )
        bits = ReasonBits([rule_id for rule_id, _ in decisions.denied] or ["none.none"], len(as_of))
        matrix = bits.empty()
        for rule_id, mask in decisions.denied:
            bits.set(matrix, rule_id, mask)
        populations: Populations = decisions.qualified
        if not book.has_populations(program):
            everyone = np.ones(len(as_of), dtype=bool)
            populations = {"all": ("", everyone, everyone)}
        out.append(
            ProgramEligibility(
                program,
                in_force,
                book.rule_set(program),
                populations,
                bits.decode(matrix),
                np.asarray(matrix.any(axis=1), dtype=bool),
                set(decisions.skipped),
            )
        )
    return out

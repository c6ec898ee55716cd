"""Procedure codes and modifiers for billed lines, from the programs' coding rules."""

from __future__ import annotations

import numpy as np

from casefund.engine.decide import condition_truth
from casefund.facts.scope import FactScope
from casefund.payers.terms import ResolvedParameters
from casefund.rules.book import RuleBook


def code_activities(
    book: RuleBook,
    program: str,
    scope: FactScope,
    params: ResolvedParameters,
    days: np.ndarray,
    payer: str | None,
) -> tuple[np.ndarray, np.ndarray]:
    """(procedure_code, modifiers) for every row of ``scope`` under ``program``.

    The first coding rule whose condition holds wins; where none does, the contract's (or the
    program's) procedure_code and modifiers apply.
    """
    n = len(days)
    # The fallback code is the one in force on each line's service date.
    terms = params.terms(days)
    codes = terms.text("procedure_code")
    modifiers = terms.text("modifiers")
    decided = np.zeros(n, dtype=bool)
    for entry in book.coding.get(program, []):
        if not all(params.usable(name) for name in entry.reads):
            continue
        holds, _ = condition_truth(entry.condition, scope, params, days, payer, entry.reads)
        hit = holds & entry.coding.effective.mask(days) & ~decided
        codes[hit] = entry.coding.procedure_code
        modifiers[hit] = entry.coding.modifiers
        decided |= hit
    return codes, modifiers

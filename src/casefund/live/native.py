"""The native backend's rule decisions: one-row kernels on the rows a post changed.

A post changes the facts of its participant's activities on and after its day (counts of
earlier services, running totals) and of nothing before it; a participant-month's facts
are the participant's, which posting never changes. So the session decides only those
rows, each rule with :func:`casefund.rules.scalar.holds` over the row's facts from the fact
layer, and keeps every other row's outcome from earlier posts.
"""

from __future__ import annotations

import numpy as np

from casefund.facts.row import RowScope
from casefund.facts.scope import FactScope
from casefund.live.rulesets import ContractRules
from casefund.rules.scalar import holds

# A row's outcome: (contract position, rule id) → True where the condition holds, None where
# it is not known; rules whose condition is false are left out.
Outcome = dict[tuple[int, str], bool | None]


def decide_rows(
    entries: list[ContractRules], scope: FactScope, rows: np.ndarray, monthly: bool
) -> list[Outcome]:
    """Every contract's activity (or participant-month) rules on ``rows`` of ``scope``,
    each row under the parameter values in force on its day."""
    out: list[Outcome] = []
    days = scope.as_of
    for row in rows.tolist():
        day = int(days[row])
        outcome: Outcome = {}
        for entry in entries:
            rules = entry.month_rules if monthly else entry.activity_rules
            if not rules:
                continue
            _key, values = entry.values_on(day)
            view = RowScope(scope.with_params(values, entry.contract.coverage_payer), row)
            for rule in rules:
                if rule.id in entry.skipped:
                    continue
                result = holds(rule.condition, view)
                if result is not False:
                    outcome[(entry.position, rule.id)] = result
        out.append(outcome)
    return out

"""The rule book: every bundled rule, rule set, outcome and program parameter, validated,
compiled and hashed once per process, and the questions later stages ask of it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

import numpy as np

from casefund.errors import RuleFileError
from casefund.facts.scope import FUNCTIONS, PARAMETERS_READ
from casefund.payers.parameters import ProgramParameters, read_parameter_files
from casefund.records.citations import Citation
from casefund.records.periods import Effective
from casefund.rules.loader import CompiledCoding, CompiledRule, RuleFiles, read_rule_files
from casefund.rules.model import Fix, Outcome, RuleSet

# The kind of an allocator outcome, by its id's first part.
# Outcomes that mean the contract could not pay on that date at all.
_CANNOT_PAY = {"contract.not_effective", "program.no_rules"}
_OUTCOME_KINDS = {
    "cap": "limit",
    "units": "units",
    "payment": "payment",
    "allocation": "allocation",
    "eligibility": "eligibility",
}


@dataclass(frozen=True)
class ReasonEntry:
    """What an id on a line or an eligibility row means: its program, decision, kind, plain
    reason, source and dates (a rule, an allocator outcome or a program's rule set), what the
    agency can do about it where anything, and the parameters and facts it reads."""

    id: str
    program: str
    decision: str
    reason: str
    cite: Citation
    effective: Effective
    kind: str = "outcome"
    fix: Fix | None = None
    parameters: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()


@dataclass
class RuleBook:
    rules: dict[str, list[CompiledRule]]
    parameters: dict[str, ProgramParameters]
    outcomes: dict[str, Outcome]
    digest: str
    files: list[str] = field(default_factory=list)
    coding: dict[str, list[CompiledCoding]] = field(default_factory=dict)
    rule_sets: dict[str, RuleSet] = field(default_factory=dict)

    def program_rules(self, program: str) -> list[CompiledRule]:
        return self.rules.get(program, [])

    def rule_set(self, program: str) -> RuleSet | None:
        return self.rule_sets.get(program)

    def in_force(self, program: str, days: np.ndarray) -> np.ndarray:
        """Service days (day numbers) on which the program's rule set is in force; none at
        all for a program casefund has no rule set for."""
        rule_set = self.rule_sets.get(program)
        if rule_set is None:
            return np.zeros(len(days), dtype=bool)
        return rule_set.in_force.mask(days)

    def has_populations(self, program: str) -> bool:
        """Whether the program's eligibility rests on populations (eligibility groups): then
        a row no population rule is in effect for meets none, whatever its date."""
        return any(r.rule.then.decision == "qualify" for r in self.program_rules(program))

    def reason_entries(self) -> dict[str, ReasonEntry]:
        """Every id a run can report, with what it means (one lookup for all three kinds)."""
        return self._reason_entries

    @cached_property
    def _reason_entries(self) -> dict[str, ReasonEntry]:
        entries = {
            r.id: ReasonEntry(
                r.id,
                r.rule.program,
                r.rule.then.decision,
                r.rule.then.reason,
                r.rule.cite,
                r.rule.effective,
                r.rule.kind,
                r.rule.fix,
                tuple(sorted(r.reads)),
                tuple(sorted(r.condition.names() | {c[0] for c in r.condition.calls()})),
            )
            for r in self.all_rules()
        }
        for o in self.outcomes.values():
            head = o.id.split(".")[0]
            kind = "contract" if o.id in _CANNOT_PAY else _OUTCOME_KINDS.get(head, "outcome")
            entries[o.id] = ReasonEntry(
                o.id, "", "outcome", o.reason, o.cite, o.effective, kind, o.fix
            )
        for s in self.rule_sets.values():
            entries[s.id] = ReasonEntry(
                s.id, s.program, "not_in_force", s.reason, s.cite, s.in_force, "contract"
            )
        return entries

    def reason_ids(self) -> list[str]:
        """Every id a line or eligibility row can carry: rules, outcomes and rule sets."""
        return (
            [r.id for r in self.all_rules()]
            + list(self.outcomes)
            + [s.id for s in self.rule_sets.values()]
        )

    def rule(self, rule_id: str) -> CompiledRule | None:
        return self._by_id.get(rule_id)

    @cached_property
    def _by_id(self) -> dict[str, CompiledRule]:
        """Rules by id (the first of a repeated id, as a scan in program order finds it);
        read once per refusal of every line, so it is looked up, not searched."""
        out: dict[str, CompiledRule] = {}
        for rules in self.rules.values():
            for compiled in rules:
                out.setdefault(compiled.id, compiled)
        return out

    def all_rules(self) -> list[CompiledRule]:
        return [r for rules in self.rules.values() for r in rules]


@lru_cache(maxsize=1)
def rule_book() -> RuleBook:
    """The bundled rules, loaded and checked once per process."""
    return load_rule_book()


def load_rule_book() -> RuleBook:
    """Every bundled rule and parameter file, validated and compiled; raises on any defect."""
    found = read_rule_files(sorted(FUNCTIONS), PARAMETERS_READ)
    parameters, parameter_texts = read_parameter_files()
    digest = hashlib.sha256()
    for where, text in [*found.texts, *parameter_texts]:
        digest.update(where.encode() + b"\0" + text.encode() + b"\0")
    _check_rule_sets(found)
    _check_unique_ids(found)
    return RuleBook(
        found.rules,
        parameters,
        found.outcomes,
        digest.hexdigest()[:16],
        [w for w, _ in [*found.texts, *parameter_texts]],
        found.coding,
        found.rule_sets,
    )


def _check_rule_sets(found: RuleFiles) -> None:
    """Every program has one rule set, and no rule lies wholly outside it (it would never
    apply: a sign that the rule set's dates or the rule's are wrong)."""
    for program, compiled in found.rules.items():
        rule_set = found.rule_sets.get(program)
        if rule_set is None:
            raise RuleFileError(
                f"program '{program}' has rules but no rule set (rule_set.yaml "
                "with its in-force dates); without one nothing of it may bill"
            )
        for rule in compiled:
            if not rule_set.in_force.overlaps(rule.rule.effective):
                raise RuleFileError(
                    f"{rule.source}: rule {rule.id} ({rule.rule.effective.label()}) lies "
                    f"outside the {program} rule set ({rule_set.in_force.label()})"
                )
    for program in found.rule_sets:
        if program not in found.rules:
            raise RuleFileError(f"rule set for '{program}' has no rules")


def _check_unique_ids(found: RuleFiles) -> None:
    seen: set[str] = set(found.outcomes)
    for compiled in [r for rs in found.rules.values() for r in rs]:
        if compiled.id in seen:
            raise RuleFileError(f"{compiled.source}: rule id {compiled.id} is used twice")
        seen.add(compiled.id)
    for rule_set in found.rule_sets.values():
        if rule_set.id in seen:
            raise RuleFileError(f"rule set of {rule_set.program}: id {rule_set.id} is used twice")
        seen.add(rule_set.id)

"""Eligibility per participant, program and population, with the deciding rule ids.

Rows carry ids, never repeated text: the reason catalog (``reasons``) says what each id means.
The plain-language explanation per row ("meets: …", "does not meet: …") is built on request
(``explained=True``), once per distinct combination of population and denials.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from casefund.engine.eligibility import ProgramEligibility
from casefund.facts.calendar import from_days
from casefund.records.frames import categorical, categorical_of
from casefund.rules.book import RuleBook

ELIGIBILITY_COLUMNS = [
    "participant_id",
    "program",
    "population",
    "eligible",
    "as_of",
    "month",
    "reasons",
    "not_tested",
]


def build_eligibility(
    book: RuleBook,
    decided: list[ProgramEligibility],
    ids: np.ndarray,
    codes: np.ndarray,
    as_of: np.ndarray,
    month: np.ndarray | None,
    explained: bool = False,
) -> pd.DataFrame:
    """One row per population tested (or one 'all' row for programs without populations,
    and for days on which a program's rule set is not in force).

    ``eligible`` is true only where the population is met and no exclusion or requirement
    of the program denies; ``reasons`` names the population rule and every denying rule;
    ``not_tested`` the population rules that rest on an unverified parameter no contract
    enabled (reported as not met, never assumed). ``explained`` adds ``explanation``.

    Row ``i`` is participant ``ids[codes[i]]`` on day ``as_of[i]``: ids stay codes until
    the output's categorical is built (no million-string column is made and factorized).
    """
    texts = {i: entry.reason for i, entry in book.reason_entries().items()}
    reasons, explanations, untested = _Categories(), _Categories(), _Categories()
    programs, populations = _Categories(), _Categories()
    frames = []
    for program in decided:
        frames += _program_rows(
            program, texts, reasons, explanations, untested, programs, populations
        )
    columns_out = [*ELIGIBILITY_COLUMNS, *(["explanation"] if explained else [])]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns_out})
    columns = {name: np.concatenate([f[name] for f in frames]) for name in frames[0]}
    rows = columns.pop("row")
    # Categoricals from integer codes and one integer sort: no million-string column is
    # built, factorized or sorted.
    people = categorical_of(ids, codes)
    days, day_index = np.unique(as_of, return_inverse=True)
    day_text = np.datetime_as_string(from_days(days), unit="D").astype(object)
    months = categorical(month if month is not None else np.full(len(as_of), "", dtype=object))
    out = pd.DataFrame(
        {
            "participant_id": pd.Categorical.from_codes(people.codes[rows], people.categories),
            "program": programs.categorical(columns["program"]),
            "population": populations.categorical(columns["population"]),
            "eligible": columns["eligible"],
            "as_of": pd.Categorical.from_codes(
                np.asarray(day_index).reshape(-1)[rows], categories=pd.Index(day_text, dtype=object)
            ),
            "month": pd.Categorical.from_codes(np.asarray(months.codes)[rows], months.categories),
            "reasons": reasons.categorical(columns["reasons"]),
            "not_tested": untested.categorical(columns["not_tested"]),
            "explanation": explanations.categorical(columns["explanation"]),
        }
    )
    order = np.lexsort(
        (
            out["population"].cat.codes,
            as_of[rows],
            out["program"].cat.codes,
            out["participant_id"].cat.codes,
        )
    )
    return out.iloc[order].reset_index(drop=True)[columns_out]


def _program_rows(
    program: ProgramEligibility,
    texts: dict[str, str],
    reasons: _Categories,
    explanations: _Categories,
    untested: _Categories,
    programs: _Categories,
    populations: _Categories,
) -> list[dict[str, np.ndarray]]:
    frames = []
    in_force, rule_set = program.in_force, program.rule_set
    if rule_set is not None and not in_force.all():
        # Rules fail closed: on a day outside the program's rule set nobody is eligible,
        # and the row says why (one row for the program, no population was tested).
        rows = np.flatnonzero(~in_force)
        nothing = np.zeros(len(rows), dtype=np.int64)
        frames.append(
            {
                "row": rows,
                "program": programs.codes([program.program], nothing),
                "population": populations.codes(["all"], nothing),
                "eligible": np.zeros(len(rows), dtype=bool),
                "reasons": reasons.codes([rule_set.id], nothing),
                "not_tested": untested.codes([""], nothing),
                "explanation": explanations.codes([rule_set.reason], nothing),
            }
        )
    if not in_force.any():
        return frames
    denied_ids = program.denied_ids
    for population, (rule_id, tested, met) in sorted(program.populations.items()):
        rows = np.flatnonzero(tested & in_force)
        # Distinct denial sets are few: each text is built once per set, then picked.
        deny_codes = np.asarray(denied_ids.codes)[rows]
        same = np.zeros(len(rows), dtype=np.int64)
        joined = [";".join(filter(None, [rule_id, str(d)])) for d in denied_ids.categories]
        explained, explain_codes = _explain(
            rule_id, met[rows], deny_codes, list(denied_ids.categories), texts, program.skipped
        )
        frames.append(
            {
                "row": rows,
                "program": programs.codes([program.program], same),
                "population": populations.codes([population], same),
                "eligible": met[rows] & ~program.denied_any[rows],
                "reasons": reasons.codes(joined, deny_codes),
                "not_tested": untested.codes(
                    [";".join(i for i in rule_id.split(";") if i in program.skipped)], same
                ),
                "explanation": explanations.codes(explained, explain_codes),
            }
        )
    return frames


class _Categories:
    """Texts gathered from several small lists into one category list, rows kept as codes."""

    def __init__(self) -> None:
        self.position: dict[str, int] = {}

    def codes(self, texts: list[str], local_codes: np.ndarray) -> np.ndarray:
        mapping = np.array(
            [self.position.setdefault(t, len(self.position)) for t in texts] or [0], dtype=np.int64
        )
        return mapping[local_codes] if len(local_codes) else np.zeros(0, dtype=np.int64)

    def categorical(self, codes: np.ndarray) -> pd.Categorical:
        """The rows' texts as a categorical of the texts used, sorted."""
        return categorical_of(list(self.position), codes)


def _explain(
    population_rule: str,
    met: np.ndarray,
    deny_codes: np.ndarray,
    deny_sets: list[str],
    texts: dict[str, str],
    skipped: set[str],
) -> tuple[list[str], np.ndarray]:
    """Plain-language texts and each row's code into them, built once per distinct
    combination of (population met, set of denying rules)."""
    keys = deny_codes.astype(np.int64) * 2 + met.astype(np.int64)
    unique, codes = np.unique(keys, return_inverse=True)
    explained = []
    for key in unique:  # once per distinct combination, not per row
        is_met, denied = bool(key % 2), deny_sets[int(key // 2)]
        parts = []
        if population_rule:
            prefix = "meets" if is_met else "does not meet"
            ids = population_rule.split(";")
            described = " or ".join(
                texts[i]
                + (
                    " (not tested: rests on an unverified parameter a contract must enable)"
                    if i in skipped
                    else ""
                )
                for i in ids
            )
            parts.append(f"{prefix}: {described}")
        parts += [texts[d] for d in str(denied).split(";") if d]
        explained.append(" | ".join(parts) if parts else "eligible")
    return explained, np.asarray(codes).reshape(-1)

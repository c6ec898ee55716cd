"""The reason catalog: one row per rule or outcome id a run used, with its plain-language
reason, citation and dates — the one place that text lives. Lines, denials and eligibility
carry ids; :func:`reason_texts` joins them back where a reader wants the words.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from casefund.rules.book import RuleBook

REASON_COLUMNS = [
    "rule_id",
    "program",
    "decision",
    "reason",
    "citation",
    "effective_from",
    "effective_to",
    "kind",
    "remedy",
    "what_to_fix",
    "parameters",
]


def ids_in(columns: Iterable[pd.Series]) -> set[str]:
    """Every id in ';'-joined id columns (read from their distinct values, not every row)."""
    found: set[str] = set()
    for column in columns:
        values = (
            column.cat.categories
            if isinstance(column.dtype, pd.CategoricalDtype)
            else (pd.unique(column.astype(object)))
        )
        for text in values:
            found.update(i for i in str(text).split(";") if i and i != "nan")
    return found


def build_reasons(book: RuleBook, used: set[str]) -> pd.DataFrame:
    """The catalog rows of the ids a run used, by id."""
    entries = book.reason_entries()
    rows = []
    for rule_id in sorted(used):
        entry = entries.get(rule_id)
        if entry is None:
            continue
        rows.append(
            {
                "rule_id": rule_id,
                "program": entry.program,
                "decision": entry.decision,
                "reason": entry.reason,
                "citation": entry.cite.short(),
                "effective_from": entry.effective.start.isoformat()
                if entry.effective.start
                else "",
                "effective_to": entry.effective.end.isoformat() if entry.effective.end else "",
                "kind": entry.kind,
                "remedy": entry.fix.remedy if entry.fix else "",
                "what_to_fix": entry.fix.text if entry.fix else "",
                "parameters": ";".join(entry.parameters),
            }
        )
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in REASON_COLUMNS})
    return pd.DataFrame(rows, columns=REASON_COLUMNS)


def reason_texts(book: RuleBook, reasons: pd.Series, field: str = "reason") -> pd.Categorical:
    """Per row of a ';'-joined id column, the ids' reasons (``field="citation"``: their
    citations) joined with ' | ', computed once per distinct set of ids."""
    entries = book.reason_entries()

    def text(rule_id: str) -> str | None:
        entry = entries.get(rule_id)
        if entry is None:
            return None
        return entry.reason if field == "reason" else entry.cite.short()

    as_category = reasons.astype("category")
    texts = [
        " | ".join(dict.fromkeys(t for i in str(r).split(";") if (t := text(i))))
        for r in as_category.cat.categories
    ]
    if not len(as_category):
        return pd.Categorical([])
    # Different id sets can share a text: make the categories unique first.
    unique, position = np.unique(np.asarray(texts, dtype=object), return_inverse=True)
    codes = np.asarray(as_category.cat.codes)
    picked = np.where(codes >= 0, np.asarray(position)[np.maximum(codes, 0)], -1)
    result: pd.Categorical = pd.Categorical.from_codes(picked, categories=pd.Index(unique))
    return result

"""Code vocabularies, loaded from vocabulary.yaml so that no code list is typed twice."""

from __future__ import annotations

from importlib import resources
from typing import Final

from casefund.records.bundled import load_bundled
from casefund.records.suggestions import did_you_mean


def _load() -> dict[str, tuple[str, ...]]:
    text = resources.files("casefund.records").joinpath("vocabulary.yaml").read_text("utf-8")
    raw = load_bundled(text)
    vocab = {name: tuple(str(code) for code in codes) for name, codes in raw.items()}
    # An assessment may observe any participant flag or count over time.
    vocab["assessable_fact"] = vocab["participant_flags"] + vocab["participant_counts"]
    return vocab


VOCABULARY: Final[dict[str, tuple[str, ...]]] = _load()


def suggest(value: str, vocabulary: str) -> str:
    """A 'did you mean' hint, so that a typo in a code is fixed in one look."""
    return did_you_mean(value, VOCABULARY[vocabulary])

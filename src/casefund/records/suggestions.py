"""One 'did you mean' for every name a user can mistype: codes, columns, table files,
contract keys, parameter names, rule ids and condition functions."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(value: str, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The choice nearest to ``value`` (compared case-insensitively), if any is near."""
    options = list(dict.fromkeys(choices))
    lowered = {option.lower(): option for option in options}
    found = difflib.get_close_matches(value.lower(), list(lowered), n=1, cutoff=cutoff)
    return lowered[found[0]] if found else None


def did_you_mean(value: str, choices: Iterable[str], cutoff: float = 0.6) -> str:
    """' — did you mean 'x'?' for the nearest choice, or nothing."""
    near = closest(value, choices, cutoff)
    return f" — did you mean '{near}'?" if near else ""

"""A program's parameters as one contract sees them, resolved by service date.

Contract terms (rate, rounding, caps, covers, parameters: {...}) overlay the program's cited
defaults; the program's file is never edited, so a simulation or a second contract cannot
change what another sees.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from casefund.payers.contracts import Contract
from casefund.rules.loader import ProgramParameters

_CONTRACT_KEYS = (
    "rate",
    "unit_minutes",
    "rounding",
    "aggregate",
    "min_services_per_month",
    "covers",
    "procedure_code",
    "modifiers",
)
_EPOCH = dt.date(1970, 1, 1)


def day_number(day: dt.date) -> int:
    return (day - _EPOCH).days


@dataclass
class ResolvedParameters:
    program: ProgramParameters | None
    overrides: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def for_contract(
        cls, program: ProgramParameters | None, contract: Contract | None
    ) -> ResolvedParameters:
        overrides: dict[str, Any] = {}
        if contract is not None:
            for key in _CONTRACT_KEYS:
                value = getattr(contract, key)
                if value is not None:
                    overrides[key] = value
            overrides.update(contract.parameters)
        return cls(program, overrides)

    def names(self) -> set[str]:
        base = set(self.program.parameters) if self.program else set()
        return base | set(self.overrides)

    def usable(self, name: str) -> bool:
        """Unverified values apply only when a contract sets or enables them explicitly."""
        if name in self.overrides:
            return True
        if self.program is None or name not in self.program.parameters:
            return False
        if self.program.parameters[name].verified:
            return True
        return name in set(self.overrides.get("enable_unverified", []))

    def at(self, day: dt.date) -> dict[str, Any]:
        values: dict[str, Any] = {}
        if self.program is not None:
            for name in self.program.parameters:
                values[name] = self.program.value(name, day)
        values.update(self.overrides)
        return values

    def segments(
        self, names: set[str], days: np.ndarray
    ) -> list[tuple[np.ndarray, dict[str, Any]]]:
        """Row masks over ``days`` within which the named parameters keep one value each."""
        varying = {n for n in names if n not in self.overrides}
        points = self.program.breakpoints(varying) if self.program else []
        if len(points) <= 1:
            latest = points[0] if points else dt.date.max
            return [(np.ones(len(days), dtype=bool), self.at(latest))]
        # Rows dated before a value's first 'from' take the earliest value; rule effective
        # dates, not parameters, decide whether a rule applies at all.
        bounds = [-(10**9)] + [day_number(p) for p in points[1:]] + [10**9]
        out = []
        for i, point in enumerate(points):
            mask = (days >= bounds[i]) & (days < bounds[i + 1])
            if mask.any():
                out.append((mask, self.at(point)))
        return out

    def first(self, name: str, default: Any = None) -> Any:
        """A parameter's value where it does not vary with the date (contract-level terms)."""
        if name in self.overrides:
            return self.overrides[name]
        if self.program is None or name not in self.program.parameters:
            return default
        values = self.program.parameters[name].values
        return values[-1].value

"""A program's parameters as one contract sees them (its terms), resolved by service date.

Contract terms (rate, rounding, caps, covers, parameters: {...}) overlay the program's cited
defaults, which overlay the conventions every program shares (``units``: what counts as an
encounter); the files are never edited, so a simulation or a second contract cannot change
what another sees. Every value is read as of a row's own service date: a dated change of a
rate, a code or a limit never rewrites the days before it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from casefund.errors import InputError
from casefund.payers.parameters import Parameter, ProgramParameters, kind_of
from casefund.records.contracts import CONTRACT_TERMS, Contract
from casefund.records.days import day_number
from casefund.records.suggestions import did_you_mean
from casefund.records.vocabulary import VOCABULARY, suggest

CONVENTIONS = "units"


def contract_parameters(
    parameters: Mapping[str, ProgramParameters], contract: Contract
) -> ResolvedParameters:
    """The parameters one contract bills under: its terms over its program's over the
    shared conventions (``parameters``: every program's, by program)."""
    return ResolvedParameters.for_contract(
        parameters.get(contract.program), contract, parameters.get(CONVENTIONS)
    )


@dataclass
class ResolvedParameters:
    program: ProgramParameters | None
    overrides: dict[str, Any] = field(default_factory=dict)
    conventions: ProgramParameters | None = None

    @classmethod
    def for_contract(
        cls,
        program: ProgramParameters | None,
        contract: Contract | None,
        conventions: ProgramParameters | None = None,
    ) -> ResolvedParameters:
        overrides: dict[str, Any] = {}
        if contract is not None:
            for key in CONTRACT_TERMS:
                value = getattr(contract, key)
                if value is not None:
                    overrides[key] = value
            overrides.update(contract.parameters)
        return cls(program, overrides, conventions)

    def sources(self) -> list[ProgramParameters]:
        """Dated files in the order they yield: the program's own, then the conventions."""
        return [p for p in (self.program, self.conventions) if p is not None]

    def _owner(self, name: str) -> ProgramParameters | None:
        for source in self.sources():
            if name in source.parameters:
                return source
        return None

    def names(self) -> set[str]:
        base = {n for source in self.sources() for n in source.parameters}
        return base | set(self.overrides)

    def usable(self, name: str) -> bool:
        """Unverified values apply only when a contract sets or enables them explicitly."""
        if name in self.overrides:
            return True
        owner = self._owner(name)
        if owner is None:
            return False
        if owner.parameters[name].verified:
            return True
        return name in set(self.overrides.get("enable_unverified", []))

    def has_value(self, name: str) -> bool:
        """Whether the contract sets the parameter or a file gives it a value at some date."""
        if name in self.overrides:
            return self.overrides[name] is not None
        owner = self._owner(name)
        return owner is not None and any(v.value is not None for v in owner.parameters[name].values)

    def value_on(self, name: str, day: dt.date) -> Any:
        """One parameter on one day (None where no value is in force yet)."""
        if name in self.overrides:
            return self.overrides[name]
        owner = self._owner(name)
        return None if owner is None else owner.value(name, day)

    def at(self, day: dt.date) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for source in reversed(self.sources()):
            for name in source.parameters:
                values[name] = source.value(name, day)
        values.update(self.overrides)
        return values

    def breakpoints(self, names: set[str]) -> list[dt.date]:
        """Days on which one of the named parameters (not set by the contract) changes."""
        points: set[dt.date] = set()
        for name in names - set(self.overrides):
            owner = self._owner(name)
            if owner is not None:
                points.update(v.start for v in owner.parameters[name].values)
        return sorted(points)

    def segments(
        self, names: set[str], days: np.ndarray
    ) -> list[tuple[np.ndarray, dict[str, Any]]]:
        """Row masks over ``days`` within which the named parameters keep one value each,
        with every parameter's values in force there.

        Rows dated before a parameter's first value see None for it (no value was in force):
        a rule reading it is then unknown there, never judged by a later value.
        """
        return [(mask, self.at(day)) for mask, day in self._spans(names, days)]

    def value_segments(self, name: str, days: np.ndarray) -> list[tuple[np.ndarray, Any]]:
        """Row masks over ``days`` within which one parameter keeps one value, and that
        value: :meth:`segments` for one name, without reading every other parameter."""
        return [(mask, self.value_on(name, day)) for mask, day in self._spans({name}, days)]

    def _spans(self, names: set[str], days: np.ndarray) -> list[tuple[np.ndarray, dt.date]]:
        """Row masks between the named parameters' change days, each with a day inside it
        to read the values on."""
        points = self.breakpoints(names)
        if not points:
            return [(np.ones(len(days), dtype=bool), dt.date.max)]
        bounds = [day_number(p) for p in points]
        edges = [-(10**9), *bounds, 10**9]
        labels = [points[0] - dt.timedelta(days=1), *points]
        out = []
        for i, label in enumerate(labels):
            mask = (days >= edges[i]) & (days < edges[i + 1])
            if mask.any():
                out.append((mask, label))
        return out

    def column(self, name: str, days: np.ndarray) -> np.ndarray:
        """One parameter's value on each row's day (an object array; None where unset)."""
        out = np.empty(len(days), dtype=object)
        out[:] = [None]
        for mask, value in self.value_segments(name, days):
            out[mask] = [value] if isinstance(value, list | dict | tuple) else value
        return out

    def terms(self, days: np.ndarray) -> Terms:
        return Terms(self, days)

    def periods(self, name: str) -> list[TermPeriod]:
        """Where each of the parameter's values comes from: the contract (one value, over the
        contract's dates), else each dated value of the file that sets it, to the day
        before the next."""
        if name in self.overrides:
            return [TermPeriod(name, self.overrides[name], "contract", None, None, None, True)]
        owner = self._owner(name)
        if owner is None:
            return []
        parameter = owner.parameters[name]
        starts = [v.start for v in parameter.values]
        ends = [s - dt.timedelta(days=1) for s in starts[1:]] + [None]
        return [
            TermPeriod(
                name, v.value, owner.source, v.start, end, v.cite.short(), parameter.verified
            )
            for v, end in zip(parameter.values, ends, strict=True)
        ]


@dataclass(frozen=True)
class TermPeriod:
    """One value of a parameter, where it comes from (``contract``, or the parameter file),
    and the service dates it is read for (None: open)."""

    name: str
    value: Any
    source: str
    start: dt.date | None
    end: dt.date | None
    citation: str | None
    verified: bool


@dataclass
class Terms:
    """A contract's parameters as each row's service date reads them, column by column.

    A parameter changes on few days, so each column is filled segment by segment: the
    values are read once per segment, never once per row.
    """

    params: ResolvedParameters
    days: np.ndarray
    _cache: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.days)

    def value(self, name: str) -> np.ndarray:
        if name not in self._cache:
            self._cache[name] = self.params.column(name, self.days)
        return self._cache[name]

    def number(self, name: str, default: float = np.nan) -> np.ndarray:
        """Numeric values (``default`` where unset)."""
        out = np.full(len(self.days), default, dtype=float)
        for mask, value in self.params.value_segments(name, self.days):
            if value is not None:
                out[mask] = float(value)
        return out

    def text(self, name: str) -> np.ndarray:
        """Text values ('' where unset)."""
        out = np.full(len(self.days), "", dtype=object)
        for mask, value in self.params.value_segments(name, self.days):
            if value is not None:
                out[mask] = str(value)
        return out

    def flag(self, name: str) -> np.ndarray:
        out = np.zeros(len(self.days), dtype=bool)
        for mask, value in self.params.value_segments(name, self.days):
            out[mask] = bool(value)
        return out

    def member(self, name: str, codes: np.ndarray) -> np.ndarray:
        """Whether each row's code is in the list parameter in force on its day."""
        out = np.zeros(len(self.days), dtype=bool)
        for mask, value in self.params.value_segments(name, self.days):
            listed = list(value or [])
            out[mask] = np.isin(codes[mask], listed)
        return out

    def subset(self, rows: np.ndarray) -> Terms:
        return Terms(self.params, self.days[rows])


def check_contracts(
    parameters: Mapping[str, ProgramParameters],
    contracts: list[Contract],
    origin: str = "contracts",
) -> None:
    """Refuse contracts whose parameters their programs do not know, or that leave out a
    term their program's sources do not supply (``origin``: the file they came from)."""
    problems = [p for c in contracts for p in contract_problems(parameters, c)]
    if problems:
        raise InputError(f"{origin}: " + "; ".join(problems))


def contract_problems(parameters: Mapping[str, ProgramParameters], contract: Contract) -> list[str]:
    """What is wrong with a contract that only its program's parameter files can tell: a
    parameter it names that does not exist (or is mistyped), a value of the wrong kind, a
    code or choice not allowed, and terms it must state because its program sets none."""
    params = contract_parameters(parameters, contract)
    problems = [f"contract '{contract.id}': {p}" for p in _parameter_problems(params, contract)]
    if contract.pays_by_time():
        if not params.has_value("rounding"):
            problems.append(
                f"contract '{contract.id}': key 'rounding': program "
                f"'{contract.program}' sets no rounding rule for time units; "
                "state one (whole_units, cms_8_minute, midpoint or encounter)"
            )
        if (
            not params.has_value("unit_minutes")
            and params.value_on("rounding", dt.date.max) != "encounter"
        ):
            problems.append(
                f"contract '{contract.id}': key 'unit_minutes': program "
                f"'{contract.program}' sets no unit length; state the minutes in "
                "one unit"
            )
    return problems


def _parameter_problems(params: ResolvedParameters, contract: Contract) -> list[str]:
    known = {
        name: source.parameters[name]
        for source in reversed(params.sources())
        for name in source.parameters
    }
    problems = []
    for name, value in contract.parameters.items():
        key = f"key 'parameters.{name}'"
        if name == "enable_unverified":
            listed = value if isinstance(value, list) else [value]
            for item in listed:
                if not isinstance(item, str) or item not in known:
                    problems.append(
                        f"{key}: '{item}' is not a parameter of program "
                        f"'{contract.program}'{did_you_mean(str(item), known)}"
                    )
            continue
        if name in CONTRACT_TERMS:
            problems.append(
                f"{key}: '{name}' is a contract key; write it at the contract's top level"
            )
            continue
        if name not in known:
            problems.append(
                f"{key}: not a parameter of program '{contract.program}'{did_you_mean(name, known)}"
            )
            continue
        problem = _value_problem(known[name], value)
        if problem:
            problems.append(f"{key}: {problem}")
    return problems


def _value_problem(parameter: Parameter, value: Any) -> str | None:
    """Why a contract's value cannot stand for this parameter (None: it can)."""
    if value is None:
        return None
    expected = parameter.value_kind()
    given = kind_of(value)
    if expected == "date" and given == "text":
        try:
            dt.date.fromisoformat(str(value))
        except ValueError:
            return f"'{value}' is not a date (expected YYYY-MM-DD)"
        return None
    if given != expected:
        return f"expected {_ARTICLE[expected]}, not {_ARTICLE.get(given or '', 'nothing')}"
    if given == "number" and not (math.isfinite(float(value)) and 0 <= float(value) <= 1e9):
        return f"{value} is not a finite number between 0 and 1e9"
    if parameter.choices is not None and value not in parameter.choices:
        return f"'{value}' is not one of {', '.join(parameter.choices)}"
    if parameter.codes is not None:
        vocabulary = VOCABULARY.get(parameter.codes, ())
        listed = (
            [c for item in value.values() for c in (item or [])]
            if isinstance(value, dict)
            else list(value)
        )
        unknown = [code for code in listed if code not in vocabulary]
        if unknown:
            hint = suggest(str(unknown[0]), parameter.codes)
            return f"unknown {parameter.codes} code '{unknown[0]}'{hint}"
    return None


_ARTICLE = {
    "number": "a number",
    "text": "a text",
    "boolean": "true or false",
    "list": "a list",
    "mapping": "a mapping of keys to values",
    "date": "a date (YYYY-MM-DD)",
}

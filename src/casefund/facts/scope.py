"""The facts a condition can name, computed lazily over a block of rows and memoized.

A row is a participant on an as-of day, with a window start (the first day of the month for
participant-month rules, the day itself for activity rules) and, for activity rules, the
activity's own fields. Conditions name facts; only the facts named are ever computed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from casefund.facts.calendar import MISSING, shift_months, to_days, whole_years_between
from casefund.facts.history import days_since_first, earlier_count, running_total
from casefund.facts.index import DayQueries, count_in_window
from casefund.facts.prepared import PreparedData
from casefund.records.vocabulary import VOCABULARY

ACTIVITY_FACTS = (
    "activity",
    "mode",
    "staff_role",
    "minutes",
    "procedure_code",
    "modifiers",
    "amount",
    "quantity",
    "contract_id",
    "collateral_purpose",
)
PARTICIPANT_ATTRIBUTES = ("race", "state", "county", "service_area", "income_pct_fpl")
OBSERVED = VOCABULARY["participant_flags"] + VOCABULARY["participant_counts"]
DERIVED = ("age", "days_until_housing_loss")
# Facts computed as float arrays (NaN where not known), flags read as booleans.
ARRAY_FACTS = frozenset(OBSERVED + DERIVED)


class UnknownFact(KeyError):
    """A rule names a fact casefund does not define (caught by `casefund rules check`)."""


class FactScope:
    """Facts over a block of rows for one program (and, when billing, one contract)."""

    def __init__(
        self,
        data: PreparedData,
        codes: np.ndarray,
        as_of: np.ndarray,
        window_start: np.ndarray,
        activity: pd.DataFrame | None = None,
        params: dict[str, Any] | None = None,
        payer: str | None = None,
    ) -> None:
        self.data = data
        self.codes = codes
        self.as_of = as_of
        self.window_start = window_start
        self.activity = activity
        # A subset keeps its parent's activity frame and picks its rows from it column by
        # column, as facts are read (slicing every column up front cost more than the facts).
        self.activity_rows: np.ndarray | None = None
        self.params = params or {}
        self.payer = payer
        self.index = pd.RangeIndex(len(codes))
        self._cache: dict[object, pd.Series] = {}
        self._python: dict[object, list[Any]] = {}  # the same, as Python values
        self._arrays: dict[object, tuple[np.ndarray, str]] = {}  # fact functions' arrays
        # Shared, like the cache, with every copy under other parameters (same rows).
        self._lookups: dict[str, DayQueries] = {}

    @property
    def queries(self) -> DayQueries:
        """The rows' (participant, as-of day) lookups, shared by every fact of this scope."""
        if "as_of" not in self._lookups:
            self._lookups["as_of"] = DayQueries.of(self.codes, self.as_of)
        return self._lookups["as_of"]

    def subset(self, rows: np.ndarray) -> FactScope:
        """The same facts over some of the rows (a fresh cache: facts are per row set)."""
        out = FactScope(
            self.data,
            self.codes[rows],
            self.as_of[rows],
            self.window_start[rows],
            self.activity,
            self.params,
            self.payer,
        )
        out.activity_rows = rows if self.activity_rows is None else self.activity_rows[rows]
        return out

    def activity_column(self, name: str) -> pd.Series:
        """One field of the rows' activities (positions 0..n-1)."""
        if self.activity is None:
            raise UnknownFact(f"'{name}' is an activity fact; this rule is not per activity")
        column = self.activity[name]
        if self.activity_rows is not None:
            column = column.iloc[self.activity_rows]
        return column.reset_index(drop=True)

    def with_params(self, params: dict[str, Any], payer: str | None) -> FactScope:
        """The same rows and cached facts under other parameters (another contract)."""
        other = FactScope.__new__(FactScope)
        other.__dict__.update(self.__dict__)
        other.params = params
        other.payer = payer
        return other

    # --- the Scope protocol -------------------------------------------------------------
    def fact(self, name: str) -> pd.Series:
        if name not in self._cache:
            self._cache[name] = self._compute_fact(name)
        return self._cache[name]

    def param(self, name: str) -> Any:
        if name not in self.params:
            raise UnknownFact(f"unknown parameter '{name}'")
        value = self.params[name]
        return tuple(value) if isinstance(value, list) else value

    def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> pd.Series:
        key = self._call_key(name, args, kwargs)
        if key not in self._cache:
            if name in ARRAY_FUNCTIONS:
                self._cache[key] = _series_of(*self._array(key, name, args, kwargs), self.index)
            else:
                self._cache[key] = SERIES_FUNCTIONS[name](self, *args, **kwargs)
        return self._cache[key]

    def _array(
        self, key: object, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[np.ndarray, str]:
        if key not in self._arrays:
            function, dtype = ARRAY_FUNCTIONS[name]
            self._arrays[key] = (function(self, *args, **kwargs), dtype)
        return self._arrays[key]

    def _call_key(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> object:
        payer_bound = name == "enrolled" and bool(kwargs.get("payer"))
        # Functions that read parameters are cached per the values they read, so two
        # contracts with different terms never share a cached answer.
        reads = PARAMETERS_READ.get(name)
        read = tuple(repr(self.params.get(p)) for p in (reads(args) if reads else []))
        payer = self.payer if payer_bound else None
        return (name, args, tuple(sorted(kwargs.items())), payer, read)

    # --- the same facts as Python values, for one-row kernels ---------------------------
    def python_fact(self, name: str) -> list[Any]:
        """The fact on every row as a Python value (None: not known), converted once."""
        if name not in self._python:
            self._python[name] = (
                _array_values(*self._fact_array(name))
                if name in ARRAY_FACTS
                else python_values(self.fact(name))
            )
        return self._python[name]

    def python_call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Any]:
        """A fact function's answer on every row as Python values, converted once."""
        key = self._call_key(name, args, kwargs)
        if key not in self._python:
            if name in ARRAY_FUNCTIONS:
                self._python[key] = _array_values(*self._array(key, name, args, kwargs))
            else:
                self._python[key] = python_values(self.call(name, args, kwargs))
        return self._python[key]

    # --- facts ----------------------------------------------------------------------------
    def _compute_fact(self, name: str) -> pd.Series:
        if name in ACTIVITY_FACTS:
            return self.activity_column(name)
        if name in PARTICIPANT_ATTRIBUTES:
            values, dtype = self.data.participant_column(name)
            series: pd.Series = pd.Series(values[self.codes], index=self.index, dtype=dtype)
            return series
        if name in ARRAY_FACTS:
            return _series_of(*self._fact_array(name), self.index)
        raise UnknownFact(f"unknown fact '{name}'")

    def _fact_array(self, name: str) -> tuple[np.ndarray, str]:
        """An observed or derived fact as a float array (NaN: not known) and its dtype."""
        if name not in self._arrays:
            if name in OBSERVED:
                array = self._observed(name)
            elif name == "age":
                birth = self.data.participant_column("birth_date", "days")[0][self.codes]
                array = whole_years_between(birth, self.as_of)
            else:  # days_until_housing_loss
                loss = self.data.participant_column("housing_loss_date", "days")[0][self.codes]
                array = (loss - self.as_of).astype(float)
                array[loss == MISSING] = np.nan
            flag = name in VOCABULARY["participant_flags"]
            self._arrays[name] = (array, "boolean" if flag else "Float64")
        return self._arrays[name]

    def _observed(self, name: str) -> np.ndarray:
        """A flag or count as of each row's day: the latest assessment, else the base value."""
        result: np.ndarray = self.data.participant_column(name, "floats")[0][self.codes]
        sorted_keys, values = self.data.observations(name)
        if len(values) == 0:
            return result
        pos = self.queries.latest_on_or_before(sorted_keys)
        observed: np.ndarray = np.where(pos >= 0, values[pos.clip(0)], result)
        return observed


def python_values(column: pd.Series) -> list[Any]:
    """A fact column as Python values: bool, float (every number) or str; None where the
    fact is not known. Numbers are floats because the condition kernels compare numbers
    as floats, as the NumPy kernels do."""
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        labels = [str(c) for c in dtype.categories]
        return [None if c < 0 else labels[c] for c in column.cat.codes.tolist()]
    missing = column.isna().to_numpy(dtype=bool)
    if pd.api.types.is_bool_dtype(dtype):
        flags = column.to_numpy(dtype=bool, na_value=False).tolist()
    elif pd.api.types.is_numeric_dtype(dtype):
        flags = column.to_numpy(dtype=float, na_value=np.nan).tolist()
    else:
        flags = [str(v) for v in column.to_numpy(dtype=object, na_value="").tolist()]
    if not missing.any():
        return list(flags)
    return [None if m else v for v, m in zip(flags, missing.tolist(), strict=True)]


def _series_of(array: np.ndarray, dtype: str, index: pd.Index) -> pd.Series:
    """A fact array as the pandas tree reads it: NaN becomes <NA> (through Float64)."""
    series = pd.Series(array, index=index)
    if array.dtype.kind == "f" and dtype != "Float64":
        series = series.astype("Float64")
    return series.astype(pd.api.types.pandas_dtype(dtype))


def _array_values(array: np.ndarray, dtype: str) -> list[Any]:
    """A fact array as the one-row kernels read it (python_values' types: bool, float,
    None where not known)."""
    if array.dtype.kind == "b":
        flags: list[Any] = array.tolist()
        return flags
    values = [None if v != v else v for v in array.astype(float).tolist()]  # NaN: unknown
    if dtype == "boolean":
        return [None if v is None else v != 0 for v in values]
    return values


def _enrolled(scope: FactScope, program: str, payer: bool = False) -> np.ndarray:
    """Enrolled in ``program`` at any time in the row's window (with the contract's payer)."""
    spans = scope.data.spans(program, scope.payer if payer else None)
    active = spans.active(scope.queries, scope.window_start)
    return active


def _enrolled_days(scope: FactScope, program: str) -> np.ndarray:
    """Days of unbroken enrollment in ``program`` up to the as-of day (a length of stay)."""
    days = scope.data.spans(program).continuous_days(scope.queries)
    return days


def _count_events(
    scope: FactScope,
    event: str,
    months: int | None = None,
    days: int | None = None,
    bh_related: bool | None = None,
    planned: bool | None = None,
    avoidable: bool | None = None,
) -> np.ndarray:
    """Events of one kind dated in (as_of - window, as_of]; the boundary day is excluded."""
    if (months is None) == (days is None):
        raise UnknownFact("count_events needs exactly one of months= or days=")
    filters = tuple(
        (name, value)
        for name, value in (
            ("bh_related", bh_related),
            ("planned", planned),
            ("avoidable", avoidable),
        )
        if value is not None
    )
    if months is not None:
        after = shift_months(scope.as_of, -months)
    else:
        after = scope.as_of - int(days or 0)
    counts = count_in_window(scope.data.event_keys(event, filters), scope.codes, after, scope.as_of)
    return counts


def _chronic_conditions(scope: FactScope) -> pd.Series:
    """How many chronic conditions the participant has: the recorded count, or the number of
    conditions (``chronic_condition_flags``: condition → the flags that show it) known true,
    whichever is larger. Taking the larger never counts one condition twice, whether or not
    the recorded count already included a flagged one."""
    table = scope.param("chronic_condition_flags")
    if table is None:
        return pd.Series(pd.NA, index=scope.index, dtype="Float64")
    flagged = np.zeros(len(scope.index))
    for flags in dict(table).values():
        present = np.zeros(len(scope.index), dtype=bool)
        for flag in flags:
            present |= scope.fact(flag).to_numpy(dtype=bool, na_value=False)
        flagged += present
    recorded = scope.fact("chronic_condition_count").to_numpy(dtype=float, na_value=np.nan)
    return pd.Series(np.fmax(recorded, flagged), index=scope.index).astype("Float64")


def _has_modifier(scope: FactScope, modifier: str) -> pd.Series:
    """Whether the activity's recorded modifiers (separated by ; , or space) include one."""
    mods = scope.fact("modifiers").astype("string").str.upper()
    pattern = rf"(?:^|[;,\s]){modifier.upper()}(?:$|[;,\s])"
    return mods.str.contains(pattern, regex=True).astype("boolean")


def _go_live(scope: FactScope, cohort: str) -> pd.Series:
    """Whether the as-of day is on or after the county's go-live date for ``cohort``.

    The go-live table is the parameter ``go_live_<cohort>``: a mapping of county name to
    date with a ``default`` entry.
    """
    table = scope.param(f"go_live_{cohort}")
    if table is None:  # no go-live table in force on these days: unknown, never assumed
        return pd.Series(pd.NA, index=scope.index, dtype="boolean")
    counties = scope.fact("county").astype("string").fillna("")
    default = pd.Timestamp(table["default"])
    lookup = {str(k).lower(): pd.Timestamp(v) for k, v in table.items() if k != "default"}
    dates = counties.str.lower().map(lookup).fillna(default)
    start = to_days(pd.to_datetime(dates))
    return pd.Series(scope.as_of >= start, index=scope.index, dtype="boolean")


def _determination_age_days(scope: FactScope, program: str) -> np.ndarray:
    """Days since the current determination (span) of ``program`` began; NA if none covers."""
    ages = scope.data.determinations(program).age_days(scope.queries)
    return ages


def _latest_stay_days(scope: FactScope, program: str) -> np.ndarray:
    """Length of the latest stay (span) in ``program`` begun by the as-of day, to that day."""
    return scope.data.determinations(program).latest_length(scope.queries)


def _activity_field(scope: FactScope, function: str, field: str) -> pd.Series:
    if scope.activity is None:
        raise UnknownFact(f"{function}() reads activities; use it in activity rules only")
    return scope.activity_column(field)


def _recorded_pairs(scope: FactScope) -> tuple[np.ndarray, np.ndarray, list[str | None]]:
    """The rows with a recorded procedure code; for each of them, which distinct (code,
    modifiers) text it carries; and for each distinct text the Community Support its
    (HCPCS, modifier) pair is — with the modifier in any of the recorded slots — or None
    where the pair is not in the coding guidance. Each distinct text is read once, so the
    cost follows the codes in use, not the rows."""
    by_pair: dict[str, str] = dict(scope.param("code_services") or {})
    procedure_code = _activity_field(scope, "community_support", "procedure_code")
    recorded = procedure_code.notna().to_numpy()
    at = np.flatnonzero(recorded)
    if not len(at):
        return recorded, np.zeros(0, dtype=np.int64), []
    code = procedure_code.to_numpy(dtype=object)[at].astype(str)
    modifiers = _activity_field(scope, "community_support", "modifiers")
    mods = modifiers.to_numpy(dtype=object, na_value="")[at].astype(str)
    which, distinct = pd.factorize(np.char.add(np.char.add(code, "\x1f"), mods))
    pairs = (str(text).partition("\x1f") for text in distinct)
    return recorded, np.asarray(which), [pair_service(c, m, by_pair) for c, _, m in pairs]


_SLOT_SEPARATOR = re.compile(r"[;,\s]+")
# The coding guidance reads a modifier in any of 5 slots (the code_services parameter's
# citation); text past the fifth separator stays in the fifth slot, as before.
MODIFIER_SLOTS = 5


def pair_service(code: str, modifiers: str, by_pair: dict[str, str]) -> str | None:
    """The Community Support a recorded code is under its modifiers: the first slot whose
    (code, modifier) pair the coding guidance lists; None if no slot's pair is listed."""
    code = code.strip().upper()
    for slot in _SLOT_SEPARATOR.split(modifiers.upper(), maxsplit=MODIFIER_SLOTS - 1):
        service = by_pair.get(f"{code}-{slot}")
        if service is not None:
            return service
    return None


def _community_support(scope: FactScope) -> pd.Series:
    """The Community Support an activity is, from its (HCPCS, modifier) pair or its code.

    The same HCPCS code means different services under different modifiers (H0044-U2 is a
    housing deposit, H0044-U3 post-hospitalization housing), so a recorded code is read only
    as a pair. A recorded pair that is not in the coding guidance never overrides the
    activity code (cs.code_in_guidance refuses the line, saying why).
    """
    by_activity: dict[str, str] = dict(scope.param("activity_services") or {})
    # The few activity codes are looked up, not the many rows (a missing code, -1, takes the
    # None at the end).
    activity = _activity_field(scope, "community_support", "activity").astype("category")
    labels = activity.cat.categories.tolist()
    services = np.array([*(by_activity.get(str(label)) for label in labels), None], dtype=object)
    recorded, which, from_pair = _recorded_pairs(scope)
    names = sorted({s for s in [*services, *from_pair] if s is not None})
    position = {name: i for i, name in enumerate(names)}

    def codes_of(found: Any) -> np.ndarray:
        return np.array([-1 if s is None else position[s] for s in found], dtype=np.int64)

    codes = codes_of(services)[activity.cat.codes.to_numpy()]
    if len(which):
        pair_codes = codes_of(from_pair)[which]
        known = pair_codes >= 0  # an unlisted pair leaves the activity's own service
        codes[np.flatnonzero(recorded)[known]] = pair_codes[known]
    categories = pd.Index(names, dtype=object)
    return pd.Series(pd.Categorical.from_codes(codes, categories=categories), index=scope.index)


def _recorded_code_in_guidance(scope: FactScope) -> np.ndarray:
    """False where a procedure code was recorded whose (HCPCS, modifier) pair is not in the
    coding guidance; true elsewhere (no code recorded, or a known pair)."""
    recorded, which, from_pair = _recorded_pairs(scope)
    ok = np.ones(len(scope.index), dtype=bool)
    listed = np.array([service is not None for service in from_pair], dtype=bool)
    ok[np.flatnonzero(recorded)] = listed[which] if len(which) else []
    return ok


def _selected(scope: FactScope, kind: str, value: str) -> np.ndarray:
    if kind == "activity":
        column = _activity_field(scope, "prior_activities", "activity")
    else:
        column = scope.call("community_support", (), {})
    return (column == value).to_numpy(dtype=bool, na_value=False)


def _prior_activities(scope: FactScope, activity: str, days: int | None = None) -> np.ndarray:
    """Earlier activities with this code for the participant (within ``days``, if given)."""
    return earlier_count(scope.codes, scope.as_of, _selected(scope, "activity", activity), days)


def _prior_services(scope: FactScope, service: str, days: int | None = None) -> np.ndarray:
    """Earlier deliveries of one Community Support to the participant (lifetime by default)."""
    return earlier_count(scope.codes, scope.as_of, _selected(scope, "service", service), days)


def _service_hours_this_year(scope: FactScope, service: str) -> np.ndarray:
    """Hours of a service in the calendar year through this activity (inclusive)."""
    minutes = _activity_field(scope, "service_hours_this_year", "minutes").to_numpy(
        dtype=float, na_value=0.0
    )
    selected = _selected(scope, "service", service)
    year_start = (
        scope.as_of.astype("datetime64[D]")
        .astype("datetime64[Y]")
        .astype("datetime64[D]")
        .astype(np.int64)
    )
    total = running_total(scope.codes, scope.as_of, selected, minutes, year_start) / 60.0
    return total


def _service_amount_to_date(scope: FactScope, service: str) -> np.ndarray:
    """Dollars of a service over the participant's lifetime through this activity."""
    amounts = _activity_field(scope, "service_amount_to_date", "amount").to_numpy(
        dtype=float, na_value=0.0
    )
    selected = _selected(scope, "service", service)
    return running_total(
        scope.codes, scope.as_of, selected, amounts, np.full(len(selected), -90_000)
    )


def _days_since_first_service(scope: FactScope, service: str) -> np.ndarray:
    """Days since the participant first received this service (0 on the first day)."""
    return days_since_first(scope.codes, scope.as_of, _selected(scope, "service", service))


# Fact functions that compute a plain NumPy array (booleans, integers, or floats with NaN
# where not known), with the pandas dtype the pandas tree reads it as: the one-row path
# takes the array as it is.
ARRAY_FUNCTIONS: dict[str, tuple[Callable[..., np.ndarray], str]] = {
    "enrolled": (_enrolled, "boolean"),
    "enrolled_days": (_enrolled_days, "Int64"),
    "count_events": (_count_events, "Int64"),
    "determination_age_days": (_determination_age_days, "Float64"),
    "latest_stay_days": (_latest_stay_days, "Float64"),
    "recorded_code_in_guidance": (_recorded_code_in_guidance, "boolean"),
    "prior_activities": (_prior_activities, "Int64"),
    "prior_services": (_prior_services, "Int64"),
    "service_hours_this_year": (_service_hours_this_year, "Float64"),
    "service_amount_to_date": (_service_amount_to_date, "Float64"),
    "days_since_first_service": (_days_since_first_service, "Float64"),
}
SERIES_FUNCTIONS: dict[str, Callable[..., pd.Series]] = {
    "has_modifier": _has_modifier,
    "chronic_conditions": _chronic_conditions,
    "go_live": _go_live,
    "community_support": _community_support,
}
# Every fact function by name (``rules check`` binds a call's arguments to its signature).
FUNCTIONS: dict[str, Callable[..., Any]] = {
    **{name: function for name, (function, _dtype) in ARRAY_FUNCTIONS.items()},
    **SERIES_FUNCTIONS,
}

_CS_PARAMS = ["activity_services", "code_services"]
PARAMETERS_READ: dict[str, Callable[[tuple[Any, ...]], list[str]]] = {
    "go_live": lambda args: [f"go_live_{args[0]}"],
    "chronic_conditions": lambda args: ["chronic_condition_flags"],
    "community_support": lambda args: _CS_PARAMS,
    "recorded_code_in_guidance": lambda args: _CS_PARAMS,
    "prior_services": lambda args: _CS_PARAMS,
    "service_hours_this_year": lambda args: _CS_PARAMS,
    "service_amount_to_date": lambda args: _CS_PARAMS,
    "days_since_first_service": lambda args: _CS_PARAMS,
}

KNOWN_FACTS = frozenset(ACTIVITY_FACTS + PARTICIPANT_ATTRIBUTES + OBSERVED + DERIVED)

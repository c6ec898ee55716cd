"""Conditions compiled once to NumPy operations: three-valued logic as plain arrays.

The condition tree (:mod:`casefund.rules.language`) evaluates over pandas Series, whose
nullable booleans cost a Python-level dispatch and a copy per operation. Here each node is
compiled once to a function over plain arrays: a condition's result is a :class:`Truth`
(``value``: known and true, ``known``: not NA) combined by Kleene logic with ``&`` and
``|``; numbers are float arrays with a known mask; categorical facts are compared on their
few categories and taken by code. A construct this compiler does not cover (a comparison
of text with a number, membership in a list of mixed kinds) raises :class:`Unsupported`,
and the caller evaluates that condition with the pandas tree instead: the answer is the
same either way (a differential test holds the two to it), only the speed differs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from casefund.rules.language import (
    ARITHMETIC_FUNCS,
    COMPARE_FUNCS,
    And,
    Arithmetic,
    Call,
    Compare,
    Constant,
    Fact,
    Negate,
    Node,
    Not,
    Or,
    Param,
    PerNode,
    Scope,
)


class Unsupported(Exception):
    """A value or operation the NumPy compiler leaves to the pandas evaluator."""


@dataclass(frozen=True)
class Truth:
    """Three-valued truth per row: ``value`` is true only where ``known`` is (0-d arrays for
    a condition that does not depend on the row)."""

    value: np.ndarray
    known: np.ndarray

    def __and__(self, other: Truth) -> Truth:
        return Truth(
            self.value & other.value,
            (self.known & other.known) | (self.known & ~self.value) | (other.known & ~other.value),
        )

    def __or__(self, other: Truth) -> Truth:
        return Truth(
            self.value | other.value, (self.known & other.known) | self.value | other.value
        )

    def __invert__(self) -> Truth:
        return Truth(self.known & ~self.value, self.known)

    def is_false(self) -> bool:
        """Known false on every row whatever the rows are (a scalar false)."""
        return self.value.ndim == 0 and bool(self.known) and not bool(self.value)

    def is_true(self) -> bool:
        return self.value.ndim == 0 and bool(self.value)


@dataclass(frozen=True)
class Numbers:
    """A numeric column (float), with where it is known."""

    values: np.ndarray
    known: np.ndarray


@dataclass(frozen=True)
class Labels:
    """A categorical column: codes into a few categories (−1: not known)."""

    codes: np.ndarray
    categories: np.ndarray  # object


@dataclass(frozen=True)
class Texts:
    """A text column as Python objects, with where it is known."""

    values: np.ndarray  # object
    known: np.ndarray


Column = Truth | Numbers | Labels | Texts
Kernel = Callable[[Scope], Any]  # a column, or a plain scalar (None: not known)
_UNKNOWN = Truth(np.array(False), np.array(False))


def truth_of(node: Node, scope: Scope) -> Truth:
    """The condition's three-valued result over the scope's rows."""
    return as_truth(compiled(node)(scope))


def _compile(node: Node) -> Kernel:
    if isinstance(node, Constant):
        value = node.value
        return lambda scope: value
    if isinstance(node, Fact):
        name = node.name
        return lambda scope: column_of(scope.fact(name))
    if isinstance(node, Param):
        name = node.name
        return lambda scope: scope.param(name)
    if isinstance(node, Call):
        return _call(node)
    if isinstance(node, And | Or):
        return _logic([compiled(o) for o in node.operands], isinstance(node, And))
    if isinstance(node, Not):
        inner = compiled(node.operands[0])
        return lambda scope: ~as_truth(inner(scope))
    if isinstance(node, Compare):
        return _compare(node)
    if isinstance(node, Arithmetic):
        return _arithmetic(node)
    if isinstance(node, Negate):
        inner = compiled(node.operands[0])
        return lambda scope: _negate(inner(scope))
    raise Unsupported(type(node).__name__)


# The node as a function of a scope, compiled once per node object.
compiled: PerNode[Kernel] = PerNode(_compile)


def column_of(value: Any) -> Any:
    """A fact's pandas Series as a column (scalars pass through)."""
    if not isinstance(value, pd.Series):
        return value
    dtype = value.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = np.asarray(dtype.categories.astype(object), dtype=object)
        return Labels(np.asarray(value.cat.codes.to_numpy(), dtype=np.int64), categories)
    missing = np.asarray(value.isna().to_numpy(), dtype=bool)
    if pd.api.types.is_bool_dtype(dtype):
        flags = np.asarray(value.to_numpy(dtype=bool, na_value=False), dtype=bool)
        return Truth(flags & ~missing, ~missing)
    if pd.api.types.is_numeric_dtype(dtype):
        numbers = np.asarray(value.to_numpy(dtype=float, na_value=np.nan), dtype=float)
        return Numbers(numbers, ~missing)
    if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        # Missing text reads "" (masked by ``known``), so ordering never meets a None.
        texts = np.asarray(value.to_numpy(dtype=object, na_value=""), dtype=object)
        return Texts(texts, ~missing)
    raise Unsupported(f"a fact of dtype {dtype}")


def _is_unknown(value: Any) -> bool:
    return value is None or value is pd.NA


def as_truth(value: Any) -> Truth:
    """A value read as a condition (a count is true where it is not zero)."""
    if isinstance(value, Truth):
        return value
    if isinstance(value, Numbers):
        return Truth(value.known & (value.values != 0), value.known)
    if isinstance(value, Labels | Texts):
        raise Unsupported("text read as a condition")
    if _is_unknown(value):
        return _UNKNOWN
    if isinstance(value, bool | int | float | np.bool_ | np.integer | np.floating):
        return Truth(np.array(bool(value)), np.array(True))
    raise Unsupported(f"a {type(value).__name__} read as a condition")


def _call(node: Call) -> Kernel:
    def run(scope: Scope) -> Any:
        arguments = node.arguments(scope)
        if arguments is None:
            return None  # a parameter with no value in force makes the fact unknown
        return column_of(scope.call(node.function, *arguments))

    return run


def _logic(operands: list[Kernel], conjunction: bool) -> Kernel:
    def run(scope: Scope) -> Truth:
        result = as_truth(operands[0](scope))
        for operand in operands[1:]:
            # As the pandas tree does: a settled scalar skips the operands after it.
            if result.is_false() if conjunction else result.is_true():
                return result
            other = as_truth(operand(scope))
            result = (result & other) if conjunction else (result | other)
        return result

    return run


def _compare(node: Compare) -> Kernel:
    left_of, right_of = compiled(node.operands[0]), compiled(node.operands[1])
    op = node.op

    def run(scope: Scope) -> Any:
        left, right = left_of(scope), right_of(scope)
        if op in ("in", "not in"):
            found = _membership(left, right)
            return ~found if op == "not in" else found
        return _ordered(op, left, right)

    return run


def _membership(left: Any, right: Any) -> Truth:
    if isinstance(right, Truth | Numbers | Labels | Texts):
        raise Unsupported("a column on the right of 'in'")
    items = list(right) if isinstance(right, list | tuple | set | frozenset) else [right]
    if isinstance(left, Labels):
        hit = np.asarray(pd.Index(left.categories).isin(items), dtype=bool)
        return _by_code(left, hit, invert=False)
    if isinstance(left, Texts):
        hit = np.asarray(pd.Index(left.values, dtype=object).isin(items), dtype=bool)
        return Truth(left.known & hit, left.known)
    if isinstance(left, Numbers | Truth):
        if not all(_is_number(i) for i in items):
            raise Unsupported("numbers looked up in a list that is not all numbers")
        values = left.value.astype(float) if isinstance(left, Truth) else left.values
        hit = np.isin(values, np.asarray(items, dtype=float))
        return Truth(left.known & hit, left.known)
    if _is_unknown(left):
        return _UNKNOWN
    return as_truth(left in items)


def _by_code(labels: Labels, hit: np.ndarray, invert: bool) -> Truth:
    """A truth per row from one per category (taken by code; unknown where no code)."""
    known = labels.codes >= 0
    found = np.append(hit, False)[np.where(known, labels.codes, len(hit))]
    return Truth(known & (~found if invert else found), known)


def _is_number(value: Any) -> bool:
    return isinstance(value, bool | int | float | np.bool_ | np.integer | np.floating)


def _ordered(op: str, left: Any, right: Any) -> Truth:
    if _is_unknown(left) or _is_unknown(right):
        return _UNKNOWN
    func = COMPARE_FUNCS[op]
    if isinstance(left, Labels) and not isinstance(right, Truth | Numbers | Labels | Texts):
        if not isinstance(right, str) or op not in ("==", "!="):
            raise Unsupported("a categorical compared other than for (in)equality with text")
        hit = np.array([c == right for c in left.categories], dtype=bool)
        return _by_code(left, hit, invert=op == "!=")
    if isinstance(right, Labels) and not isinstance(left, Truth | Numbers | Labels | Texts):
        mirrored = {"==": "==", "!=": "!="}.get(op)
        if mirrored is None:
            raise Unsupported("text compared by order with a categorical")
        return _ordered(mirrored, right, left)
    lvalues, lknown = _comparable(left)
    rvalues, rknown = _comparable(right)
    if (lvalues.dtype == object) != (rvalues.dtype == object):
        raise Unsupported("text compared with a number")
    with np.errstate(invalid="ignore"):
        result = np.asarray(func(lvalues, rvalues), dtype=bool)
    known = lknown & rknown
    return Truth(known & result, np.broadcast_to(known, result.shape).copy())


def _comparable(value: Any) -> tuple[np.ndarray, np.ndarray]:
    """Values a comparison can read, and where they are known."""
    if isinstance(value, Numbers):
        return value.values, value.known
    if isinstance(value, Truth):
        return value.value.astype(float), value.known
    if isinstance(value, Texts):
        return value.values, value.known
    if isinstance(value, Labels):
        known = value.codes >= 0
        texts = np.append(value.categories, np.array([""], dtype=object))
        return texts[np.where(known, value.codes, len(value.categories))], known
    if isinstance(value, str):
        return np.array(value, dtype=object), np.array(True)
    if _is_number(value):
        return np.array(float(value)), np.array(True)
    raise Unsupported(f"a {type(value).__name__} in a comparison")


def _numbers(value: Any) -> Numbers:
    if isinstance(value, Numbers):
        return value
    if isinstance(value, Truth):
        return Numbers(value.value.astype(float), value.known)
    if _is_number(value):
        return Numbers(np.array(float(value)), np.array(True))
    raise Unsupported(f"arithmetic on a {type(value).__name__}")


def _arithmetic(node: Arithmetic) -> Kernel:
    left_of, right_of = compiled(node.operands[0]), compiled(node.operands[1])
    func = ARITHMETIC_FUNCS[node.op]

    def run(scope: Scope) -> Any:
        left, right = left_of(scope), right_of(scope)
        if _is_unknown(left) or _is_unknown(right):
            return None  # an unset parameter makes the arithmetic unknown, not an error
        if _is_number(left) and _is_number(right):
            return func(left, right)
        a, b = _numbers(left), _numbers(right)
        with np.errstate(divide="ignore", invalid="ignore"):
            return Numbers(np.asarray(func(a.values, b.values), dtype=float), a.known & b.known)

    return run


def _negate(value: Any) -> Any:
    if _is_unknown(value):
        return None
    if _is_number(value):
        return -value
    numbers = _numbers(value)
    return Numbers(-numbers.values, numbers.known)

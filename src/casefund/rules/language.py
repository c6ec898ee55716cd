"""The condition language of rule files: a small, whitelisted subset of Python expressions.

Conditions are parsed with :mod:`ast` and compiled to a tree of nodes; nothing is ever passed
to ``eval``. A node evaluates over whole columns (the batch evaluator) and can also be read by
other back ends (the event evaluator compiles the same tree). Logic is three-valued: a fact
that is not known is NA, and NA propagates (Kleene logic) until the rule's decision says how
an undecided condition counts.

Grammar (informally)::

    expr    := expr 'and' expr | expr 'or' expr | 'not' expr | comparison
    compare := term (('=='|'!='|'<'|'<='|'>'|'>='|'in'|'not in') term)*
    term    := term ('+'|'-'|'*'|'/') term | '-' term | atom
    atom    := fact | 'param.' name | function '(' constants ')' | constant | '[' constants ']'
"""

from __future__ import annotations

import ast
import operator
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeAlias, TypeVar

import numpy as np
import pandas as pd

from casefund.records.suggestions import did_you_mean

Value: TypeAlias = Any  # a pandas Series, a scalar, or a tuple of scalars


class ConditionError(ValueError):
    """A condition that is not in the language, with the position and a hint."""


class Scope(Protocol):
    """What a condition needs from the world: facts, parameters and fact functions."""

    def fact(self, name: str) -> Value: ...

    def param(self, name: str) -> Value: ...

    def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Value: ...


class Node(ABC):
    @abstractmethod
    def evaluate(self, scope: Scope) -> Value:
        """The condition's value over the scope's rows (a Series) or a scalar."""

    def names(self) -> set[str]:
        """Fact names read by the condition."""
        return set()

    def params(self) -> set[str]:
        return set()

    def calls(self) -> set[tuple[str, tuple[Any, ...], tuple[tuple[str, Any], ...]]]:
        return set()


@dataclass(frozen=True)
class Constant(Node):
    value: Any

    def evaluate(self, scope: Scope) -> Value:
        return self.value


@dataclass(frozen=True)
class Fact(Node):
    name: str

    def evaluate(self, scope: Scope) -> Value:
        return scope.fact(self.name)

    def names(self) -> set[str]:
        return {self.name}


@dataclass(frozen=True)
class Param(Node):
    name: str

    def evaluate(self, scope: Scope) -> Value:
        return scope.param(self.name)

    def params(self) -> set[str]:
        return {self.name}


@dataclass(frozen=True)
class Call(Node):
    """A fact function; its arguments are constants or parameters (resolved per contract)."""

    function: str
    args: tuple[Any, ...]
    kwargs: tuple[tuple[str, Any], ...]

    def evaluate(self, scope: Scope) -> Value:
        arguments = self.arguments(scope)
        if arguments is None:
            return pd.NA
        return scope.call(self.function, *arguments)

    def arguments(self, scope: Scope) -> tuple[tuple[Any, ...], dict[str, Any]] | None:
        """The arguments with parameters read from the scope; None where a parameter has no
        value in force (the fact is then unknown, on every evaluator)."""

        def resolve(value: Any) -> Any:
            return scope.param(value.name) if isinstance(value, Param) else value

        args = tuple(resolve(a) for a in self.args)
        kwargs = {k: resolve(v) for k, v in self.kwargs}
        if any(value is None for value in (*args, *kwargs.values())):
            return None
        return args, kwargs

    def params(self) -> set[str]:
        values = list(self.args) + [v for _, v in self.kwargs]
        return {v.name for v in values if isinstance(v, Param)}

    def calls(self) -> set[tuple[str, tuple[Any, ...], tuple[tuple[str, Any], ...]]]:
        return {(self.function, self.args, self.kwargs)}


def _children_union(nodes: Sequence[Node], attr: str) -> set[Any]:
    out: set[Any] = set()
    for node in nodes:
        out |= getattr(node, attr)()
    return out


@dataclass(frozen=True)
class Composite(Node):
    """Shared plumbing for nodes with operands."""

    operands: tuple[Node, ...]

    def names(self) -> set[str]:
        return _children_union(self.operands, "names")

    def params(self) -> set[str]:
        return _children_union(self.operands, "params")

    def calls(self) -> set[tuple[str, tuple[Any, ...], tuple[tuple[str, Any], ...]]]:
        return _children_union(self.operands, "calls")


def as_boolean(value: Value) -> Value:
    """A condition's value as three-valued logic: a nullable boolean column, or True, False
    or NA for a scalar (an unknown fact stays unknown, never false)."""
    if isinstance(value, pd.Series):
        return value if value.dtype == "boolean" else value.astype("boolean")
    if value is None or value is pd.NA:
        return pd.NA
    return bool(value)


@dataclass(frozen=True)
class And(Composite):
    def evaluate(self, scope: Scope) -> Value:
        result = as_boolean(self.operands[0].evaluate(scope))
        for operand in self.operands[1:]:
            if result is False:
                return False
            result = result & as_boolean(operand.evaluate(scope))
        return result


@dataclass(frozen=True)
class Or(Composite):
    def evaluate(self, scope: Scope) -> Value:
        result = as_boolean(self.operands[0].evaluate(scope))
        for operand in self.operands[1:]:
            if result is True:
                return True
            result = result | as_boolean(operand.evaluate(scope))
        return result


@dataclass(frozen=True)
class Not(Composite):
    def evaluate(self, scope: Scope) -> Value:
        value = as_boolean(self.operands[0].evaluate(scope))
        if isinstance(value, pd.Series):
            return ~value
        return pd.NA if value is pd.NA else not value


_ARITHMETIC: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}

_COMPARISONS: dict[type[ast.cmpop], str] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
}

COMPARE_FUNCS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


ARITHMETIC_FUNCS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}


@dataclass(frozen=True)
class Arithmetic(Composite):
    op: str

    def evaluate(self, scope: Scope) -> Value:
        func = ARITHMETIC_FUNCS
        left = self.operands[0].evaluate(scope)
        right = self.operands[1].evaluate(scope)
        if left is None or right is None or left is pd.NA or right is pd.NA:
            return pd.NA  # an unset parameter makes the arithmetic unknown, not an error
        return func[self.op](left, right)


@dataclass(frozen=True)
class Negate(Composite):
    def evaluate(self, scope: Scope) -> Value:
        return -self.operands[0].evaluate(scope)


def _membership(left: Value, right: Value) -> Value:
    if isinstance(right, pd.Series):
        raise ConditionError("the right side of 'in' must be a list or a list parameter")
    items = list(right) if isinstance(right, list | tuple | set | frozenset) else [right]
    if isinstance(left, pd.Series):
        found = left.isin(items).astype("boolean")
        return found.mask(left.isna(), pd.NA)
    if left is None or left is pd.NA:
        return pd.NA
    return left in items


@dataclass(frozen=True)
class Compare(Composite):
    op: str

    def evaluate(self, scope: Scope) -> Value:
        left = self.operands[0].evaluate(scope)
        right = self.operands[1].evaluate(scope)
        if self.op == "in":
            return _membership(left, right)
        if self.op == "not in":
            found = _membership(left, right)
            return (
                ~found if isinstance(found, pd.Series) else (pd.NA if found is pd.NA else not found)
            )
        if left is None or right is None:
            return pd.NA
        result = COMPARE_FUNCS[self.op](left, right)
        if isinstance(result, pd.Series):
            result = result.astype("boolean")
            missing = _isna(left) | _isna(right)
            if isinstance(missing, pd.Series | np.ndarray) and bool(np.any(missing)):
                result = result.mask(np.asarray(missing, dtype=bool), pd.NA)
        return result


def _isna(value: Value) -> Any:
    if isinstance(value, pd.Series):
        return value.isna().to_numpy()
    return bool(value is None or value is pd.NA)


def parse_condition(text: str, functions: Sequence[str]) -> Node:
    """Compile a condition, refusing anything outside the whitelist with a pointed message."""
    try:
        # Parenthesised so a condition may span lines in a YAML block.
        tree = ast.parse("(" + text.strip() + "\n)", mode="eval")
    except SyntaxError as exc:
        raise ConditionError(f"cannot parse condition {text!r}: {exc.msg}") from None
    return _Compiler(text, set(functions)).visit(tree.body)


class _Compiler:
    def __init__(self, source: str, functions: set[str]) -> None:
        self.source = source
        self.functions = functions

    def fail(self, node: ast.AST, message: str) -> ConditionError:
        column = getattr(node, "col_offset", 0)
        return ConditionError(f"{message} at column {max(column, 1)} of {self.source!r}")

    def visit(self, node: ast.expr) -> Node:
        if isinstance(node, ast.BoolOp):
            operands = tuple(self.visit(v) for v in node.values)
            return And(operands) if isinstance(node.op, ast.And) else Or(operands)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return Not((self.visit(node.operand),))
            if isinstance(node.op, ast.USub):
                if isinstance(node.operand, ast.Constant) and isinstance(
                    node.operand.value, int | float
                ):
                    return Constant(-node.operand.value)
                return Negate((self.visit(node.operand),))
            raise self.fail(node, "only 'not' and '-' are allowed as unary operators")
        if isinstance(node, ast.Compare):
            return self._compare(node)
        if isinstance(node, ast.BinOp):
            kind = type(node.op)
            if kind not in _ARITHMETIC:
                raise self.fail(node, "only + - * / are allowed in arithmetic")
            symbol = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}[kind]
            return Arithmetic((self.visit(node.left), self.visit(node.right)), symbol)
        if isinstance(node, ast.Name):
            if node.id in ("True", "False", "None"):
                return Constant({"True": True, "False": False, "None": None}[node.id])
            return Fact(node.id)
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id == "param":
                return Param(node.attr)
            raise self.fail(node, "attributes are only allowed as param.NAME")
        if isinstance(node, ast.Constant):
            if not isinstance(node.value, str | int | float | bool) and node.value is not None:
                raise self.fail(node, "only text, numbers, booleans and None are constants")
            return Constant(node.value)
        if isinstance(node, ast.List | ast.Tuple):
            return Constant(tuple(self._literal(e) for e in node.elts))
        if isinstance(node, ast.Call):
            return self._call(node)
        raise self.fail(node, f"'{type(node).__name__}' is not allowed in a condition")

    def _literal(self, node: ast.expr, allow_param: bool = False) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float | bool):
            return node.value
        if (
            allow_param
            and isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "param"
        ):
            return Param(node.attr)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -self._literal(node.operand)
        raise self.fail(
            node,
            "function arguments and list items must be constants "
            "(or param.NAME for function arguments)",
        )

    def _call(self, node: ast.Call) -> Node:
        if not isinstance(node.func, ast.Name):
            raise self.fail(node, "only fact functions can be called")
        name = node.func.id
        if name not in self.functions:
            hint = did_you_mean(name, sorted(self.functions))
            raise self.fail(node, f"unknown function '{name}'{hint}")
        args = tuple(self._literal(a, allow_param=True) for a in node.args)
        kwargs = tuple(
            sorted(
                (str(k.arg), self._literal(k.value, allow_param=True))
                for k in node.keywords
                if k.arg
            )
        )
        return Call(name, args, kwargs)

    def _compare(self, node: ast.Compare) -> Node:
        parts: list[Node] = []
        left = self.visit(node.left)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.visit(comparator)
            symbol = _COMPARISONS.get(type(op))
            if symbol is None:
                raise self.fail(node, "'is' is not allowed; use == or !=")
            parts.append(Compare((left, right), symbol))
            left = right
        return parts[0] if len(parts) == 1 else And(tuple(parts))


K = TypeVar("K")


class PerNode(Generic[K]):
    """What a compiler made of each node, made once per node object. Keyed by identity, not
    equality: ``Constant(1)`` and ``Constant(True)`` are equal but must not share a kernel;
    the node is kept beside its kernel, so its id is never reused while the entry lives."""

    def __init__(self, make: Callable[[Node], K]) -> None:
        self._make = make
        self._made: dict[int, tuple[Node, K]] = {}

    def __call__(self, node: Node) -> K:
        found = self._made.get(id(node))
        if found is not None and found[0] is node:
            return found[1]
        made = self._make(node)
        self._made[id(node)] = (node, made)
        return made

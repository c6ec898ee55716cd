"""Conditions compiled once to plain Python functions of one row: the live session's path.

The batch evaluator (:mod:`casefund.rules.vector`) pays a fixed cost per condition per call
(array allocation, parameter segments) that is nothing over a million rows and everything
when a worker saves one note. Here each node is compiled once to a closure over a row's
facts as Python values — ``None`` where a fact is not known — with the batch evaluator's
three-valued logic: ``True``, ``False`` or ``None``. A differential test holds the two to the
same answer on every bundled rule.

Numbers follow the batch evaluator's float arithmetic (a division by zero is ±inf or NaN,
never an error), so a condition over a ratio decides the same way on both paths.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from casefund.rules.language import (
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

# A row's scope answers fact() and call() with one Python value (None: not known).
Kernel = Callable[[Scope], Any]


def holds(node: Node, row: Scope) -> bool | None:
    """The condition's three-valued result on one row."""
    return truth(compiled(node)(row))


def truth(value: Any) -> bool | None:
    """A value read as a condition: a number is true where it is not zero."""
    if value is None:
        return None
    if isinstance(value, str):
        raise TypeError("text read as a condition")
    return bool(value != 0) if not isinstance(value, bool) else value


def _compile(node: Node) -> Kernel:
    if isinstance(node, Constant):
        value = node.value
        return lambda row: value
    if isinstance(node, Fact):
        name = node.name
        return lambda row: row.fact(name)
    if isinstance(node, Param):
        name = node.name
        return lambda row: row.param(name)
    if isinstance(node, Call):
        return _call(node)
    if isinstance(node, And | Or):
        return _logic([compiled(o) for o in node.operands], isinstance(node, And))
    if isinstance(node, Not):
        inner = compiled(node.operands[0])

        def negated(row: Scope) -> bool | None:
            value = truth(inner(row))
            return None if value is None else not value

        return negated
    if isinstance(node, Compare):
        return _compare(node)
    if isinstance(node, Arithmetic):
        return _arithmetic(node)
    if isinstance(node, Negate):
        inner = compiled(node.operands[0])
        return lambda row: _negate(inner(row))
    raise TypeError(type(node).__name__)


# The node as a function of a row, compiled once per node object.
compiled: PerNode[Kernel] = PerNode(_compile)


def _call(node: Call) -> Kernel:
    def run(row: Scope) -> Any:
        arguments = node.arguments(row)
        return None if arguments is None else row.call(node.function, *arguments)

    return run


def _logic(operands: list[Kernel], conjunction: bool) -> Kernel:
    settled = not conjunction  # False settles a conjunction, True a disjunction

    def run(row: Scope) -> bool | None:
        unknown = False
        for operand in operands:
            value = truth(operand(row))
            if value is None:
                unknown = True
            elif value is settled:
                return settled
        return None if unknown else not settled

    return run


def _compare(node: Compare) -> Kernel:
    left_of, right_of = compiled(node.operands[0]), compiled(node.operands[1])
    op = node.op
    if op in ("in", "not in"):
        wanted = op == "in"

        def member(row: Scope) -> bool | None:
            left, right = left_of(row), right_of(row)
            if left is None:
                return None
            items = list(right) if isinstance(right, list | tuple | set | frozenset) else [right]
            if isinstance(left, bool | int | float):
                found = any(_is_number(i) and float(i) == float(left) for i in items)
            else:
                found = left in items
            return found == wanted

        return member
    func = COMPARE_FUNCS[op]

    def ordered(row: Scope) -> bool | None:
        left, right = left_of(row), right_of(row)
        if left is None or right is None:
            return None
        if isinstance(left, str) != isinstance(right, str):
            raise TypeError("text compared with a number")
        if not isinstance(left, str):
            left, right = float(left), float(right)
        return bool(func(left, right))

    return ordered


def _is_number(value: Any) -> bool:
    return isinstance(value, bool | int | float)


def _arithmetic(node: Arithmetic) -> Kernel:
    left_of, right_of = compiled(node.operands[0]), compiled(node.operands[1])
    op = node.op

    def run(row: Scope) -> Any:
        left, right = left_of(row), right_of(row)
        if left is None or right is None:
            return None
        return _float_op(op, float(left), float(right))

    return run


def _float_op(op: str, a: float, b: float) -> float:
    """IEEE arithmetic as NumPy does it: x/0 is ±inf (NaN for 0/0), never an exception."""
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        if a == 0 or math.isnan(a):
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def _negate(value: Any) -> Any:
    return None if value is None else -float(value)

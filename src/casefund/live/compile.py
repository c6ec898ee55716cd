"""Compiling casefund conditions into durable-rules JSON conditions.

durable-rules evaluates the *logic* of a rule (comparisons, and/or/not, membership); the
values it compares — facts, fact functions, arithmetic over them — are computed by casefund's
fact layer and put on the posted fact as named atoms, so every fact keeps one definition.

Three-valued logic survives the translation: a rule fires only where its condition is known
true. Each node is compiled twice, to "known true" (T) and "known false" (F): T(not a) is
F(a), F(a and b) is F(a) or F(b), and a comparison with a missing atom matches neither. A
missing key never matches a durable comparison, which is exactly "unknown".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from casefund.rules.language import (
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
)

Json = dict[str, Any]
TRUE: Json = {"$ex": {"casefund_row": 1}}  # every posted fact carries casefund_row
_INVERSE = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
_DURABLE = {"==": None, "!=": "$neq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}


@dataclass
class Atoms:
    """Values the posted fact must carry: name → the node that computes it."""

    prefix: str = "a"
    nodes: dict[str, Node] = field(default_factory=dict)

    def name(self, node: Node) -> str:
        key = f"{self.prefix}{abs(hash(node)) % 10**12}"
        self.nodes.setdefault(key, node)
        return key


def _resolve(node: Node, params: dict[str, Any]) -> Any:
    """The constant a node stands for under the contract's parameters, or the node itself."""
    if isinstance(node, Constant):
        return node.value
    if isinstance(node, Param):
        value = params.get(node.name)
        return tuple(value) if isinstance(value, list) else value
    return node


def _compare(op: str, atom: str, value: Any) -> Json:
    key = _DURABLE[op]
    if isinstance(value, bool):
        value = bool(value)
    return {atom: value} if key is None else {key: {atom: value}}


@dataclass
class Compiler:
    params: dict[str, Any]
    atoms: Atoms

    def operand(self, node: Node) -> tuple[str | None, Any]:
        """(atom name, None) for a computed value, (None, constant) for a constant."""
        value = _resolve(node, self.params)
        if not isinstance(value, Node):
            return None, value
        if isinstance(value, Fact | Call | Arithmetic | Negate):
            return self.atoms.name(value), None
        raise TypeError(f"cannot compare on {type(value).__name__}")

    def known(self, node: Node, truth: bool) -> Json | bool:
        """A durable condition for 'node is known ``truth``', or a constant True/False."""
        if isinstance(node, And | Or):
            parts = [self.known(op, truth) for op in node.operands]
            conjunction = isinstance(node, And) == truth
            return _combine(parts, conjunction)
        if isinstance(node, Not):
            return self.known(node.operands[0], not truth)
        if isinstance(node, Compare):
            return self._compare(node, truth)
        value = _resolve(node, self.params)
        if not isinstance(value, Node):
            if value is None:
                return False
            return bool(value) == truth
        atom, _ = self.operand(node)
        assert atom is not None
        return {atom: truth}

    def _compare(self, node: Compare, truth: bool) -> Json | bool:
        left_atom, left = self.operand(node.operands[0])
        right_atom, right = self.operand(node.operands[1])
        op = node.op
        if op in ("in", "not in"):
            if left_atom is None or right_atom is not None:
                raise TypeError("'in' compiles only as FACT in CONSTANT-LIST")
            items = list(right) if isinstance(right, tuple | list) else [right]
            wanted = (op == "in") == truth
            if wanted:
                equal: list[Json | bool] = [{left_atom: item} for item in items]
                return _combine(equal, False)
            differ: list[Json | bool] = [{"$ex": {left_atom: 1}}]
            differ += [{"$neq": {left_atom: item}} for item in items]
            return _combine(differ, True)
        if left_atom is None and right_atom is None:
            if left is None or right is None:
                return False
            from casefund.rules.language import COMPARE_FUNCS

            return bool(COMPARE_FUNCS[op](left, right)) == truth
        if left_atom is None:  # constant on the left: mirror the comparison
            mirrored = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}[op]
            left_atom, right, op = right_atom, left, mirrored
        elif right_atom is not None:
            # Atom against atom: casefund computes the comparison itself as one atom.
            assert left_atom is not None
            atom = self.atoms.name(node)
            return {atom: truth}
        if right is None:
            return False
        assert left_atom is not None
        return _compare(op if truth else _INVERSE[op], left_atom, right)


def _combine(parts: list[Json | bool], conjunction: bool) -> Json | bool:
    if conjunction:
        if any(p is False for p in parts):
            return False
        kept = [p for p in parts if p is not True]
        if not kept:
            return True
        return kept[0] if len(kept) == 1 else {"$and": kept}
    if any(p is True for p in parts):
        return True
    alternatives: list[Json | bool] = [p for p in parts if p is not False]
    if not alternatives:
        return False
    return alternatives[0] if len(alternatives) == 1 else {"$or": alternatives}


def compile_condition(node: Node, params: dict[str, Any], atoms: Atoms) -> Json | bool:
    """The durable condition under which ``node`` is known true (or a constant)."""
    return Compiler(params, atoms).known(node, True)

"""One row of a block of facts, as the one-row condition kernels read it.

The live session decides only the rows a post changed. Their facts come from the same fact
layer the batch evaluator uses (each computed once over the participant's rows and kept as
Python values), so a fact has one definition; this view hands one row's values to
:func:`casefund.rules.scalar.holds`.
"""

from __future__ import annotations

from typing import Any

from casefund.facts.scope import FactScope


class RowScope:
    """Row ``row`` of ``block``: facts and fact functions as Python values (None: not
    known), parameters as the block holds them."""

    __slots__ = ("block", "row")

    def __init__(self, block: FactScope, row: int) -> None:
        self.block = block
        self.row = row

    def fact(self, name: str) -> Any:
        return self.block.python_fact(name)[self.row]

    def param(self, name: str) -> Any:
        return self.block.param(name)

    def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return self.block.python_call(name, args, kwargs)[self.row]

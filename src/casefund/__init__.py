"""casefund: which case-management work can be billed, to whom, for how much — and why not.

The public surface is small: :func:`evaluate` returns an :class:`Evaluation` whose attributes
are the contract's outputs (lines, denials, reasons, claims, eligibility, breakdown,
admin_cap, recertification, charge_caps, rejects, …) and whose ``explain(activity_id)`` says
why an activity was billed where it was; :func:`eligibility` answers who is eligible for
what on a given day and :func:`recertification` who lapses when.

Names are imported when first used, so a command that needs only a little of casefund (the
command line's help, explaining from a written folder) starts without loading the engine.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from casefund._version import __version__
from casefund.errors import InputError

if TYPE_CHECKING:
    from casefund.api import evaluate
    from casefund.io.load import Dataset, load_dataset
    from casefund.queries import eligibility, recertification
    from casefund.reports.outputs import Evaluation

_WHERE = {
    "evaluate": "casefund.api",
    "Evaluation": "casefund.reports.outputs",
    "Dataset": "casefund.io.load",
    "load_dataset": "casefund.io.load",
    "eligibility": "casefund.queries",
    "recertification": "casefund.queries",
}

__all__ = [
    "Dataset",
    "Evaluation",
    "InputError",
    "__version__",
    "eligibility",
    "evaluate",
    "load_dataset",
    "recertification",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'casefund' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value

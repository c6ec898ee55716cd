"""casefund: which case-management work can be billed, to whom, for how much — and why not.

The public surface is small: :func:`evaluate` returns an :class:`Evaluation` whose attributes
are the contract's outputs (lines, claims, eligibility, breakdown, admin_cap,
recertification, charge_caps, rejects); :func:`eligibility` answers who is eligible for what
on a given day and :func:`recertification` who lapses when.
"""

from casefund._version import __version__
from casefund.api import evaluate
from casefund.errors import InputError
from casefund.evaluation import Evaluation
from casefund.io.load import Dataset, load_dataset
from casefund.queries import eligibility, recertification

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

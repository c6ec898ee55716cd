"""Deprecated: use ``Evaluation.explain(activity_id)``, which returns a structured
:class:`~casefund.reports.explanation.Explanation` (``to_text()``, ``to_dict()``)."""

from __future__ import annotations

import warnings

from casefund.reports.outputs import Evaluation

MAX_LINES = 20


def explain_activity(evaluation: Evaluation, activity_id: str) -> list[str]:
    """The explanation's text lines (at most twenty); deprecated."""
    warnings.warn(
        "casefund.explain.explain_activity is deprecated: use evaluation.explain(activity_id)",
        DeprecationWarning,
        stacklevel=2,
    )
    return evaluation.explain(activity_id).to_text().splitlines()

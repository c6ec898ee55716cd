"""Deprecated name of :mod:`casefund.live` (``events`` is also an input table's name).

``from casefund.events import Session`` keeps working, with a ``DeprecationWarning``; it
will be removed in casefund 1.0.
"""

import warnings

from casefund.live import Decision, DurableUnavailable, Session

warnings.warn(
    "casefund.events is now casefund.live; import Session from casefund.live",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = ["Decision", "DurableUnavailable", "Session"]

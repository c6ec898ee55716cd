"""Live decisions: the same rule files, evaluated by durable-rules one activity at a time, as
a case-management system posts them.

Import :class:`Session` from here; durable-rules is loaded only when a session starts, so
casefund works without the ``durable`` extra until this path is used.
"""

from casefund.live.session import Decision, DurableUnavailable, Session

__all__ = ["Decision", "DurableUnavailable", "Session"]

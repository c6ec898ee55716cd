"""Event-at-a-time decisions: the same rule files, evaluated by durable-rules per activity.

Import :class:`Session` from here; durable-rules is loaded only when a session starts, so
casefund works without the ``durable`` extra until this path is used.
"""

from casefund.events.session import Decision, DurableUnavailable, Session

__all__ = ["Decision", "DurableUnavailable", "Session"]

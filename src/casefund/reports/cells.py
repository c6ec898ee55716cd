"""What every written cell and folder shares, kept free of pandas so that reading a folder
back (``casefund explain --from``) starts fast.

A cell of user text that begins with ``= + - @`` (or a tab or carriage return) is a formula
to Excel and LibreOffice; as the OWASP guidance on CSV injection says, a single quote is
put in front of it.
"""

from __future__ import annotations

from typing import Any

MANIFEST = "manifest.json"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralized(value: Any) -> Any:
    """One text value made inert for spreadsheets (other values unchanged)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value

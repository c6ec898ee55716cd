"""casefund.events was renamed casefund.live (``events`` is an input table's name too); the
old import keeps working, with a deprecation warning."""

from __future__ import annotations

import importlib
import sys

import pytest


def test_the_old_module_name_still_imports_with_a_deprecation_warning() -> None:
    sys.modules.pop("casefund.events", None)
    with pytest.warns(DeprecationWarning, match="casefund.events is now casefund.live"):
        old = importlib.import_module("casefund.events")
    from casefund.live import Session

    assert old.Session is Session

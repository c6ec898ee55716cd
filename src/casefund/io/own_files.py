"""Files casefund writes for itself and reads back (partition rows, kept stages, stored
outputs): created only where nothing was, never read or written through a link."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def create_new(path: Path) -> Any:
    """A file opened for writing that did not exist before and is not a link: a planted
    file or symbolic link at ``path`` makes this fail instead of being written through."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    return os.fdopen(descriptor, "wb")


def open_own(path: Path) -> Any:
    """A file casefund wrote, opened for reading, refusing a symbolic link in its place."""
    descriptor = os.open(path, os.O_RDONLY | _NOFOLLOW)
    return os.fdopen(descriptor, "rb")

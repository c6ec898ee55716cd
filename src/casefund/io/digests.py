"""Digests of input files' bytes: what the manifest records, so an audit can tell whether a
folder was made from exactly these files."""

from __future__ import annotations

import hashlib
from pathlib import Path

_PIECE = 1 << 20


def bytes_digest(data: bytes | memoryview) -> str:
    """SHA-256 of the bytes, first 16 hex digits (the width of every hash casefund records)."""
    return hashlib.sha256(data).hexdigest()[:16]


def file_digest(path: Path) -> str:
    """:func:`bytes_digest` of a file, read a piece at a time (a file too large to hold)."""
    sha = hashlib.sha256()
    with path.open("rb") as file:
        while piece := file.read(_PIECE):
            sha.update(piece)
    return sha.hexdigest()[:16]

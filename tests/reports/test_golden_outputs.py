"""The outputs of the fixture agency and of a small demo, pinned byte for byte.

A refactoring must leave every written file as it was; a change of behaviour changes these
hashes on purpose, in the same commit, with the reason in its message. Regenerate with
``CASEFUND_GOLDEN=write pytest tests/test_golden_outputs.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from casefund.cli import app

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).with_name("golden_outputs.json")
runner = CliRunner()


def _pinned_bytes(path: Path) -> bytes:
    """What is pinned of a file: its bytes; of an HTML page, its charts' texts and labels in
    place of their drawing (the renderer lays text out with the machine's fonts, so SVG
    coordinates may differ between machines while every word and number is the same)."""
    data = path.read_bytes()
    if path.suffix != ".html":
        return data

    def words(figure: re.Match[bytes]) -> bytes:
        texts = re.findall(rb"<text[^>]*>(.*?)</text>", figure.group(0), flags=re.S)
        labels = re.findall(rb'aria-label="([^"]*)"', figure.group(0))
        return b"<svg>" + b"|".join([*texts, *labels]) + b"</svg>"

    return re.sub(rb"<svg.*?</svg>", words, data, flags=re.S)


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(_pinned_bytes(p)).hexdigest()[:20]
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def produced(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    base = tmp_path_factory.mktemp("golden")
    runs = {
        "fixture": [
            "evaluate",
            "--data",
            str(ROOT / "fixtures" / "small_agency"),
            "--out",
            str(base / "fixture"),
            "--xlsx",
        ],
        "fixture_deidentified": [
            "evaluate",
            "--data",
            str(ROOT / "fixtures" / "small_agency"),
            "--out",
            str(base / "fixture_deidentified"),
            "--deidentify",
        ],
        "fixture_eligibility": [
            "eligibility",
            "--data",
            str(ROOT / "fixtures" / "small_agency"),
            "--as-of",
            "2024-06-30",
            "--out",
            str(base / "fixture_eligibility"),
        ],
        "demo": ["demo", "--participants", "60", "--out", str(base / "demo")],
        "funding_mix_xlsx": [
            "report",
            "funding-mix",
            "--data",
            str(ROOT / "fixtures" / "small_agency"),
            "--out",
            str(base / "funding_mix_xlsx" / "m.xlsx"),
        ],
        "funding_mix_html": [
            "report",
            "funding-mix",
            "--data",
            str(ROOT / "fixtures" / "small_agency"),
            "--out",
            str(base / "funding_mix_html" / "m.html"),
        ],
    }
    out = {}
    for name, args in runs.items():
        result = runner.invoke(app, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        out[name] = _digests(base / name)
    return out


def test_outputs_are_byte_identical_to_the_pinned_ones(
    produced: dict[str, dict[str, str]],
) -> None:
    if os.environ.get("CASEFUND_GOLDEN") == "write":
        GOLDEN.write_text(json.dumps(produced, indent=1, sort_keys=True) + "\n")
    pinned = json.loads(GOLDEN.read_text())
    assert produced == pinned

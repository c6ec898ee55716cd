"""No output carries binary floating-point noise: every file a user gets is scanned.

Regression (issue 17): claims summed hundredths of units in floats and wrote
``0.33999999999999997``; money and units now leave casefund rounded to their declared
places (:mod:`casefund.reports.columns`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from billing_block import BILLING
from typer.testing import CliRunner

from casefund.cli import app
from casefund.reports.columns import DECIMALS, KINDS, Kind, exact

# More fractional digits than any declared kind keeps (shares keep six).
NOISE = re.compile(rb"\d\.\d{7,}")


def _run(*args: str) -> None:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every kind of file casefund writes for the demo agency: the outputs as CSV, Parquet
    and a workbook, the funding-mix workbook and page, and each contract's claims as 837P,
    FHIR and an invoice."""
    root = tmp_path_factory.mktemp("written")
    _run("demo", "--out", str(root / "demo"), "--xlsx", "--participants", "80")
    data = root / "demo" / "input"
    raw = yaml.safe_load((data / "contracts.yaml").read_text())
    for contract in raw["contracts"]:
        contract["billing"] = BILLING
    billed = root / "billed"
    billed.mkdir()
    for source in data.iterdir():
        (billed / source.name).write_bytes(source.read_bytes())
    (billed / "contracts.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    _run("evaluate", "--data", str(billed), "--out", str(root / "parquet"), "--format", "parquet")
    _run("report", "funding-mix", "--data", str(billed), "--out", str(root / "mix.xlsx"))
    _run("report", "funding-mix", "--data", str(billed), "--out", str(root / "mix.html"))
    claims = pd.read_csv(root / "demo" / "claims.csv", dtype=str, keep_default_na=False)
    coded = claims.groupby("contract_id")["procedure_code"].agg(lambda c: bool((c != "").all()))
    (root / "claims").mkdir()
    for contract_id, has_codes in coded.items():
        forms = [("837p", "837"), ("fhir", "json"), ("invoice", "csv")]
        for form, suffix in forms if has_codes else forms[2:]:
            out = root / "claims" / f"{contract_id}.{suffix}"
            _run(
                "claims", "--data", str(billed), "--contract", str(contract_id),
                "--out", str(out), "--format", form,
            )  # fmt: skip
    return root


def _shown(path: Path) -> bytes:
    """A file's text as a reader sees it: for a page, its charts' drawing coordinates left
    out (SVG geometry, never shown) but their texts and labels kept."""
    data = path.read_bytes()
    if path.suffix != ".html":
        return data
    shown = []
    for figure in re.findall(rb"<svg.*?</svg>", data, flags=re.S):
        shown += re.findall(rb"<text[^>]*>(.*?)</text>", figure, flags=re.S)
        shown += re.findall(rb'aria-label="([^"]*)"', figure)
    return re.sub(rb"<svg.*?</svg>", b"", data, flags=re.S) + b"\n".join(shown)


def test_no_written_text_file_holds_float_noise(written: Path) -> None:
    scanned = 0
    for path in sorted(written.rglob("*")):
        if path.suffix in (".csv", ".json", ".html", ".837"):
            found = NOISE.findall(_shown(path))
            assert not found, f"{path.relative_to(written)}: {found[:3]}"
            scanned += 1
    assert scanned >= 20  # the outputs, the page and three claim files per contract


def test_no_workbook_or_parquet_number_holds_float_noise(written: Path) -> None:
    from openpyxl import load_workbook

    books = [written / "demo" / "casefund.xlsx", written / "mix.xlsx"]
    for book in books:
        for sheet in load_workbook(book, read_only=True).worksheets:
            for row in sheet.iter_rows(values_only=True):
                for value in row:
                    if isinstance(value, float):
                        assert not NOISE.search(repr(value).encode()), (book.name, sheet.title)
    for path in sorted((written / "parquet").glob("*.parquet")):
        frame = pd.read_parquet(path)
        for column in frame.select_dtypes("number").columns:
            values = np.unique(frame[column].dropna().to_numpy(dtype=float))
            noisy = [v for v in values.tolist() if NOISE.search(repr(v).encode())]
            assert not noisy, (path.name, column, noisy[:3])


def test_declared_money_and_units_keep_their_places(written: Path) -> None:
    for name, kinds in KINDS.items():
        path = written / "demo" / f"{name}.csv"
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for column, kind in kinds.items():
            places = DECIMALS.get(kind)
            if places is None or column not in frame:
                continue
            decimals = frame[column].str.extract(r"\.(\d+)$")[0].dropna().str.len()
            assert (decimals <= places).all(), (name, column)


def test_every_numeric_output_column_is_declared(written: Path) -> None:
    from casefund.reports.outputs import OUTPUTS

    for name in OUTPUTS:
        path = written / "parquet" / f"{name}.parquet"
        frame = pd.read_parquet(path)
        numeric = [
            c
            for c in frame.columns
            if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
        ]
        undeclared = sorted(set(numeric) - set(KINDS.get(name, {})))
        assert not undeclared, f"{name}: declare the kind of {undeclared}"


def test_exact_rounds_declared_columns_only() -> None:
    frame = pd.DataFrame(
        {
            "amount": [0.1 + 0.2, 132987.41999999998, np.nan],
            "share": [1 / 3, 0.5, 0.25],
            "other": [0.1 + 0.2, 1.0, 2.0],
            "count": [1, 2, 3],
        }
    )
    done = exact(frame, {"amount": Kind.MONEY, "share": Kind.SHARE, "count": Kind.COUNT})
    assert done["amount"].tolist()[:2] == [0.3, 132987.42]
    assert np.isnan(done["amount"].iloc[2])
    assert done["share"].tolist() == [0.333333, 0.5, 0.25]
    assert done["other"].tolist() == frame["other"].tolist()  # undeclared: untouched
    assert done["count"].dtype == np.int64
    assert json.dumps(done["amount"].tolist()[:2]) == "[0.3, 132987.42]"


@pytest.mark.parametrize("form", ["837p", "fhir"])
def test_regression_a_contract_without_codes_is_refused_not_written_with_blank_codes(
    written: Path, form: str
) -> None:
    """Regression (issue 17): the demo grant's 837P had service lines ``SV1*HC:*…`` with no
    HCPCS code, and its FHIR claims stopped on an internal error."""
    out = written / f"grant.{form}"
    result = CliRunner().invoke(
        app,
        ["claims", "--data", str(written / "billed"), "--contract", "city_diversion_grant",
         "--out", str(out), "--format", form],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "have no procedure code" in result.output and "--format invoice" in result.output
    assert not out.exists()

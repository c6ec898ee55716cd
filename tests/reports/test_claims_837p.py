"""837P files: valid X12 (checked by pyx12), sums and counts right, NPIs Luhn-checked."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
import yaml
from billing_block import BILLING
from pydantic import ValidationError
from typer.testing import CliRunner

import casefund
from casefund.cli import app
from casefund.errors import InputError
from casefund.records.contracts import Billing, npi_is_valid
from casefund.reports.x12_837p import build_837p

pyx12_document = pytest.importorskip("pyx12.x12n_document")
import pyx12.params  # noqa: E402

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "small_agency"


def contracts() -> dict[str, Any]:
    raw = yaml.safe_load((FIXTURE / "contracts.yaml").read_text())
    raw["contracts"][0]["billing"] = BILLING
    return raw


def valid(text: str) -> bool:
    return bool(
        pyx12_document.x12n_document(
            param=pyx12.params.params(),
            src_file=io.StringIO(text),
            fd_997=io.StringIO(),
            fd_html=io.StringIO(),
            fd_xmldoc=None,
        )
    )


def test_837p_validates_and_adds_up() -> None:
    result = casefund.evaluate(FIXTURE, contracts())
    text = build_837p(result, "county_tcm", created=dt.datetime(2024, 5, 1, 12, 0))
    assert valid(text)
    segments = [s for s in text.split("~\n") if s]
    st = next(i for i, s in enumerate(segments) if s.startswith("ST*"))
    se = next(i for i, s in enumerate(segments) if s.startswith("SE*"))
    assert segments[se].split("*")[1] == str(se - st + 1)
    clm = next(s for s in segments if s.startswith("CLM*")).split("*")
    charges = [float(s.split("*")[2]) for s in segments if s.startswith("SV1*")]
    assert float(clm[2]) == sum(charges) == 63.0
    assert "SV1*HC:T1017*63*UN*2***1" in segments


def test_a_broken_segment_count_is_caught_by_the_validator() -> None:
    result = casefund.evaluate(FIXTURE, contracts())
    text = build_837p(result, "county_tcm", created=dt.datetime(2024, 5, 1, 12, 0))
    assert not valid(text.replace("SE*21*", "SE*20*"))


def test_npi_check_digit() -> None:
    assert npi_is_valid("1234567893")
    assert not npi_is_valid("1234567890")
    with pytest.raises(ValidationError, match="not a valid NPI"):
        Billing.model_validate({**BILLING, "provider_npi": "1234567890"})


def test_missing_billing_block_is_a_clear_error() -> None:
    result = casefund.evaluate(FIXTURE)
    with pytest.raises(InputError, match="key 'billing'"):
        build_837p(result, "county_tcm")


def test_claims_command(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for path in FIXTURE.iterdir():
        (data / path.name).write_bytes(path.read_bytes())
    (data / "contracts.yaml").write_text(yaml.safe_dump(contracts()))
    out = tmp_path / "county.837"
    result = CliRunner().invoke(
        app, ["claims", "--data", str(data), "--contract", "county_tcm", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert valid(out.read_text())


def test_fhir_claims_validate_and_total() -> None:
    pytest.importorskip("fhir.resources")
    from fhir.resources.R4B.claim import Claim

    from casefund.reports.fhir_claims import claim_resources

    resources = claim_resources(
        casefund.evaluate(FIXTURE, contracts()), "county_tcm", dt.date(2024, 5, 1)
    )
    assert len(resources) == 1
    claim = Claim.model_validate(resources[0])
    assert float(claim.total.value) == 63.0
    assert claim.item[0].productOrService.coding[0].code == "T1017"
    assert claim.provider.identifier.value == "1234567893"


def test_invoice_columns_follow_the_users_mapping(tmp_path: Path) -> None:
    mapping = tmp_path / "plan.yaml"
    mapping.write_text(
        "Member ID: participant_id\nDOS: service_date\nHCPCS: procedure_code\nBilled: amount\n"
    )
    out = tmp_path / "invoice.csv"
    result = CliRunner().invoke(
        app,
        [
            "claims",
            "--data",
            str(FIXTURE),
            "--contract",
            "county_tcm",
            "--format",
            "invoice",
            "--mapping",
            str(mapping),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert out.read_text().splitlines() == [
        "Member ID,DOS,HCPCS,Billed",
        "p-homeless,2024-03-04,T1017,63.0",
    ]
    bad = tmp_path / "bad.yaml"
    bad.write_text("Member: nobody\n")
    failed = CliRunner().invoke(
        app,
        [
            "claims",
            "--data",
            str(FIXTURE),
            "--contract",
            "county_tcm",
            "--format",
            "invoice",
            "--mapping",
            str(bad),
            "--out",
            str(out),
        ],
    )
    assert failed.exit_code == 2 and "nobody" in failed.output

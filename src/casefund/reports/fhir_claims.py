"""FHIR R4B ``Claim`` resources from casefund's claim lines (the ``fhir`` extra).

One Claim per participant, contract and month, one item per claim row, each with its HCPCS
code and modifiers, service date (or the month as a period for monthly payments), quantity
and net amount. Built as plain dictionaries and validated by fhir.resources' models.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from casefund.errors import InputError
from casefund.reports.claim_rows import coded_claims
from casefund.reports.outputs import Evaluation

HCPCS = "https://bluebutton.cms.gov/resources/codesystem/hcpcs"
NPI = "http://hl7.org/fhir/sid/us-npi"


def claim_resources(
    evaluation: Evaluation, contract_id: str, created: dt.date | None = None
) -> list[dict[str, Any]]:
    """Validated FHIR R4B Claim resources (as JSON-ready dicts) for one contract."""
    try:
        from fhir.resources.R4B.claim import Claim
    except ImportError as exc:  # pragma: no cover - depends on the extra
        raise InputError("FHIR claims need the 'fhir' extra: pip install 'casefund[fhir]'") from exc
    assert evaluation.dataset is not None
    contracts = {c.id: c for c in evaluation.dataset.contracts}
    if contract_id not in contracts:
        raise InputError(f"contract '{contract_id}' is not in contracts.yaml")
    contract = contracts[contract_id]
    npi = contract.billing.provider_npi if contract.billing else None
    claims = coded_claims(evaluation, contract_id, "FHIR Claim")
    day = (created or dt.date(2000, 1, 1)).isoformat()
    out = []
    for (participant, month), rows in claims.groupby(["participant_id", "month"], sort=True):
        first = pd.Timestamp(f"{month}-01")
        last = first + pd.offsets.MonthEnd(0)
        items = []
        for number, row in enumerate(rows.itertuples(index=False), start=1):
            item: dict[str, Any] = {
                "sequence": number,
                "productOrService": {
                    "coding": [{"system": HCPCS, "code": str(row.procedure_code)}]
                },
                "quantity": {"value": float(str(row.units))},
                "net": {"value": float(str(row.amount)), "currency": "USD"},
            }
            modifiers = [m for m in str(row.modifiers or "").split(";") if m]
            if modifiers:
                item["modifier"] = [{"coding": [{"system": HCPCS, "code": m}]} for m in modifiers]
            if str(row.service_date):
                item["servicedDate"] = str(row.service_date)
            else:
                item["servicedPeriod"] = {"start": f"{first:%Y-%m-%d}", "end": f"{last:%Y-%m-%d}"}
            items.append(item)
        provider: dict[str, Any] = (
            {"identifier": {"system": NPI, "value": npi}} if npi else {"display": contract.payer}
        )
        resource = {
            "resourceType": "Claim",
            "id": f"{contract_id}-{participant}-{month}".replace("_", "-")[:64],
            "status": "active",
            "type": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/claim-type",
                        "code": "professional",
                    }
                ]
            },
            "use": "claim",
            "patient": {"reference": f"Patient/{participant}"},
            "created": day,
            "provider": provider,
            "priority": {"coding": [{"code": "normal"}]},
            "insurance": [
                {
                    "sequence": 1,
                    "focal": True,
                    "coverage": {"display": f"{contract.payer} ({contract.program})"},
                }
            ],
            "item": items,
            "total": {
                "value": round(float(np.asarray(rows["amount"], dtype=float).sum()), 2),
                "currency": "USD",
            },
        }
        Claim.model_validate(resource)  # raises on anything FHIR R4B does not allow
        out.append(resource)
    return out

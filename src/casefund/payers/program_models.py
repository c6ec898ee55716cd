"""The program models in force for a month: casefund's cited ``icm`` and ``act`` as of the
month's first day, with what contracts.yaml adjusts, and any model the agency defines."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from casefund.payers.parameters import ProgramParameters
from casefund.records.program_models import BUILT_IN_MODELS, ProgramModelTerms


@dataclass(frozen=True)
class ProgramModel:
    """One model's terms as of a day, and where they come from."""

    id: str
    caseload_max: int | None
    time_limited: bool
    max_months: int | None
    availability_24h: bool
    source: str


def _cited(parameters: ProgramParameters, name: str, day: dt.date) -> str:
    chosen = parameters.entry(name, day)
    if chosen is None:
        return ""
    cite = chosen.cite
    return f"{cite.document}: {cite.section}" if cite.section else cite.document


def program_models(
    parameters: ProgramParameters, agency: dict[str, ProgramModelTerms], day: dt.date
) -> dict[str, ProgramModel]:
    """Every model in force on ``day``: the shipped ones (read as of ``day``; a model not yet
    in force there is left out unless the agency states it) and the agency's own."""
    out: dict[str, ProgramModel] = {}
    for model in BUILT_IN_MODELS:
        limit = parameters.value(f"{model}_caseload_max", day)
        terms = agency.get(model)
        if limit is None and terms is None:
            continue
        source = _cited(parameters, f"{model}_caseload_max", day)
        if terms is not None and terms.model_dump(exclude_none=True):
            stated = terms.source or "the agency's figure"
            source = f"contracts.yaml ({stated})" + (f"; otherwise {source}" if source else "")
        stated_terms = terms or ProgramModelTerms()
        out[model] = ProgramModel(
            model,
            stated_terms.caseload_max if stated_terms.caseload_max is not None else limit,
            _either(stated_terms.time_limited, parameters.value(f"{model}_time_limited", day)),
            stated_terms.max_months,
            _either(
                stated_terms.availability_24h,
                parameters.value(f"{model}_24_hour_availability", day),
            ),
            source,
        )
    for model, terms in agency.items():
        if model in BUILT_IN_MODELS:
            continue
        out[model] = ProgramModel(
            model,
            terms.caseload_max,
            bool(terms.time_limited),
            terms.max_months,
            bool(terms.availability_24h),
            f"contracts.yaml ({terms.source or 'the agency figure'})",
        )
    return out


def _either(stated: bool | None, shipped: object) -> bool:
    return bool(stated) if stated is not None else bool(shipped)

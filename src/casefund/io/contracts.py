"""Reading contracts.yaml: validated contracts, or an error naming the contract and key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from casefund.errors import InputError
from casefund.io.safe_yaml import read_yaml_file
from casefund.records.contracts import (
    Billing,
    Caps,
    Contract,
    EpisodeLimit,
    RollingLimit,
)
from casefund.records.program_models import BUILT_IN_MODELS, ProgramModelTerms, valid_model_id
from casefund.records.suggestions import did_you_mean

TOP_LEVEL_KEYS = ("contracts", "program_models")


def _key_names() -> list[str]:
    """Every key a contract may spell, for 'did you mean' (``from``/``to`` by their alias)."""
    names: list[str] = ["from", "to"]
    for model in (Contract, Caps, Billing, RollingLimit, EpisodeLimit):
        names += [f.alias or n for n, f in model.model_fields.items()]
    return names


def _problem(err: Any) -> str:
    where = ".".join(str(p) for p in err["loc"])
    message = str(err["msg"]).removeprefix("Value error, ")
    if not where:  # a check across keys says which key it is about itself
        return message
    if err["type"] == "extra_forbidden":
        return (
            f"key '{where}' is not a contract key{did_you_mean(str(err['loc'][-1]), _key_names())}"
        )
    return f"key '{where}': {message}"


def parse_contracts(raw: Any, origin: str) -> list[Contract]:
    """Validated contracts, or an InputError naming the contract and key at fault."""
    if raw is None:
        return []
    if not isinstance(raw, dict) or "contracts" not in raw:
        raise InputError(f"{origin}: expected a top-level 'contracts:' list")
    extra = [str(k) for k in raw if k not in TOP_LEVEL_KEYS]
    if extra:
        raise InputError(
            f"{origin}: top-level key '{extra[0]}' is not read; the file holds "
            "one 'contracts:' list (and optionally 'program_models:')"
            + did_you_mean(extra[0], TOP_LEVEL_KEYS)
        )
    items = raw["contracts"] or []
    if not isinstance(items, list):
        raise InputError(f"{origin}: 'contracts' must be a list")
    contracts: list[Contract] = []
    for index, item in enumerate(items, start=1):
        name = str(item.get("id", f"#{index}")) if isinstance(item, dict) else f"#{index}"
        if not isinstance(item, dict):
            raise InputError(f"{origin}: contract #{index} is not a mapping of keys")
        try:
            contracts.append(Contract.model_validate(item))
        except ValidationError as exc:
            problems = "; ".join(_problem(err) for err in exc.errors())
            raise InputError(f"{origin}: contract '{name}': {problems}") from None
    seen: set[str] = set()
    for contract in contracts:
        if contract.id in seen:
            raise InputError(f"{origin}: contract '{contract.id}': key 'id': duplicate id")
        seen.add(contract.id)
    return contracts


def parse_program_models(raw: Any, origin: str) -> dict[str, ProgramModelTerms]:
    """The agency's ``program_models:`` (model id → terms), or an InputError naming the
    model and key at fault. A model of the agency's own must state its caseload limit."""
    if not isinstance(raw, dict) or raw.get("program_models") is None:
        return {}
    items = raw["program_models"]
    if not isinstance(items, dict):
        raise InputError(f"{origin}: 'program_models' must map each model id to its terms")
    models: dict[str, ProgramModelTerms] = {}
    for name, terms in items.items():
        where = f"{origin}: program model '{name}'"
        try:
            valid_model_id(str(name))
            models[str(name)] = ProgramModelTerms.model_validate(terms or {})
        except ValueError as exc:
            if not isinstance(exc, ValidationError):
                raise InputError(f"{where}: {exc}") from None
            problems = "; ".join(_model_problem(err) for err in exc.errors())
            raise InputError(f"{where}: {problems}") from None
        if str(name) not in BUILT_IN_MODELS and models[str(name)].caseload_max is None:
            raise InputError(
                f"{where}: key 'caseload_max' is required for a model of the agency's own "
                f"(the shipped models are {', '.join(BUILT_IN_MODELS)})"
            )
    return models


def _model_problem(err: Any) -> str:
    where = ".".join(str(p) for p in err["loc"])
    if err["type"] == "extra_forbidden":
        names = list(ProgramModelTerms.model_fields)
        return (
            f"key '{where}' is not a program model key"
            f"{did_you_mean(str(err['loc'][-1]), names)}; use {', '.join(names)}"
        )
    if err["type"] == "model_type":
        return "expected a mapping of keys (caseload_max, time_limited, max_months, ...)"
    return f"key '{where}': {str(err['msg']).removeprefix('Value error, ')}"


def load_agency(
    source: str | Path | list[Contract] | dict[str, Any] | None,
) -> tuple[list[Contract], dict[str, ProgramModelTerms]]:
    """The contracts and program models of a contracts source, the file read once (a list
    of contracts defines no models)."""
    if source is None:
        return [], {}
    if isinstance(source, list):
        given = [c for c in source if isinstance(c, Contract)]
        raw_items = [c for c in source if not isinstance(c, Contract)]
        return given + parse_contracts({"contracts": raw_items}, "contracts"), {}
    if isinstance(source, dict):
        raw, origin = source, "contracts"
    else:
        path = Path(source)
        raw, origin = read_yaml_file(path, "contracts file"), str(path)
    return parse_contracts(raw, origin), parse_program_models(raw, origin)


def load_contracts(source: str | Path | list[Contract] | dict[str, Any] | None) -> list[Contract]:
    return load_agency(source)[0]

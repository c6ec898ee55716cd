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
from casefund.records.suggestions import did_you_mean


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
    extra = [str(k) for k in raw if k != "contracts"]
    if extra:
        raise InputError(
            f"{origin}: top-level key '{extra[0]}' is not read; the file holds "
            "one 'contracts:' list"
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


def load_contracts(source: str | Path | list[Contract] | dict[str, Any] | None) -> list[Contract]:
    if source is None:
        return []
    if isinstance(source, list):
        given = [c for c in source if isinstance(c, Contract)]
        raw_items = [c for c in source if not isinstance(c, Contract)]
        return given + parse_contracts({"contracts": raw_items}, "contracts")
    if isinstance(source, dict):
        return parse_contracts(source, "contracts")
    path = Path(source)
    return parse_contracts(read_yaml_file(path, "contracts file"), str(path))

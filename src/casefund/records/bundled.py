"""Reading the YAML files casefund ships (rules, outcomes, parameters, vocabularies).

They are trusted in origin but still read with the safe loader and validated by their
pydantic model, so an edit that breaks one names the file and the entry at fault.
"""

from __future__ import annotations

from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from casefund.errors import RuleFileError

Model = TypeVar("Model", bound=BaseModel)
_UNREAD: Any = object()
# libyaml's safe loader where PyYAML was built with it (the same documents, ten times faster:
# reading the rule book in pure Python took most of a second of every run).
SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# Either loader builds only plain data (SafeConstructor: no tags that make objects).
assert issubclass(SAFE_LOADER, yaml.constructor.SafeConstructor)


def load_bundled(text: str) -> Any:
    """A bundled YAML document, read by the safe loader (what ``yaml.safe_load`` does, with
    libyaml's parser where there is one)."""
    loader = SAFE_LOADER(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def parse_bundled(model: type[Model], text: str, where: str, raw: Any = _UNREAD) -> Model:
    """A bundled YAML file validated against ``model``, or an error naming file and entry
    (``raw``: the document when the caller has already read it)."""
    try:
        return model.model_validate(load_bundled(text) if raw is _UNREAD else raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise RuleFileError(f"{where}: {problems}") from None
    except yaml.YAMLError as exc:
        raise RuleFileError(f"{where}: not valid YAML ({exc})") from None

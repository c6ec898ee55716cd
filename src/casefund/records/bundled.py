"""Reading the YAML files casefund ships (rules, outcomes, parameters, vocabularies).

They are trusted in origin but still read with the safe loader and validated by their
pydantic model, so an edit that breaks one names the file and the entry at fault.
"""

from __future__ import annotations

from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from casefund.errors import RuleFileError

Model = TypeVar("Model", bound=BaseModel)


def parse_bundled(model: type[Model], text: str, where: str) -> Model:
    """A bundled YAML file validated against ``model``, or an error naming file and entry."""
    try:
        return model.model_validate(yaml.safe_load(text))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise RuleFileError(f"{where}: {problems}") from None
    except yaml.YAMLError as exc:
        raise RuleFileError(f"{where}: not valid YAML ({exc})") from None

"""An invoice CSV whose columns a user maps onto a plan's template."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from casefund.errors import InputError
from casefund.io.safe_yaml import read_yaml_file
from casefund.reports.claims import CLAIM_COLUMNS


def invoice(claims: pd.DataFrame, mapping: dict[str, str] | None = None) -> pd.DataFrame:
    """The claims with columns renamed (and selected, in order) by ``mapping``.

    ``mapping`` is ``{template column: claims column}``; without one, the claims columns.
    """
    if not mapping:
        return claims[CLAIM_COLUMNS].copy()
    unknown = {source for source in mapping.values() if source not in claims.columns}
    if unknown:
        raise InputError(
            f"invoice mapping names unknown claims column(s) {sorted(unknown)}; "
            f"available: {', '.join(CLAIM_COLUMNS)}"
        )
    return pd.DataFrame({target: claims[source].to_numpy() for target, source in mapping.items()})


def load_mapping(path: str | Path) -> dict[str, str]:
    raw = read_yaml_file(Path(path), "invoice mapping") or {}
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise InputError(f"{path}: expected 'template column: claims column' lines")
    return {str(k): v for k, v in raw.items()}

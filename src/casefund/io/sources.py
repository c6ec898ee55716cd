"""Turning a user's table, in whatever form it arrives, into a raw DataFrame."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeAlias

import pandas as pd
from pydantic import BaseModel

from casefund.io.errors import InputError

TableSource: TypeAlias = str | Path | pd.DataFrame | Sequence[Mapping[str, Any] | BaseModel]

_SUFFIXES = (".csv", ".parquet", ".xlsx")


def find_table_file(directory: Path, table: str) -> Path | None:
    """The file holding ``table`` in a data folder, whichever supported format it is in."""
    for suffix in _SUFFIXES:
        candidate = directory / f"{table}{suffix}"
        if candidate.exists():
            return candidate
    return None


def read_source(source: TableSource, table: str) -> tuple[pd.DataFrame, str]:
    """The raw frame and a name for it that error messages can point at."""
    if isinstance(source, pd.DataFrame):
        return source.copy(deep=False), f"{table} (DataFrame)"
    if isinstance(source, str | Path):
        return _read_file(Path(source), table), str(source)
    rows = [r.model_dump() if isinstance(r, BaseModel) else dict(r) for r in source]
    return pd.DataFrame.from_records(rows), f"{table} (records)"


def _read_file(path: Path, table: str) -> pd.DataFrame:
    if not path.exists():
        raise InputError(f"{path}: file not found (table '{table}')")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            if path.stat().st_size == 0:
                return pd.DataFrame()
            return pd.read_csv(
                path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skipinitialspace=True
            )
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix in (".xlsx", ".xlsm"):
            return pd.read_excel(path, sheet_name=0, dtype=object)
    except ImportError as exc:
        extra = "parquet" if suffix == ".parquet" else "xlsx"
        raise InputError(
            f"{path}: reading {suffix} files needs the '{extra}' extra "
            f"(pip install 'casefund[{extra}]')"
        ) from exc
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"{path}: cannot be read as a {suffix} table ({exc})") from exc
    raise InputError(f"{path}: unsupported file type {suffix!r}; use .csv, .parquet or .xlsx")

"""Typed descriptions of every input table and of the contracts file."""

from casefund.records.tables import TABLES, ColumnSpec, TableSpec
from casefund.records.vocabulary import VOCABULARY, suggest

__all__ = ["TABLES", "VOCABULARY", "ColumnSpec", "TableSpec", "suggest"]

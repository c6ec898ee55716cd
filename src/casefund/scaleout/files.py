"""Dealing a large input file into participant partitions without ever holding it.

A county's activities file can be larger than memory. It is read in batches (CSV chunks,
Parquet record batches); each batch's rows are dealt to their participant's partition and
appended, with their row numbers in the whole file, to that partition's Arrow file. Only
the trimmed activity ids are kept from every batch, to find ids repeated across the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from casefund.errors import InputError
from casefund.io.own_files import create_new
from casefund.io.sources import UNREADABLE, check_header, read_source
from casefund.io.validate import ROW, check_columns, normalise_columns
from casefund.records.tables import TableSpec

BATCH_ROWS = 500_000


def read_batches(path: Path, table: str, rows: int | None = None) -> Iterator[pd.DataFrame]:
    """The file's rows in batches of raw text (as :func:`read_source` would read them)."""
    rows = rows or BATCH_ROWS
    suffix = path.suffix.lower()
    check_header(path, table)
    try:
        if suffix == ".csv" and path.stat().st_size > 0:
            yield from pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                encoding="utf-8-sig",
                skipinitialspace=True,
                chunksize=rows,
            )
            return
        if suffix == ".parquet":
            import pyarrow.parquet as pq  # type: ignore[import-untyped]

            for batch in pq.ParquetFile(path).iter_batches(batch_size=rows):
                yield batch.to_pandas()
            return
    except UNREADABLE as exc:
        raise InputError(f"{path}: cannot be read as a {suffix} table ({exc})") from None
    yield read_source(path, table)[0]  # spreadsheets and empty files: whole


@dataclass
class PartitionFiles:
    """Per-partition Arrow files of one table, appended batch by batch."""

    folder: Path
    table: str
    rows: dict[int, int] = field(default_factory=dict)  # rows written per partition
    _writers: dict[int, Any] = field(default_factory=dict)
    _files: list[Any] = field(default_factory=list)
    _schema: Any = None

    def path(self, part: int) -> Path:
        return self.folder / f"part-{part:04d}" / f"{self.table}.arrow"

    def append(self, part: int, piece: pd.DataFrame) -> None:
        import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

        table = pa.Table.from_pandas(piece, preserve_index=False)
        if self._schema is None:
            self._schema = table.schema
        else:
            table = table.select(self._schema.names).cast(self._schema)
        if part not in self._writers:
            self.path(part).parent.mkdir(parents=True, exist_ok=True)
            sink = create_new(self.path(part))
            self._files.append(sink)
            self._writers[part] = pa.ipc.new_file(sink, self._schema)
        self._writers[part].write_table(table)
        self.rows[part] = self.rows.get(part, 0) + len(piece)

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        for sink in self._files:
            sink.close()


def split_file_by_participant(
    path: Path,
    spec: TableSpec,
    origin: str,
    folder: Path,
    part_of: Callable[[pd.DataFrame], np.ndarray],
) -> tuple[int, pd.DataFrame, list[str], dict[int, int]]:
    """Deal a file's rows into partition files; returns the row count, for a keyed table its
    trimmed keys with their row numbers (Arrow strings, for the repeated-key check), the
    notices for the columns that are not read, and the rows written per partition."""
    files = PartitionFiles(folder, spec.name)
    offset = 0
    keys: list[pd.DataFrame] = []
    columns: list[str] | None = None
    notices: list[str] = []
    try:
        for raw in read_batches(path, spec.name):
            batch = normalise_columns(raw)
            if columns is None:
                notices = check_columns(batch, spec, origin)
                columns = list(batch.columns)
            elif list(batch.columns) != columns:
                batch = batch.reindex(columns=columns)
            rows = np.arange(offset + 1, offset + len(batch) + 1, dtype=np.int64)
            if spec.key is not None and spec.key in batch:
                keys.append(
                    pd.DataFrame({"key": batch[spec.key].astype("string").str.strip(), ROW: rows})
                )
            where = part_of(batch)
            for part in np.unique(where).tolist():
                mine = np.flatnonzero(where == part)
                files.append(part, batch.iloc[mine].assign(**{ROW: rows[mine]}))
            offset += len(batch)
    finally:
        files.close()
    key_frame = (
        pd.concat(keys, ignore_index=True)
        if keys
        else pd.DataFrame({"key": pd.Series(dtype="string"), ROW: pd.Series(dtype="int64")})
    )
    return offset, key_frame, notices, files.rows

"""An output kept in files rather than memory: the partitions' denials, read a day at a time.

At ten million activities the denials are over a hundred million rows (one per activity ×
contract × deciding rule); gathering them in one process took several times the memory of
every other output together. So each partition writes its own denials — already in the
single pass's order within the partition (service day, participant, activity, contract,
rule) — to an Arrow file with one record batch per service day. A participant lives in one
partition, so the single pass's order is each day's batches from every partition,
interleaved by participant: the table can be written, counted and searched one day at a
time, and never exists whole unless a caller asks for it as a DataFrame.
"""

from __future__ import annotations

import shutil
import weakref
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]

from casefund.errors import InputError
from casefund.io.own_files import create_new, open_own
from casefund.records.frames import concat_frames, text_rank

DAY, PARTICIPANT = "service_date", "participant_id"


@dataclass(frozen=True)
class Piece:
    """One partition's rows of a stored output: where they are, and what reading them back
    must find (the service day and row count of each record batch, and the distinct values
    of each categorical column, so the reasons catalog needs no pass over the rows)."""

    path: Path
    days: tuple[str, ...]
    counts: tuple[int, ...]
    columns: tuple[str, ...]
    values: dict[str, tuple[str, ...]]

    @property
    def rows(self) -> int:
        return sum(self.counts)


def write_piece(frame: pd.DataFrame, path: Path) -> Piece:
    """``frame`` (in order of service day first) as an Arrow file, one batch per day. A file
    or link already at ``path`` (a retried task's) is replaced, never written through."""
    starts = np.zeros(0, dtype=np.int64)
    if len(frame):
        day = text_rank(frame[DAY])
        if bool((np.diff(day) < 0).any()):
            raise RuntimeError(f"{path}: rows to store are not in order of service day")
        starts = np.flatnonzero(np.diff(day, prepend=-1))
    stops = np.append(starts[1:], len(frame)).astype(np.int64) if len(starts) else starts
    table = pa.Table.from_pandas(frame, preserve_index=False).combine_chunks()
    batches = table.to_batches()
    whole = batches[0] if batches else None
    days = frame[DAY].iloc[starts].astype(str).tolist() if len(frame) else []
    path.unlink(missing_ok=True)
    with create_new(path) as sink, pa.ipc.new_file(sink, table.schema) as writer:
        for start, stop in zip(starts.tolist(), stops.tolist(), strict=True):
            assert whole is not None, "rows exist, so one combined batch does"
            writer.write_batch(whole.slice(start, stop - start))
    values = {
        str(name): tuple(str(v) for v in frame[name].cat.categories)
        for name in frame.columns
        if isinstance(frame[name].dtype, pd.CategoricalDtype)
    }
    counts = tuple(int(n) for n in stops - starts)
    return Piece(path, tuple(days), counts, tuple(str(c) for c in frame.columns), values)


class StoredTable:
    """The partitions' pieces of one output, in the single pass's row order.

    ``chunks()`` yields it a service day at a time; ``frame()`` gathers it (what
    ``evaluation.table("denials")`` returns; ``evaluation.denials`` is that, typed). The
    files are removed with the folder that holds them when this object is collected, or
    when the interpreter exits."""

    def __init__(self, pieces: list[Piece]) -> None:
        self.pieces = pieces
        self.columns = next((list(p.columns) for p in pieces), [])
        self.folder: _Folder | None = None  # kept alive by every table stored in it

    def __len__(self) -> int:
        return sum(p.rows for p in self.pieces)

    def values(self, name: str) -> pd.Series:
        """The distinct values of a categorical column, across every piece."""
        found = sorted({v for p in self.pieces for v in p.values.get(name, ())})
        return pd.Series(found, dtype=object)

    def chunks(self) -> Iterator[pd.DataFrame]:
        """The rows a service day at a time, in the single pass's order (one empty frame with
        the columns when there are no rows, so a writer can still write the header)."""
        with ExitStack() as stack:
            readers = [stack.enter_context(_Reader(piece)) for piece in self.pieces]
            days = sorted({day for piece in self.pieces for day in piece.days})
            if not days:
                yield self._empty(readers)
                return
            for day in days:
                parts = [reader.day(day) for reader in readers]
                found = [part for part in parts if part is not None]
                if len(found) == 1:
                    yield found[0]
                    continue
                chunk = concat_frames(found)
                order = np.argsort(text_rank(chunk[PARTICIPANT]), kind="stable")
                yield chunk.take(order).reset_index(drop=True)

    def frame(self) -> pd.DataFrame:
        return concat_frames(list(self.chunks()))

    def rows_where(self, column: str, value: str) -> pd.DataFrame:
        """The rows whose ``column`` equals ``value``, found by Arrow batch by batch."""
        found: list[pd.DataFrame] = []
        with ExitStack() as stack:
            readers = [stack.enter_context(_Reader(piece)) for piece in self.pieces]
            for reader in readers:
                found.extend(reader.matching(column, value))
            if not found:
                return self._empty(readers)
        return concat_frames(found) if len(found) > 1 else found[0]

    def _empty(self, readers: list[_Reader]) -> pd.DataFrame:
        if readers:
            empty: pd.DataFrame = readers[0].schema.empty_table().to_pandas()
            return empty
        return pd.DataFrame({name: pd.Series(dtype=object) for name in self.columns})


class _Folder:
    """A run's folder of stored pieces, removed once no table stored in it is left (or when
    the interpreter exits)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        weakref.finalize(self, shutil.rmtree, path, ignore_errors=True)


def keep_folder(tables: list[StoredTable], folder: Path) -> None:
    """Let ``tables`` own ``folder``, which holds their pieces: every other file in it is
    removed now, the folder itself when the last of the tables is gone."""
    kept = {piece.path.resolve() for table in tables for piece in table.pieces}
    for path in sorted(folder.rglob("*"), reverse=True):  # files before their folders
        if path.resolve() in kept:
            continue
        if path.is_dir() and not path.is_symlink():
            if not any(path.iterdir()):
                path.rmdir()
        else:
            path.unlink(missing_ok=True)
    owner = _Folder(folder)
    for table in tables:
        table.folder = owner


class _Reader:
    """One piece's file, opened once, checked against what its partition said it wrote."""

    def __init__(self, piece: Piece) -> None:
        self.piece = piece
        self.batch_of = {day: i for i, day in enumerate(piece.days)}

    def __enter__(self) -> _Reader:
        try:
            self.file = open_own(self.piece.path)
            self.reader = pa.ipc.open_file(self.file)
        except (OSError, pa.ArrowInvalid) as exc:
            raise InputError(
                f"{self.piece.path}: a partition's stored output cannot be read ({exc}); "
                "the run's folder was removed or changed while it was in use"
            ) from None
        if self.reader.num_record_batches != len(self.piece.days):
            raise InputError(
                f"{self.piece.path}: {self.reader.num_record_batches} record batches where "
                f"the partition wrote {len(self.piece.days)}; refusing a partial or replaced file"
            )
        return self

    def __exit__(self, *exc: object) -> None:
        self.file.close()

    @property
    def schema(self) -> Any:
        return self.reader.schema

    def day(self, day: str) -> pd.DataFrame | None:
        at = self.batch_of.get(day)
        return None if at is None else self._batch(at).to_pandas()

    def matching(self, column: str, value: str) -> Iterator[pd.DataFrame]:
        for at in range(len(self.piece.days)):
            batch = self._batch(at)
            mask = pc.equal(batch.column(column).cast(pa.string()), pa.scalar(value))
            chosen = batch.filter(pc.fill_null(mask, False))
            if chosen.num_rows:
                yield chosen.to_pandas()

    def _batch(self, at: int) -> Any:
        batch = self.reader.get_batch(at)
        if batch.num_rows != self.piece.counts[at]:
            raise InputError(
                f"{self.piece.path}: {batch.num_rows:,} rows for {self.piece.days[at]} where "
                f"the partition wrote {self.piece.counts[at]:,}; refusing a partial or "
                "replaced file"
            )
        return batch

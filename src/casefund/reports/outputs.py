"""Every output of an evaluation, built from its lines and eligibility decisions in one place.

``OUTPUTS`` is the registry: each output's name (its file is ``<name>.csv``), the
function that builds it and, where the file leaves some in-memory columns out, the columns
it writes. :func:`assemble` runs them for the single pass and for combined
partitions alike, so a new output is one entry here plus its own module.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from casefund._version import __version__
from casefund.allocate.lines import DENIAL_COLUMNS, LINE_COLUMNS
from casefund.errors import InputError
from casefund.io.load import Dataset
from casefund.reports.admin_cap import build_admin_cap
from casefund.reports.breakdown import build_breakdown
from casefund.reports.caseloads import build_caseloads
from casefund.reports.charge_caps import build_charge_caps
from casefund.reports.claims import build_claims
from casefund.reports.columns import KINDS, exact
from casefund.reports.explanation import ActivityRecords, Explanation, explain_records
from casefund.reports.files import (
    FORMATS,
    claim_folder,
    stamped,
    write_chunks,
    write_manifest,
    write_table,
    write_workbook,
)
from casefund.reports.functions import build_functions
from casefund.reports.reasons import build_reasons, ids_in, reason_texts
from casefund.reports.recertification import build_recertification
from casefund.reports.recoverable import build_recoverable
from casefund.reports.stored import StoredTable
from casefund.reports.summary_sheet import SUMMARY, SUMMARY_KINDS, summary_charts, summary_frame
from casefund.reports.terms import build_terms
from casefund.reports.typed import typed
from casefund.rules.book import RuleBook, rule_book

# An output in memory, or (a partitioned run's denials) in its partitions' files.
Table = pd.DataFrame | StoredTable


@dataclass(frozen=True)
class Parts:
    """What every output is built from."""

    data: Dataset
    lines: pd.DataFrame  # every line, with the in-memory staff columns
    denials: Table
    eligibility: pd.DataFrame
    book: RuleBook
    as_of: dt.date | None  # the day recertification is judged on


@dataclass(frozen=True)
class Output:
    build: Callable[[Parts], Table]
    written: list[str] | None = None  # the columns its file holds (None: every column)


OUTPUTS: dict[str, Output] = {
    "lines": Output(lambda p: p.lines, LINE_COLUMNS),
    "denials": Output(lambda p: p.denials, DENIAL_COLUMNS),
    "claims": Output(lambda p: build_claims(p.lines)),
    "eligibility": Output(lambda p: p.eligibility),
    "breakdown": Output(lambda p: build_breakdown(p.lines)),
    "admin_cap": Output(lambda p: build_admin_cap(p.data["expenses"], p.data.contracts, p.book)),
    "recertification": Output(
        lambda p: build_recertification(p.data["coverage"], p.data.contracts, p.book, p.as_of)
    ),
    "charge_caps": Output(
        lambda p: build_charge_caps(
            p.data["charges"], p.data.participants, p.data.contracts, p.book
        )
    ),
    "rejects": Output(lambda p: p.data.rejects),
    "recoverable": Output(lambda p: build_recoverable(p.lines, p.data.contracts, p.book)),
    "terms": Output(lambda p: build_terms(p.data.contracts, p.book)),
    "caseloads": Output(lambda p: build_caseloads(p.data, p.lines, p.book)),
    "functions": Output(lambda p: build_functions(p.lines, p.data.contracts, p.book)),
    "reasons": Output(
        lambda p: build_reasons(
            p.book,
            ids_in(
                [
                    p.lines["reasons"],
                    p.lines["primary_reason"],
                    _column_values(p.denials, "rule_id"),
                    p.eligibility["reasons"],
                    p.eligibility["not_tested"],
                ]
            ),
        )
    ),
}


@dataclass
class Evaluation:
    """An evaluation's outputs (``evaluation.claims``, …, one attribute per entry of
    ``OUTPUTS``) and their provenance.

    An attribute is the output typed for Python code (:mod:`casefund.reports.typed`): days
    as ``datetime64``, months as ``period[M]``, a blank cell missing (``<NA>``), casefund's
    own vocabularies as categories. ``evaluation.table(name)`` is the output as built,
    holding what its file holds (text days and months, ``""`` for blank).
    ``evaluation.lines`` is the full lines table: in memory it also carries each line's
    ``staff_id``, ``hourly_cost`` and ``pass_through``, which ``lines.csv`` leaves out."""

    frames: dict[str, Table]
    version: str
    rules_hash: str
    input_hashes: Mapping[str, str] = field(default_factory=dict)
    dataset: Dataset | None = None
    as_of: dt.date | None = None  # the day recertification was judged on
    _typed: dict[str, pd.DataFrame] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __getattr__(self, name: str) -> pd.DataFrame:
        frames = self.__dict__.get("frames", {})
        if name in frames:
            cache = self.__dict__.setdefault("_typed", {})
            if name not in cache:  # converted once, on first use
                cache[name] = typed(name, _frame(frames[name]))
            found: pd.DataFrame = cache[name]
            return found
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def table(self, name: str) -> pd.DataFrame:
        """The output ``name`` as built: what its file holds (ISO text days, ``""`` for a
        blank cell), categorical text, every in-memory column."""
        if name not in self.frames:
            raise KeyError(f"no output named {name!r} (outputs: {', '.join(self.frames)})")
        return _frame(self.frames[name])

    def outputs(self) -> dict[str, pd.DataFrame]:
        """Every output with the columns its file holds, as built (see :meth:`table`), in
        registry order."""
        return {name: _written(name, _frame(frame)) for name, frame in self.frames.items()}

    def explain(self, activity_id: str) -> Explanation:
        """Why the activity's minutes went where they went: per contract, the decision, the
        rules and outcomes that decided with their reasons and citations, and the parameter
        values they read with where each came from (see :mod:`casefund.reports.explanation`).
        An id not among the lines is an :class:`InputError`."""
        lines = _rows_where(self.frames["lines"], activity_id)
        if not lines:
            raise InputError(f"activity '{activity_id}' is not in the evaluated activities")
        reasons = _frame(self.frames["reasons"])
        records = ActivityRecords(
            activity_id=activity_id,
            lines=lines,
            denials=_rows_where(self.frames["denials"], activity_id),
            reasons={r["rule_id"]: r for r in _text_rows(reasons)},
            terms=_text_rows(_frame(self.frames["terms"])),
            version=self.version,
            rules_hash=self.rules_hash,
        )
        return explain_records(records)

    def with_reasons(self, name: str = "lines") -> pd.DataFrame:
        """An output with its reason ids joined to the catalog: ``reason_texts`` and
        ``citations`` per row (the former ``citations`` column of lines, and the
        eligibility explanations, as a join)."""
        frame = _frame(self.frames[name])
        column = "rule_id" if name == "denials" else "reasons"
        book = rule_book()
        return frame.assign(
            reason_texts=reason_texts(book, frame[column]),
            citations=reason_texts(book, frame[column], "citation"),
        )

    def manifest(self) -> dict[str, Any]:
        return {
            "casefund_version": self.version,
            "rules_hash": self.rules_hash,
            "command": "evaluate",
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "inputs": dict(self.input_hashes),
            "rows": {name: len(frame) for name, frame in self.frames.items()},
        }

    def write(
        self,
        outdir: str | Path,
        xlsx: bool = False,
        keep: tuple[str, ...] = (),
        form: str = "csv",
    ) -> list[Path]:
        """Each output as ``<name>.csv`` (``form="parquet"``: ``<name>.parquet``, the same
        columns and values) with the casefund version and rules hash as columns, a
        ``manifest.json`` with the input hashes, the format and the files written, and on
        request one workbook. ``outdir`` becomes this run's folder: a folder holding files
        casefund did not write is refused; an earlier run's files are replaced; ``keep``
        names entries already written for this run.

        The two provenance columns ride on every row so a file separated from its folder
        still says which casefund and which rule files produced it."""
        if form not in FORMATS:
            raise InputError(f"unknown output format '{form}'; use one of {', '.join(FORMATS)}")
        out = Path(outdir)
        claim_folder(out, keep)
        written = [self._write_one(name, table, out, form) for name, table in self.frames.items()]
        if xlsx:
            sheets = {name: self._stamped(name, _frame(t)) for name, t in self.frames.items()}
            sheets[SUMMARY] = summary_frame(_frame(self.frames["breakdown"]))
            kinds = {**KINDS, SUMMARY: SUMMARY_KINDS}
            written.append(write_workbook(sheets, out / "casefund.xlsx", kinds, summary_charts))
        manifest = {**self.manifest(), "files": sorted(keep), "xlsx": xlsx, "format": form}
        written.append(write_manifest(out, manifest, written))
        return written

    def _stamped(self, name: str, frame: pd.DataFrame) -> pd.DataFrame:
        return stamped(frame, self.version, self.rules_hash, OUTPUTS[name].written)

    def _write_one(self, name: str, table: Table, out: Path, form: str) -> Path:
        if isinstance(table, StoredTable):  # a day at a time, never gathered
            chunks = (self._stamped(name, chunk) for chunk in table.chunks())
            return write_chunks(chunks, out, name, form)
        return write_table(self._stamped(name, table), out, name, form)


def _frame(table: Table) -> pd.DataFrame:
    """An output as a DataFrame (a stored one gathered from its files)."""
    return table.frame() if isinstance(table, StoredTable) else table


def _column_values(table: Table, name: str) -> pd.Series:
    """A column, or for a stored output the distinct values its pieces hold."""
    return table.values(name) if isinstance(table, StoredTable) else table[name]


def _text_rows(frame: pd.DataFrame) -> list[dict[str, str]]:
    """Rows as the CSV files hold them: every value as text, blank where missing."""
    as_text = frame.astype(object).where(frame.notna(), "").astype(str)
    return [{str(k): str(v) for k, v in row.items()} for row in as_text.to_dict("records")]


def _rows_where(table: Table, activity_id: str) -> list[dict[str, str]]:
    if isinstance(table, StoredTable):
        return _text_rows(table.rows_where("activity_id", activity_id))
    frame = table
    mine = (frame["activity_id"].astype(str) == activity_id).to_numpy(dtype=bool)
    return _text_rows(frame.loc[mine])


def _written(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    columns = OUTPUTS[name].written
    return frame if columns is None else frame[columns]


def last_service_date(lines: pd.DataFrame) -> dt.date | None:
    """The latest service date of an accepted activity (the run's 'as of' day)."""
    dates = lines.loc[(lines["status"] != "rejected").to_numpy(dtype=bool), "service_date"]
    used = pd.unique(dates.astype(object))
    text = max((str(d) for d in used if d), default="")
    return dt.date.fromisoformat(text) if text else None


def _exact(name: str, table: Table) -> Table:
    """An output with its declared numbers rounded to their places (stored tables are
    written already exact: denials hold whole minutes only)."""
    if isinstance(table, StoredTable):
        return table
    return exact(table, KINDS.get(name, {}))


def assemble(
    data: Dataset,
    lines: pd.DataFrame,
    denials: Table,
    eligibility: pd.DataFrame,
    hashes: Mapping[str, str],
    as_of: dt.date | None = None,
) -> Evaluation:
    """An evaluation from its lines and eligibility: every output is built here, once, for
    the single pass and for combined partitions alike. ``as_of`` (default: the last service
    date) is the day recertification is judged on."""
    book = rule_book()
    day = as_of or last_service_date(lines)
    parts = Parts(data, lines, denials, eligibility, book, day)
    frames = {name: _exact(name, output.build(parts)) for name, output in OUTPUTS.items()}
    return Evaluation(frames, __version__, book.digest, hashes, data, day)

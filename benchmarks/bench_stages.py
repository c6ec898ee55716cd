"""Where a one-pass evaluation spends its time, stage by stage.

    python benchmarks/bench_stages.py --activities 1000000

Generates a synthetic agency, then evaluates it once with a timer around each stage of the
flow (validation, adjudication, waterfall, lines, denials, eligibility, the other reports,
writing every CSV) and prints each stage's seconds and share. The stages are timed by
wrapping the functions that implement them, so the figures add up to the whole run.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import casefund
import casefund.allocate.lines as lines_module
import casefund.evaluation as evaluation_module
from casefund.engine.adjudication import Adjudication
from casefund.io.load import load_dataset
from casefund.synthetic import Shape, demo_contracts, generate

SPENT: dict[str, float] = {}


def _timed(label: str, func: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            SPENT[label] = SPENT.get(label, 0.0) + time.perf_counter() - start

    return wrapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--activities", type=int, default=1_000_000)
    args = parser.parse_args()
    participants = max(10, int(args.activities / (8 * 12 * 1.02)))
    tables = generate(Shape(participants=participants, seed=7, malformed_share=0.0005))
    contracts = demo_contracts()
    casefund.evaluate(generate(Shape(participants=20, months=2)), contracts)  # warm up
    made = Adjudication.of.__func__  # type: ignore[attr-defined]
    Adjudication.of = classmethod(_timed("adjudication (order, facts)", made))  # type: ignore[method-assign]
    lines_module.allocate = _timed(
        "waterfall (decisions, payments, denial log)", lines_module.allocate
    )
    lines_module.lines_of = _timed("lines (incl. primary reasons)", lines_module.lines_of)
    lines_module.denials_of = _timed("denials table", lines_module.denials_of)
    evaluation_module.monthly_eligibility = _timed(
        "eligibility", evaluation_module.monthly_eligibility
    )
    evaluation_module.assemble = _timed("reports (assemble)", evaluation_module.assemble)
    start = time.perf_counter()
    dataset = _timed("validation (load_dataset)", load_dataset)(tables, contracts)
    evaluation = evaluation_module.evaluate_dataset(dataset)
    with tempfile.TemporaryDirectory() as folder:
        _timed("writing every CSV", evaluation.write)(Path(folder))
    total = time.perf_counter() - start
    n = len(tables["activities"])
    print(f"{n:,} activities; load average {os.getloadavg()[0]:.2f}; total {total:.1f} s")
    for label, seconds in SPENT.items():
        print(f"  {label:<44} {seconds:6.2f} s  {seconds / total:5.1%}")
    print(f"  {'other':<44} {total - sum(SPENT.values()):6.2f} s")


if __name__ == "__main__":
    main()

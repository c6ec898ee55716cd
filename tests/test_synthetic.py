"""The generator behind the demo, the benchmarks and the property tests must give a valid
dataset for every shape, including the empty ones hypothesis likes to draw."""

from __future__ import annotations

import pytest

import casefund
from casefund.synthetic import Shape, demo_contracts, generate


@pytest.mark.parametrize(
    "shape",
    [
        Shape(participants=3, months=1, contacts_per_month=0.0),
        Shape(participants=0, months=1),
    ],
    ids=["no activities", "no participants"],
)
def test_regression_generator_with_no_activities_gives_empty_tables(shape: Shape) -> None:
    # NumPy 2.4's zfill has no width for an empty array, so a draw of no activities (or no
    # participants) raised ValueError in the property tests instead of giving empty tables.
    tables = generate(shape)
    assert tables["activities"].empty
    assert list(tables["activities"].columns)[:2] == ["activity_id", "participant_id"]
    result = casefund.evaluate(tables, demo_contracts())
    assert result.lines.empty
    assert result.rejects.empty


def test_ids_are_zero_padded_and_unique() -> None:
    tables = generate(Shape(participants=12, months=1, seed=3))
    ids = tables["activities"]["activity_id"]
    assert ids.str.fullmatch(r"A\d{8}").all()
    assert ids.is_unique
    assert tables["participants"]["participant_id"].str.fullmatch(r"P\d{6}").all()

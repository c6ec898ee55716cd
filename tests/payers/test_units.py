"""Minutes to units, checked against the examples in the cited sources."""

import numpy as np
import pytest

from casefund.units.policies import day_units_to_activities, units_for_minutes


@pytest.mark.parametrize(
    ("minutes", "units"),
    [
        (7, 0),
        (8, 1),
        (22, 1),
        (23, 2),
        (37, 2),
        (38, 3),
        (52, 3),
        (53, 4),
        (67, 4),
        (68, 5),
        (82, 5),
        (83, 6),
        (97, 6),
        (98, 7),
        (112, 7),
        (113, 8),
        (127, 8),
    ],
)
def test_cms_8_minute_table(minutes: int, units: int) -> None:
    # Medicare Claims Processing Manual ch. 5 §20.2: 8–22 minutes = 1 unit, 23–37 = 2, …
    assert units_for_minutes(np.array([minutes]), 15, "cms_8_minute")[0] == units


@pytest.mark.parametrize(
    ("minutes", "units"), [(15, 0), (16, 1), (45, 1), (46, 2), (75, 2), (76, 3), (105, 3)]
)
def test_midpoint_thirty_minute_code(minutes: int, units: int) -> None:
    # CPT time rule: for a 30-minute code 16–45 minutes = 1 unit, 46–75 = 2, 76–105 = 3.
    assert units_for_minutes(np.array([minutes]), 30, "midpoint")[0] == units


def test_midpoint_hour_attained_at_31_and_second_at_91() -> None:
    assert list(units_for_minutes(np.array([30, 31, 90, 91]), 60, "midpoint")) == [0, 1, 1, 2]


def test_whole_units_counts_only_completed_increments() -> None:
    # 10 CCR 2505-10 §8.763.C: each completed 15-minute increment.
    assert list(units_for_minutes(np.array([14, 15, 29, 30]), 15, "whole_units")) == [0, 1, 1, 2]


def test_cms_example_33_and_7_minutes_bill_two_and_one() -> None:
    # §20.2 example: 33 min of 97110 + 7 min of 97140 = 40 min = 3 units: 2 + 1.
    minutes = np.array([33, 7])
    day_units = units_for_minutes(np.array([40]), 15, "cms_8_minute")
    shares = day_units_to_activities(np.array([0, 0]), minutes, np.array([0, 1]), day_units, 15)
    assert list(shares) == [2, 1]


def test_two_short_services_bill_one_unit_to_the_longer() -> None:
    # §20.2: two services of 7 minutes or less totalling 8 or more bill 1 unit, to the longer.
    minutes = np.array([5, 7])
    day_units = units_for_minutes(np.array([12]), 15, "cms_8_minute")
    shares = day_units_to_activities(np.array([0, 0]), minutes, np.array([0, 1]), day_units, 15)
    assert list(shares) == [0, 1]


def test_encounter_is_one_unit_whatever_the_minutes() -> None:
    assert list(units_for_minutes(np.array([1, 90]), 15, "encounter")) == [1, 1]

"""Invoice periods (期別): even-month codes, boundaries and deadlines (reference §1.2, §1.5)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.period import Period


@pytest.mark.parametrize(
    ("day", "code"),
    [
        (date(2024, 11, 5), "11312"),  # the reference's own example: not 11311
        (date(2024, 12, 31), "11312"),
        (date(2024, 1, 1), "11302"),
        (date(2015, 3, 20), "10404"),  # 1D barcode spec example: March 2015 is period 10404
        (date(2025, 11, 1), "11412"),  # API.md: 11412 = Nov-Dec 2025
        (date(2025, 7, 31), "11408"),
    ],
)
def test_a_date_belongs_to_the_period_named_by_its_even_month(day: date, code: str) -> None:
    assert Period.from_date(day).code == code


def test_label_matches_the_printed_proof() -> None:
    assert Period.parse("11312").label_zh == "113年11-12月"


def test_first_and_last_day_follow_the_calendar() -> None:
    leap = Period.parse("11302")
    assert (leap.first_day, leap.last_day) == (date(2024, 1, 1), date(2024, 2, 29))
    assert Period.parse("11402").last_day == date(2025, 2, 28)
    assert Period.parse("11312").last_day == date(2024, 12, 31)


def test_deadlines_fall_in_the_next_period() -> None:
    november = Period.parse("11312")
    assert november.filing_deadline == date(2025, 1, 15)  # VAT Act §35
    assert november.blank_number_deadline == date(2025, 1, 10)  # E0402
    assert Period.parse("11404").filing_deadline == date(2025, 5, 15)


def test_next_and_previous_cross_the_year() -> None:
    assert Period.parse("11312").next() == Period.parse("11402")
    assert Period.parse("11402").previous() == Period.parse("11312")
    assert Period.parse("11306").next() == Period.parse("11308")


@pytest.mark.parametrize(
    "code",
    ["11311", "11313", "11300", "11314", "1131", "113120", "00012", "１１３１２", "11312\n", "", "abcde"],
)
def test_malformed_or_odd_codes_are_refused(code: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Period.parse(code, "period")
    assert caught.value.code == "INVALID_PERIOD"
    assert caught.value.field == "period"


def test_a_numeric_code_is_refused_because_codes_are_strings() -> None:
    with pytest.raises(InvalidInput):
        Period.parse(11312)


def test_contains_accepts_datetimes() -> None:
    assert Period.parse("11312").contains(datetime(2024, 12, 31, 23, 59, 59))
    assert not Period.parse("11312").contains(date(2025, 1, 1))


dates = st.dates(min_value=date(1912, 1, 1), max_value=date(2899, 12, 31))


@given(dates)
def test_period_code_round_trips_and_contains_its_dates(day: date) -> None:
    period = Period.from_date(day)
    assert Period.parse(period.code) == period
    assert period.contains(day)
    assert period.first_day <= day <= period.last_day
    assert int(period.code[:3]) == day.year - 1911
    assert int(period.code[3:]) % 2 == 0


@given(dates.filter(lambda d: d < date(2899, 12, 1)))
def test_periods_tile_the_calendar_without_gaps(day: date) -> None:
    period = Period.from_date(day)
    assert Period.from_date(period.last_day + timedelta(days=1)) == period.next()
    assert period.next().previous() == period
    assert (period.last_day - period.first_day).days in range(58, 62)

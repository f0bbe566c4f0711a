"""The working calendar against the government's office calendar, 2024–2026.

Source of every expected date below, written by hand: 行政院人事行政總處「113年／114年／115年政府
行政機關辦公日曆表」(the office calendars for 2024, 2025 and 2026), with their make-up working days
(補行上班日) and bridge days off (彈性放假). None is read from the holidays package or the code.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from chalicelib.adapters.taiwan_calendar import TaiwanCalendar
from chalicelib.domain.period import Period
from chalicelib.domain.working_days import blank_number_deadline, filing_deadline, next_working_day

# Weekdays (Mon–Fri) that are days off, per the office calendars.
WEEKDAYS_OFF = {
    2024: [
        "2024-01-01",
        "2024-02-08",  # 彈性放假, made up on Saturday 2024-02-17
        "2024-02-09",
        "2024-02-12",
        "2024-02-13",
        "2024-02-14",
        "2024-02-28",
        "2024-04-04",
        "2024-04-05",
        "2024-06-10",
        "2024-09-17",
        "2024-10-10",
    ],
    2025: [
        "2025-01-01",
        "2025-01-27",  # 彈性放假, made up on Saturday 2025-02-08
        "2025-01-28",
        "2025-01-29",
        "2025-01-30",
        "2025-01-31",
        "2025-02-28",
        "2025-04-03",
        "2025-04-04",
        "2025-05-30",
        "2025-09-29",  # 教師節 (Sunday 09-28) 補假
        "2025-10-06",
        "2025-10-10",
        "2025-10-24",  # 臺灣光復暨金門古寧頭大捷紀念日 (Saturday 10-25) 補假
        "2025-12-25",
    ],
    2026: [
        "2026-01-01",
        "2026-02-16",
        "2026-02-17",
        "2026-02-18",
        "2026-02-19",
        "2026-02-20",
        "2026-02-27",  # 和平紀念日 (Saturday 02-28) 補假
        "2026-04-03",
        "2026-04-06",
        "2026-05-01",  # 勞動節, a day off for everyone from 2026
        "2026-06-19",
        "2026-09-25",
        "2026-09-28",
        "2026-10-09",  # 國慶日 (Saturday 10-10) 補假
        "2026-10-26",  # 光復節 (Sunday 10-25) 補假
        "2026-12-25",
    ],
}
# Saturdays that are working days (補行上班日). The 2026 calendar has none.
MAKE_UP_SATURDAYS = ["2024-02-17", "2025-02-08"]


def _days(year: int) -> list[date]:
    day, days = date(year, 1, 1), []
    while day.year == year:
        days.append(day)
        day += timedelta(days=1)
    return days


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_every_day_of_the_year_is_worked_or_not_as_the_office_calendar_says(year: int) -> None:
    calendar = TaiwanCalendar()
    off = {date.fromisoformat(d) for d in WEEKDAYS_OFF[year]}
    worked_saturdays = {date.fromisoformat(d) for d in MAKE_UP_SATURDAYS}
    wrong = [
        day
        for day in _days(year)
        if calendar.is_working_day(day) != ((day.weekday() < 5 and day not in off) or day in worked_saturdays)
    ]
    assert wrong == []


# Every filing (15th) and E0402 (10th) deadline of 2024–2026, moved off a day off by hand.
DEADLINES = [
    # period, return due, unused numbers due
    ("11212", "2024-01-15", "2024-01-10"),
    ("11302", "2024-03-15", "2024-03-11"),  # 03-10 Sunday
    ("11304", "2024-05-15", "2024-05-10"),
    ("11306", "2024-07-15", "2024-07-10"),
    ("11308", "2024-09-16", "2024-09-10"),  # 09-15 Sunday
    ("11310", "2024-11-15", "2024-11-11"),  # 11-10 Sunday
    ("11312", "2025-01-15", "2025-01-10"),
    ("11402", "2025-03-17", "2025-03-10"),  # 03-15 Saturday: the example
    ("11404", "2025-05-15", "2025-05-12"),  # 05-10 Saturday
    ("11406", "2025-07-15", "2025-07-10"),
    ("11408", "2025-09-15", "2025-09-10"),
    ("11410", "2025-11-17", "2025-11-10"),  # 11-15 Saturday
    ("11412", "2026-01-15", "2026-01-12"),  # 01-10 Saturday
    ("11502", "2026-03-16", "2026-03-10"),  # 03-15 Sunday
    ("11504", "2026-05-15", "2026-05-11"),  # 05-10 Sunday
    ("11506", "2026-07-15", "2026-07-10"),
    ("11508", "2026-09-15", "2026-09-10"),
    ("11510", "2026-11-16", "2026-11-10"),  # 11-15 Sunday
]


@pytest.mark.parametrize(("period", "return_due", "blank_due"), DEADLINES)
def test_the_deadlines_of_2024_to_2026(period: str, return_due: str, blank_due: str) -> None:
    calendar = TaiwanCalendar()
    assert filing_deadline(Period.parse(period), calendar) == date.fromisoformat(return_due)
    assert blank_number_deadline(Period.parse(period), calendar) == date.fromisoformat(blank_due)


@pytest.mark.parametrize(
    ("day", "next_worked"),
    [
        ("2024-02-08", "2024-02-15"),  # the 2024 Lunar New Year break
        ("2024-02-17", "2024-02-17"),  # a make-up Saturday is worked
        ("2025-01-25", "2025-02-03"),  # the 2025 Lunar New Year break
        ("2025-02-08", "2025-02-08"),
        ("2026-02-14", "2026-02-23"),  # the 2026 Lunar New Year break
        ("2026-04-03", "2026-04-07"),  # Children's Day and Tomb-Sweeping Day
    ],
)
def test_a_deadline_in_a_break_moves_past_it(day: str, next_worked: str) -> None:
    assert next_working_day(date.fromisoformat(day), TaiwanCalendar()) == date.fromisoformat(next_worked)


def test_a_staff_override_wins_over_the_office_calendar() -> None:
    typhoon = TaiwanCalendar({date(2025, 3, 17): False})  # a typhoon day off (颱風假) on the due day
    assert filing_deadline(Period.parse("11402"), typhoon) == date(2025, 3, 18)
    worked = TaiwanCalendar({date(2025, 3, 15): True})  # an announced working Saturday
    assert filing_deadline(Period.parse("11402"), worked) == date(2025, 3, 15)

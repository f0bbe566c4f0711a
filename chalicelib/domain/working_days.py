"""Working days (上班日) and the deadlines that move off a day off.

Administrative Procedure Act §48 (行政程序法第48條 IV): 「期間之末日為星期日、國定假日或其他休息日者，
以該日之次日為期間之末日；期間之末日為星期六者，以其次星期一為期間末日」. So a filing deadline (the
15th, VAT Act §35) or the unused-number deadline (the 10th) that falls on a Saturday, Sunday or
national holiday moves to the next working day: 2025-03-15 was a Saturday, period 11402 was due on
Monday 2025-03-17. A make-up working day (補行上班日, a Saturday that is worked) is a working day.

The calendar is a port: the domain asks only "is this day worked?". The adapter behind it reads a
maintained holiday calendar plus the days staff override (typhoon days, 颱風假, announced changes).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Protocol

from chalicelib.domain.period import Period

#: No run of days off in Taiwan's calendar is longer than this (the Lunar New Year at most ~10).
_MAX_DAYS_OFF = 31


class WorkingCalendar(Protocol):
    def is_working_day(self, day: date) -> bool: ...


class WeekdaysOnly:
    """Monday to Friday worked, nothing else known: the fallback where no holiday calendar is
    passed in. It still moves a Saturday or Sunday deadline, the part of the rule that needs no data."""

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5


WEEKDAYS = WeekdaysOnly()


def next_working_day(day: date, calendar: WorkingCalendar) -> date:
    """``day`` itself when it is worked, else the first working day after it."""
    for offset in range(_MAX_DAYS_OFF + 1):
        candidate = day + timedelta(days=offset)
        if calendar.is_working_day(candidate):
            return candidate
    raise ValueError(f"no working day within {_MAX_DAYS_OFF} days of {day.isoformat()}")


def filing_deadline(period: Period, calendar: WorkingCalendar = WEEKDAYS) -> date:
    """Last day to file the period's return (401/403): the 15th of the next odd month, moved off a day off."""
    return next_working_day(period.filing_deadline, calendar)


def blank_number_deadline(period: Period, calendar: WorkingCalendar = WEEKDAYS) -> date:
    """Last day to upload the period's unused numbers (E0402): the 10th, moved off a day off."""
    return next_working_day(period.blank_number_deadline, calendar)

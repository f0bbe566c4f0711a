"""Which period jobs the hourly schedule runs on which Taiwan date (services/period_close.due_jobs)."""

from __future__ import annotations

from datetime import date

import pytest

from chalicelib.domain.period import Period
from chalicelib.services.filing_notices import notice_text
from chalicelib.services.period_close import due_jobs

# Its return's statutory day, 2025-11-15, was a Saturday: due Monday 2025-11-17 (行政程序法 §48).
SEP_OCT_2025 = Period.parse("11410")


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2025, 11, 1), ["close"]),  # the day after Sep–Oct ends
        (date(2025, 11, 9), ["close"]),
        (date(2025, 11, 10), ["close", "blank_reminder"]),  # E0402 due today
        (date(2025, 11, 13), ["close"]),
        (date(2025, 11, 15), ["close", "return_reminder"]),  # two days before the return is due (11-17)
        (date(2025, 11, 16), ["close"]),  # Sunday: the deadline moved to Monday
        (date(2025, 11, 17), ["close"]),  # the deadline day itself is still on time
        (date(2025, 11, 18), ["close", "overdue"]),
        (date(2025, 11, 30), ["close", "overdue"]),
    ],
)
def test_jobs_in_the_first_month_after_a_period(today: date, expected: list[str]) -> None:
    assert due_jobs(today) == [(name, SEP_OCT_2025) for name in expected]


def test_nothing_runs_in_the_second_month_of_a_period() -> None:
    assert due_jobs(date(2025, 12, 10)) == []
    assert due_jobs(date(2025, 12, 31)) == []


def test_january_closes_the_last_period_of_the_previous_year() -> None:
    # 2026-01-10 was a Saturday: the E0402 reminder goes out on Monday 2026-01-12, the day it is due.
    assert due_jobs(date(2026, 1, 10)) == [("close", Period.parse("11412"))]
    assert due_jobs(date(2026, 1, 12)) == [("close", Period.parse("11412")), ("blank_reminder", Period.parse("11412"))]


@pytest.mark.parametrize("kind", ["close", "blank_reminder", "return_reminder", "overdue"])
def test_every_notice_names_the_period_and_its_deadline_in_both_languages(kind: str) -> None:
    subject, body = notice_text(kind, SEP_OCT_2025, {"draft": {"form": "401", "payable": 1234}})
    assert "11410" in subject and "/" in subject  # zh-TW / English
    deadline = "2025-11-10" if kind == "blank_reminder" else "2025-11-17"  # 11-15 was a Saturday
    assert deadline in body
    assert "114年09-10月" in body and "period 11410" in body.lower()


def test_the_close_notice_gives_the_tax_payable() -> None:
    _, body = notice_text("close", SEP_OCT_2025, {"draft": {"form": "403", "payable": 1234}})
    assert "1,234 元" in body and "NT$1,234" in body and "form 403" in body

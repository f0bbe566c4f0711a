"""Sign-in throttling windows: where a window starts and ends, and the Retry-After it implies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from chalicelib.security.throttling import (
    PER_SOURCE,
    PER_SOURCE_AND_SUBJECT,
    PER_SUBJECT_BEFORE_CAPTCHA,
    Limit,
    source_of,
)

FIFTEEN = Limit("test", 5, timedelta(minutes=15))


def test_windows_are_fixed_quarters_of_an_hour() -> None:
    at = datetime(2025, 11, 20, 9, 7, 30, tzinfo=UTC)
    assert FIFTEEN.window_start(at) == datetime(2025, 11, 20, 9, 0, tzinfo=UTC)
    assert FIFTEEN.window_end(at) == datetime(2025, 11, 20, 9, 15, tzinfo=UTC)
    # the first instant of a window belongs to it, not to the one before
    assert FIFTEEN.window_start(datetime(2025, 11, 20, 9, 15, tzinfo=UTC)) == datetime(2025, 11, 20, 9, 15, tzinfo=UTC)


def test_windows_do_not_depend_on_the_time_zone_the_clock_reports() -> None:
    taipei = datetime(2025, 11, 21, 1, 7, tzinfo=timezone(timedelta(hours=8)))
    assert FIFTEEN.window_start(taipei) == datetime(2025, 11, 20, 17, 0, tzinfo=UTC)


def test_retry_after_is_the_rest_of_the_window_rounded_up() -> None:
    assert FIFTEEN.retry_after(datetime(2025, 11, 20, 9, 0, tzinfo=UTC)) == 900
    assert FIFTEEN.retry_after(datetime(2025, 11, 20, 9, 14, 59, 500_000, tzinfo=UTC)) == 1
    assert FIFTEEN.retry_after(datetime(2025, 11, 20, 9, 10, 0, 1, tzinfo=UTC)) == 300


def test_the_limits_throttle_sources_and_gate_accounts_with_a_captcha() -> None:
    # five failures of an account before the CAPTCHA, ten per account from one address, fifty per address
    assert (PER_SUBJECT_BEFORE_CAPTCHA.attempts, PER_SOURCE_AND_SUBJECT.attempts, PER_SOURCE.attempts) == (5, 10, 50)
    assert {PER_SUBJECT_BEFORE_CAPTCHA.window, PER_SOURCE_AND_SUBJECT.window, PER_SOURCE.window} == {
        timedelta(minutes=15)
    }


def test_a_request_without_an_address_is_counted_under_one_name() -> None:
    assert source_of({"ip": "203.0.113.9"}) == "203.0.113.9"
    assert source_of({"ip": ""}) == source_of({}) == "unknown"


def test_misuse_raises() -> None:
    with pytest.raises(ValueError, match="timezone"):
        FIFTEEN.window_start(datetime(2025, 11, 20, 9, 0))
    with pytest.raises(ValueError):
        Limit("x", 0, timedelta(minutes=1))
    with pytest.raises(ValueError):
        Limit("x", 1, timedelta(0))

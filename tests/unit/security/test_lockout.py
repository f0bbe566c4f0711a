"""Login back-off: free failures, doubling delay, the 15-minute cap, and rounding of the wait."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.security.lockout import delay_after, is_locked, next_allowed_at

LAST = datetime(2025, 11, 20, 9, 0, tzinfo=UTC)
FIFTEEN_MINUTES = timedelta(minutes=15)


@pytest.mark.parametrize(
    ("failures", "seconds"),
    [(0, 0), (1, 0), (2, 0), (3, 0), (4, 2), (5, 4), (6, 8), (10, 128), (12, 512), (13, 900), (50, 900)],
)
def test_delay_table(failures: int, seconds: int) -> None:
    assert delay_after(failures) == timedelta(seconds=seconds)


def test_no_delay_means_no_next_allowed_time() -> None:
    assert next_allowed_at(3, LAST) is None
    assert next_allowed_at(0, None) is None
    assert next_allowed_at(7, None) is None  # nothing to count from


def test_next_allowed_time_after_the_fourth_failure() -> None:
    assert next_allowed_at(4, LAST) == LAST + timedelta(seconds=2)


def test_locked_until_the_delay_has_passed_and_not_a_moment_later() -> None:
    assert is_locked(4, LAST, LAST) == (True, 2)
    assert is_locked(4, LAST, LAST + timedelta(seconds=1, milliseconds=500)) == (True, 1)  # rounded up
    assert is_locked(4, LAST, LAST + timedelta(seconds=2)) == (False, 0)
    assert is_locked(13, LAST, LAST + timedelta(minutes=14, seconds=59)) == (True, 1)
    assert is_locked(13, LAST, LAST + FIFTEEN_MINUTES) == (False, 0)


def test_a_few_failures_never_lock() -> None:
    assert is_locked(3, LAST, LAST) == (False, 0)


def test_a_runaway_counter_is_still_capped() -> None:
    assert delay_after(10**9) == FIFTEEN_MINUTES


def test_bad_input_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        delay_after(-1)
    with pytest.raises(ValueError, match="timezone"):
        is_locked(5, LAST, LAST.replace(tzinfo=None))
    with pytest.raises(ValueError, match="timezone"):
        next_allowed_at(5, LAST.replace(tzinfo=None))


@given(st.integers(0, 10_000), st.integers(0, 10_000))
def test_delay_is_monotonic_and_capped(a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert delay_after(low) <= delay_after(high) <= FIFTEEN_MINUTES


@given(st.integers(0, 200), st.integers(0, 2_000_000))
def test_remaining_seconds_agree_with_next_allowed_at(failures: int, elapsed_ms: int) -> None:
    now = LAST + timedelta(milliseconds=elapsed_ms)
    locked, remaining = is_locked(failures, LAST, now)
    allowed = next_allowed_at(failures, LAST)
    assert locked == (allowed is not None and now < allowed)
    assert 0 <= remaining <= 900
    if locked:
        assert allowed is not None
        assert now + timedelta(seconds=remaining) >= allowed > now + timedelta(seconds=remaining - 1)

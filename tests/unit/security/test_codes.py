"""One-time codes: generation, HMAC binding to key and context, and the check outcomes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.security.codes import CodeOutcome, CodePolicy, check_code, hash_code, new_code

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
CONTEXT = "reset:24634102"
ISSUED = datetime(2025, 11, 20, 9, 0, tzinfo=UTC)
EXPIRES = CodePolicy().expires_at(ISSUED)


def _check(submitted: object, stored: str, attempts: int = 0, now: datetime = ISSUED, **kw: object) -> CodeOutcome:
    options: dict[str, object] = {"key": KEY, "context": CONTEXT, **kw}
    return check_code(submitted, stored, EXPIRES, attempts, now, **options)  # type: ignore[arg-type]


def test_defaults_are_ten_minutes_and_five_attempts() -> None:
    assert ISSUED + timedelta(minutes=10) == EXPIRES
    assert CodePolicy().max_attempts == 5


def test_codes_are_six_ascii_digits_including_leading_zeros() -> None:
    codes = [new_code(key=KEY, context=CONTEXT)[0] for _ in range(3000)]
    assert all(re.fullmatch(r"[0-9]{6}", code) for code in codes)
    assert any(code.startswith("0") for code in codes)  # P(no leading zero in 3000) = 0.9^3000


def test_the_stored_hash_is_not_the_code_and_depends_on_key_and_context() -> None:
    code, stored = new_code(key=KEY, context=CONTEXT)
    assert code not in stored and re.fullmatch(r"[0-9a-f]{64}", stored)
    assert hash_code(code, key=OTHER_KEY, context=CONTEXT) != stored
    assert hash_code(code, key=KEY, context="verify-email:24634102") != stored


def test_the_right_code_is_ok_and_tolerates_surrounding_spaces() -> None:
    code, stored = new_code(key=KEY, context=CONTEXT)
    assert _check(code, stored) is CodeOutcome.OK
    assert _check(f" {code}\n", stored) is CodeOutcome.OK


def test_a_code_for_another_purpose_or_key_is_wrong() -> None:
    code, stored = new_code(key=KEY, context=CONTEXT)
    assert _check(code, stored, context="verify-email:24634102") is CodeOutcome.WRONG
    assert _check(code, stored, key=OTHER_KEY) is CodeOutcome.WRONG


@pytest.mark.parametrize("submitted", ["", "12345", "1234567", "12 345", "１２３４５６", None, 123456, "abcdef"])
def test_anything_but_six_digits_is_wrong(submitted: object) -> None:
    _, stored = new_code(key=KEY, context=CONTEXT)
    assert _check(submitted, stored) is CodeOutcome.WRONG


def test_full_width_digits_are_not_the_code() -> None:
    stored = hash_code("123456", key=KEY, context=CONTEXT)
    assert _check("１２３４５６", stored) is CodeOutcome.WRONG


def test_expiry_is_exclusive() -> None:
    code, stored = new_code(key=KEY, context=CONTEXT)
    assert _check(code, stored, now=EXPIRES - timedelta(microseconds=1)) is CodeOutcome.OK
    assert _check(code, stored, now=EXPIRES) is CodeOutcome.EXPIRED


def test_after_five_wrong_attempts_even_the_right_code_is_refused() -> None:
    code, stored = new_code(key=KEY, context=CONTEXT)
    assert _check(code, stored, attempts=4) is CodeOutcome.OK
    assert _check(code, stored, attempts=5) is CodeOutcome.TOO_MANY_ATTEMPTS
    assert _check(code, stored, attempts=5, now=EXPIRES) is CodeOutcome.TOO_MANY_ATTEMPTS


def test_a_stricter_policy_applies() -> None:
    code, stored = new_code(key=KEY, context=CONTEXT)
    strict = CodePolicy(ttl=timedelta(minutes=1), max_attempts=1)
    assert _check(code, stored, attempts=1, policy=strict) is CodeOutcome.TOO_MANY_ATTEMPTS


def test_a_corrupt_stored_hash_is_wrong_not_an_error() -> None:
    code, _ = new_code(key=KEY, context=CONTEXT)
    assert _check(code, "證" * 64) is CodeOutcome.WRONG


def test_misuse_raises() -> None:
    with pytest.raises(ValueError):
        new_code(key=b"short", context=CONTEXT)
    with pytest.raises(ValueError):
        new_code(key=KEY, context="a\x00b")
    with pytest.raises(ValueError, match="timezone"):
        _check("123456", "x", now=ISSUED.replace(tzinfo=None))


@given(st.text(max_size=20), st.integers(0, 10), st.integers(-1000, 1000))
def test_check_never_raises_and_only_the_code_is_ok(submitted: str, attempts: int, offset_s: int) -> None:
    stored = hash_code("424242", key=KEY, context=CONTEXT)
    outcome = _check(submitted, stored, attempts=attempts, now=EXPIRES + timedelta(seconds=offset_s))
    if outcome is CodeOutcome.OK:
        assert submitted.strip() == "424242" and attempts < 5 and offset_s < 0

"""Password hashing (argon2id, OWASP parameters) and the password policy."""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher, Type
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from chalicelib.domain.errors import InvalidInput, RuleViolation
from chalicelib.security.common_passwords import COMMON_PASSWORDS
from chalicelib.security.passwords import (
    PasswordProblem,
    WeakPassword,
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_password,
)

UBN = "24634102"
GOOD = "correct horse battery 7"


@pytest.fixture(scope="module")
def good_hash() -> str:
    return hash_password(GOOD)


def test_the_hash_is_argon2id_at_or_above_the_owasp_minimum(good_hash: str) -> None:
    # OWASP Password Storage Cheat Sheet: argon2id, m >= 19 MiB (19456 KiB), t >= 2, p >= 1.
    match = re.fullmatch(r"\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[^$]+\$[^$]+", good_hash)
    assert match is not None
    memory, time, lanes = map(int, match.groups())
    assert memory >= 19456 and time >= 2 and lanes >= 1


def test_the_right_password_verifies_and_a_wrong_one_does_not(good_hash: str) -> None:
    assert verify_password(good_hash, GOOD)
    assert not verify_password(good_hash, GOOD + " ")
    assert not verify_password(good_hash, GOOD.upper())


def test_hashes_are_salted(good_hash: str) -> None:
    assert hash_password(GOOD) != good_hash


def test_full_width_input_is_the_same_password_as_ascii() -> None:
    # NFKC: a phone keyboard in full-width mode must not lock a merchant out.
    stored = hash_password("Ｓｈｏｐ２０２５ｓｅｃｒｅｔ")
    assert verify_password(stored, "Shop2025secret")


@pytest.mark.parametrize(
    "corrupt",
    [
        "",
        "not a hash",
        "$argon2id$v=19$m=19456,t=2,p=1$AAAA",
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$!!!!",
        "$2b$12$abcdefghijklmnopqrstuuSbZ1v0dXrYbQ0qE5V7W8vGmGJ2f1s3a",  # a bcrypt hash
        "$argon2id$v=19$m=19456,t=2,p=1$證$證",
    ],
)
def test_a_corrupt_hash_answers_false_and_needs_rehash(corrupt: str) -> None:
    assert verify_password(corrupt, GOOD) is False
    assert needs_rehash(corrupt) is True


def test_a_lone_surrogate_password_answers_false(good_hash: str) -> None:
    assert verify_password(good_hash, "\ud800" + GOOD) is False


def test_needs_rehash_only_for_weaker_parameters(good_hash: str) -> None:
    assert needs_rehash(good_hash) is False
    weaker = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID).hash(GOOD)
    assert verify_password(weaker, GOOD)  # still accepted at login, then upgraded
    assert needs_rehash(weaker) is True


@given(
    st.text(
        alphabet=st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Zs"]),
        min_size=12,
        max_size=40,
    )
)
@settings(max_examples=8, deadline=None)
def test_round_trip_for_arbitrary_text(password: str) -> None:
    stored = hash_password(password)
    assert verify_password(stored, password)
    assert not verify_password(stored, password + "x")


# --- policy ---------------------------------------------------------------------------------------


def _problem(password: str, ubn: str | None = UBN) -> PasswordProblem:
    with pytest.raises(WeakPassword) as caught:
        check_password_policy(password, ubn)
    error = caught.value
    assert isinstance(error, RuleViolation)
    assert error.code == "WEAK_PASSWORD" and error.field == "new_password"
    assert error.message and error.message_zh
    return error.reason


@pytest.mark.parametrize(
    "password",
    [
        "Tea4two-at-9",  # exactly 12
        "a1" * 64,  # exactly 128
        "木柵鐵觀音茶葉2025年份",  # 13 characters; CJK letters count as letters
        "only letters and spaces",  # letters + symbols (spaces)
        "1234-5678-9012",  # digits + symbols
    ],
)
def test_acceptable_passwords(password: str) -> None:
    check_password_policy(password, UBN)


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Tea4two-at9", PasswordProblem.TOO_SHORT),  # 11
        ("a1" * 64 + "x", PasswordProblem.TOO_LONG),  # 129
        ("shop-24634102!", PasswordProblem.CONTAINS_UBN),
        ("shop-２４６３４１０２!", PasswordProblem.CONTAINS_UBN),  # full-width digits
        ("Password1234", PasswordProblem.COMMON),
        ("QWERTY123456", PasswordProblem.COMMON),
        ("1qaz2wsx3edc", PasswordProblem.COMMON),
        ("abcdefghijklmn", PasswordProblem.FEW_CHARACTER_CLASSES),
        ("098765432109", PasswordProblem.FEW_CHARACTER_CLASSES),
        ("!@#$%^&*()_+=-", PasswordProblem.FEW_CHARACTER_CLASSES),
    ],
)
def test_refused_passwords(password: str, problem: PasswordProblem) -> None:
    assert _problem(password) is problem


def test_length_counts_characters_not_bytes() -> None:
    assert _problem("密碼很長1") is PasswordProblem.TOO_SHORT  # 5 characters, 13 bytes
    check_password_policy("營業人的密碼要夠長才行2025", UBN)


def test_staff_have_no_ubn_to_avoid() -> None:
    check_password_policy("staff-24634102", None)


def test_the_field_is_configurable_and_survives_a_prefix() -> None:
    with pytest.raises(WeakPassword) as caught:
        check_password_policy("short1!", UBN, field="password")
    assert caught.value.field == "password"
    moved = caught.value.with_field_prefix("body")
    assert isinstance(moved, WeakPassword)
    assert (moved.field, moved.reason, moved.code) == (
        "body.password",
        PasswordProblem.TOO_SHORT,
        "WEAK_PASSWORD",
    )


def test_an_unencodable_password_is_invalid_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_password_policy("\ud800good-password-1", UBN)
    assert (caught.value.code, caught.value.field) == ("INVALID_PASSWORD", "new_password")


def test_the_blocklist_is_lowercase_and_about_two_hundred_entries() -> None:
    assert all(entry == entry.lower() and entry.strip() == entry for entry in COMMON_PASSWORDS)
    assert 150 <= len(COMMON_PASSWORDS) <= 300


@given(st.sampled_from(sorted(p for p in COMMON_PASSWORDS if len(p) >= 12)), st.integers(0, 2**64))
def test_common_passwords_are_refused_in_any_letter_case(entry: str, mask: int) -> None:
    mixed = "".join(ch.upper() if mask >> i & 1 else ch for i, ch in enumerate(entry))
    assert _problem(mixed) in {PasswordProblem.COMMON, PasswordProblem.FEW_CHARACTER_CLASSES}


@given(
    st.text(alphabet="abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ", min_size=6, max_size=60),
    st.text(alphabet="0123456789", min_size=6, max_size=60),
)
def test_long_enough_mixes_of_two_classes_without_the_ubn_pass(letters: str, digits: str) -> None:
    password = letters + digits
    assume(UBN not in password and password.lower() not in COMMON_PASSWORDS)
    check_password_policy(password, UBN)

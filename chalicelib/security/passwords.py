"""Password hashing (argon2id) and the password policy for merchants and staff.

Passwords are NFKC-normalised before hashing and before the policy looks at them (NIST SP 800-63B
§5.1.1.2), so a full-width ``２４６３４１０２`` typed on a phone is the same password as the ASCII
one typed on a PC, and cannot smuggle a UBN past the "must not contain the UBN" rule.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING

from chalicelib.domain.errors import DomainError, InvalidInput, RuleViolation
from chalicelib.security.common_passwords import COMMON_PASSWORDS

if TYPE_CHECKING:
    from argon2 import PasswordHasher

# OWASP Password Storage Cheat Sheet minimum for argon2id: m=19 MiB, t=2, p=1. argon2-cffi's own
# defaults (RFC 9106 low-memory: 64 MiB, t=3, p=4) assume four cores; a Lambda with less than
# 1,769 MB has a fraction of one vCPU, so four lanes only queue behind each other and a login takes
# several times longer for no added hardness. One lane at the OWASP floor costs ~20 ms.
TIME_COST = 2
MEMORY_COST_KIB = 19_456
PARALLELISM = 1

MIN_LENGTH = 12
MAX_LENGTH = 128  # bounds the hashing work an anonymous caller can request


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    # argon2-cffi loads on first use: only sign-in and sign-up routes hash, not every cold start.
    from argon2 import PasswordHasher, Type

    return PasswordHasher(
        time_cost=TIME_COST,
        memory_cost=MEMORY_COST_KIB,
        parallelism=PARALLELISM,
        hash_len=32,
        salt_len=16,
        type=Type.ID,
    )


def _normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    """The argon2id PHC string for ``password``; run ``check_password_policy`` first."""
    return _hasher().hash(_normalise(password))


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash``; ``False`` for a corrupt hash, never raises.

    A login must answer "wrong credentials" rather than 500 whatever sits in the table, including a
    hash from another scheme or a password with a lone surrogate (valid JSON, not encodable UTF-8).
    """
    from argon2.exceptions import Argon2Error

    try:
        return _hasher().verify(password_hash, _normalise(password))
    except (Argon2Error, ValueError, TypeError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters; call after a successful verify and re-hash.

    An unparsable hash answers ``True``: replacing it is always the right move.
    """
    from argon2.exceptions import Argon2Error

    try:
        return _hasher().check_needs_rehash(password_hash)
    except (Argon2Error, ValueError, TypeError):
        return True


class PasswordProblem(StrEnum):
    """Why ``check_password_policy`` refused a password (also the suffix of the message)."""

    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    CONTAINS_UBN = "contains_ubn"
    COMMON = "common"
    FEW_CHARACTER_CLASSES = "few_character_classes"


_MESSAGES: dict[PasswordProblem, tuple[str, str]] = {
    PasswordProblem.TOO_SHORT: (
        f"The password must be at least {MIN_LENGTH} characters long.",
        f"密碼長度至少須 {MIN_LENGTH} 個字元。",
    ),
    PasswordProblem.TOO_LONG: (
        f"The password must be at most {MAX_LENGTH} characters long.",
        f"密碼長度不得超過 {MAX_LENGTH} 個字元。",
    ),
    PasswordProblem.CONTAINS_UBN: (
        "The password must not contain the unified business number.",
        "密碼不得包含統一編號。",
    ),
    PasswordProblem.COMMON: (
        "This password is too common; choose one that is harder to guess.",
        "此密碼過於常見，請改用較難猜測的密碼。",
    ),
    PasswordProblem.FEW_CHARACTER_CLASSES: (
        "The password must mix at least two of: letters, digits, symbols.",
        "密碼須至少包含英文字母、數字、符號其中兩種。",
    ),
}


class WeakPassword(RuleViolation):
    """``WEAK_PASSWORD`` (HTTP 422) with the machine-readable ``reason``."""

    def __init__(self, reason: PasswordProblem, field: str | None = None) -> None:
        message, message_zh = _MESSAGES[reason]
        super().__init__("WEAK_PASSWORD", message, message_zh, field)
        self.reason = reason

    def with_field_prefix(self, prefix: str) -> DomainError:
        joined = prefix if not self.field else f"{prefix}.{self.field}"
        return WeakPassword(self.reason, joined)


def _character_classes(password: str) -> int:
    # str.isalpha counts CJK characters as letters, which is what a zh-TW user expects.
    has_letter = any(ch.isalpha() for ch in password)
    has_digit = any(ch.isdigit() for ch in password)
    has_symbol = any(not ch.isalnum() for ch in password)
    return has_letter + has_digit + has_symbol


def check_password_policy(password: str, ubn: str | None, *, field: str = "new_password") -> None:
    """Raise ``WeakPassword`` (a ``RuleViolation``, ``WEAK_PASSWORD``) if ``password`` is refused.

    The rules, checked on the NFKC form: 12..128 characters; not containing the merchant's UBN
    (``None`` for staff); not on the common-password list, case-insensitively; at least two of
    {letters, digits, symbols}. NIST SP 800-63B favours length plus a blocklist over composition
    rules, so the composition rule is deliberately mild: length and the blocklist do the real work,
    the 2-of-3 rule only stops single-class strings such as ``abcdefghijkl`` or a run of digits
    (dates, phone numbers).
    A password that is not encodable as UTF-8 (a lone surrogate from a JSON ``\\ud800`` escape) is
    malformed input: ``InvalidInput`` ``INVALID_PASSWORD``.
    """
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(
            "INVALID_PASSWORD",
            "The password contains characters that cannot be stored.",
            "密碼含有無法儲存的字元。",
            field,
        ) from None
    normalised = _normalise(password)
    if len(normalised) < MIN_LENGTH:
        raise WeakPassword(PasswordProblem.TOO_SHORT, field)
    if len(normalised) > MAX_LENGTH:
        raise WeakPassword(PasswordProblem.TOO_LONG, field)
    if ubn and ubn in normalised:
        raise WeakPassword(PasswordProblem.CONTAINS_UBN, field)
    if normalised.casefold() in COMMON_PASSWORDS:
        raise WeakPassword(PasswordProblem.COMMON, field)
    if _character_classes(normalised) < 2:
        raise WeakPassword(PasswordProblem.FEW_CHARACTER_CLASSES, field)

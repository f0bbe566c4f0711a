"""One-time numeric codes sent by email or SMS: receiver verification and password reset.

Six digits are only 10^6 values, so a salted SHA-256 could be reversed in a second by whoever reads
the table; the stored value is therefore an HMAC under a server-side key. The HMAC also binds the
code to a ``context`` (purpose and account, e.g. ``"reset:24634102"``), so a code mailed for one
purpose or account can never be replayed for another. Guessing is bounded by ``max_attempts``:
callers claim each attempt in the database before checking it (one conditional update, see
adapters.dynamo_merchants.claim_code_attempt) and pass the attempts made before it, so concurrent
guesses cannot get more than ``max_attempts`` checked.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from chalicelib.security._time import require_aware

CODE_DIGITS = 6
_MIN_KEY_BYTES = 32
_CODE_PATTERN = re.compile(r"[0-9]{6}")


class CodeOutcome(StrEnum):
    OK = "ok"
    WRONG = "wrong"  # the caller increments the attempt count
    EXPIRED = "expired"  # ask for a new code
    TOO_MANY_ATTEMPTS = "too_many_attempts"  # ask for a new code


@dataclass(frozen=True)
class CodePolicy:
    ttl: timedelta = timedelta(minutes=10)
    #: With 5 guesses at a 6-digit code the odds of a lucky guess are 1 in 200,000 per code sent.
    max_attempts: int = 5

    def expires_at(self, issued_at: datetime) -> datetime:
        return require_aware(issued_at, "issued_at") + self.ttl


DEFAULT_CODE_POLICY = CodePolicy()


def _check_key(key: bytes) -> None:
    if len(key) < _MIN_KEY_BYTES:
        raise ValueError(f"the code key must be at least {_MIN_KEY_BYTES} bytes")


def hash_code(code: str, *, key: bytes, context: str) -> str:
    """Hex HMAC-SHA256 over ``context`` and ``code``."""
    _check_key(key)
    if "\x00" in context:
        raise ValueError("context must not contain NUL")
    # The NUL separator keeps ("ab", "c") and ("a", "bc") apart; neither part may contain one.
    message = f"{context}\x00{code}".encode("utf-8", "surrogatepass")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def new_code(*, key: bytes, context: str) -> tuple[str, str]:
    """``(code, code_hash)``: send ``code``, store ``code_hash`` with its expiry and 0 attempts."""
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    return code, hash_code(code, key=key, context=context)


def check_code(
    submitted: object,
    stored_hash: str,
    expires_at: datetime,
    attempts: int,
    now: datetime,
    *,
    key: bytes,
    context: str,
    policy: CodePolicy = DEFAULT_CODE_POLICY,
) -> CodeOutcome:
    """Judge a submitted code; ``attempts`` is the number of wrong submissions already recorded.

    The attempt limit is checked before the code, so the right code after five wrong ones still
    fails: otherwise the limit would only slow an attacker down, not stop them. Anything that is not
    six ASCII digits (after trimming spaces a user may paste) is simply ``WRONG``.
    """
    require_aware(now, "now")
    require_aware(expires_at, "expires_at")
    if attempts >= policy.max_attempts:
        return CodeOutcome.TOO_MANY_ATTEMPTS
    if now >= expires_at:
        return CodeOutcome.EXPIRED
    candidate = submitted.strip() if isinstance(submitted, str) else ""
    if not _CODE_PATTERN.fullmatch(candidate):
        return CodeOutcome.WRONG
    expected = hash_code(candidate, key=key, context=context)
    if stored_hash.isascii() and hmac.compare_digest(expected, stored_hash):
        return CodeOutcome.OK
    return CodeOutcome.WRONG

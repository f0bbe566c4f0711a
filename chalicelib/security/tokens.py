"""Access tokens (short-lived HS256 JWTs) and refresh tokens (opaque, stored hashed).

Access tokens are verified by the Chalice authorizer on every request without a database read, so
they are short-lived (15 min). Refresh tokens are looked up and revocable, so they need no signature:
``rt_<id>.<secret>``, where the id is the table key and only SHA-256(secret) is stored, so a leaked
table does not yield usable tokens. A random 256-bit secret needs no salt or slow hash.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from chalicelib.security._time import require_aware

# PyJWT is imported where tokens are made or checked, not here: importing it loads its
# cryptography-backed algorithms (~25 ms), and every module needs ``Role`` at import.

ISSUER = "einvoice"
ACCESS_TOKEN_TTL = timedelta(minutes=15)
#: RFC 7518 §3.2: an HS256 key must be at least as long as the hash output.
MIN_KEY_BYTES = 32
# Tokens are issued and checked by our own functions, but Lambda hosts' clocks may differ slightly.
_CLOCK_SKEW = timedelta(seconds=30)
# The longest ``exp - iat`` a token may claim, whatever ``exp`` was signed: the lifetime is the
# verifier's policy, so a token minted with a far ``exp`` (a faulty issuer, a stolen key) is refused.
MAX_ACCESS_TOKEN_LIFETIME = ACCESS_TOKEN_TTL + _CLOCK_SKEW
# Pinned: never taken from the token header (RFC 8725 §2.1), so "none" and HS/RS confusion fail.
_ALGORITHM = "HS256"
_REQUIRED_CLAIMS = ["exp", "iat", "sub", "typ", "jti", "sid"]


class Role(StrEnum):
    MERCHANT = "merchant"
    STAFF = "staff"


class TokenInvalid(Exception):
    """A bearer or refresh token was refused (HTTP 401).

    Not a ``DomainError``: it must never carry a ``field`` or say *why* beyond expired/invalid,
    and the API layer answers it with ``WWW-Authenticate``.
    """

    def __init__(self, code: str) -> None:
        expired = code == "TOKEN_EXPIRED"
        self.code = code
        self.message = "The token has expired." if expired else "The token is invalid."
        self.message_zh = "權杖已過期。" if expired else "權杖無效。"
        super().__init__(self.message)


@dataclass(frozen=True)
class AccessClaims:
    subject: str  # merchant UBN or staff username
    role: Role
    scopes: frozenset[str]
    token_id: str
    issued_at: datetime
    expires_at: datetime
    # The session (refresh-token family member) this token belongs to; checked per request so
    # that logging out or resetting the password ends the token before it expires.
    session_id: str


def _check_key(key: bytes) -> bytes:
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"the token signing key must be at least {MIN_KEY_BYTES} bytes")
    return key


def issue_access_token(
    *,
    subject: str,
    role: Role,
    key: bytes,
    now: datetime,
    session_id: str,
    ttl: timedelta = ACCESS_TOKEN_TTL,
    scopes: Iterable[str] = (),
) -> tuple[str, int]:
    """``(token, expires_in seconds)`` for ``subject`` acting as ``role``."""
    _check_key(key)
    require_aware(now, "now")
    if not subject or not session_id:
        raise ValueError("subject and session_id must not be empty")
    issued = int(now.timestamp())
    expires_in = int(ttl.total_seconds())
    if expires_in <= 0 or ttl > ACCESS_TOKEN_TTL:
        raise ValueError(f"ttl must be positive and at most {ACCESS_TOKEN_TTL}")
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": subject,
        "role": Role(role).value,
        "typ": "access",
        "jti": secrets.token_urlsafe(16),
        "sid": session_id,
        "iat": issued,
        "exp": issued + expires_in,
    }
    scope_list = sorted(set(scopes))
    if scope_list:
        claims["scopes"] = scope_list
    import jwt

    return jwt.encode(claims, key, algorithm=_ALGORITHM), expires_in


def _decode(token: str, key: bytes) -> dict[str, Any]:
    import jwt

    try:
        payload: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[_ALGORITHM],
            issuer=ISSUER,
            # Time checks are ours, against the caller's ``now``: PyJWT would read the clock.
            options={
                "require": _REQUIRED_CLAIMS,
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except (jwt.PyJWTError, ValueError, TypeError):
        raise TokenInvalid("INVALID_TOKEN") from None
    return payload


def _timestamp(payload: dict[str, Any], claim: str) -> datetime:
    value = payload[claim]
    # bool is an int subclass; ``"exp": true`` must not read as 1970-01-01T00:00:01.
    if not isinstance(value, int) or isinstance(value, bool):
        raise TokenInvalid("INVALID_TOKEN")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise TokenInvalid("INVALID_TOKEN") from None


def _scopes(payload: dict[str, Any]) -> frozenset[str]:
    raw = payload.get("scopes", [])
    if not isinstance(raw, list) or not all(isinstance(s, str) for s in raw):
        raise TokenInvalid("INVALID_TOKEN")
    return frozenset(raw)


def verify_access_token(token: str, key: bytes, now: datetime) -> AccessClaims:
    """The claims of a valid access token at ``now``; ``TokenInvalid`` for anything else.

    A token must carry ``iat``, and may live (``exp - iat``) at most the access-token lifetime,
    whatever ``exp`` its signature covers.

    ``TOKEN_EXPIRED`` is only reported for a token whose signature is good, so the code never
    tells a forger anything.
    """
    _check_key(key)
    require_aware(now, "now")
    if not isinstance(token, str):
        raise TokenInvalid("INVALID_TOKEN")
    payload = _decode(token, key)
    issued_at = _timestamp(payload, "iat")
    expires_at = _timestamp(payload, "exp")
    subject, role, token_id, session_id = payload["sub"], payload.get("role"), payload["jti"], payload["sid"]
    if (
        payload["typ"] != "access"
        or not isinstance(subject, str)
        or not subject
        or not isinstance(role, str)
        or role not in {r.value for r in Role}
        or not isinstance(token_id, str)
        or not isinstance(session_id, str)
        or not session_id
        or issued_at > now + _CLOCK_SKEW
        or expires_at <= issued_at
        or expires_at - issued_at > MAX_ACCESS_TOKEN_LIFETIME
    ):
        raise TokenInvalid("INVALID_TOKEN")
    if now >= expires_at:
        raise TokenInvalid("TOKEN_EXPIRED")
    return AccessClaims(
        subject=subject,
        role=Role(role),
        scopes=_scopes(payload),
        token_id=token_id,
        issued_at=issued_at,
        expires_at=expires_at,
        session_id=session_id,
    )


# --- refresh tokens -------------------------------------------------------------------------------

_REFRESH_PREFIX = "rt_"
_REFRESH_ID_BYTES = 12  # 16 url-safe characters
_SECRET_BYTES = 32  # 43 url-safe characters
# Explicit ASCII classes: ``\w`` would also accept Unicode letters and digits.
_REFRESH_PATTERN = re.compile(r"rt_([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})")


@dataclass(frozen=True)
class NewRefreshToken:
    token: str  # give to the client once; never stored
    token_id: str  # table key
    secret_hash: str  # stored


def hash_secret(secret: str) -> str:
    """Hex SHA-256 of a refresh-token secret, as stored."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def new_refresh_token() -> NewRefreshToken:
    token_id = secrets.token_urlsafe(_REFRESH_ID_BYTES)
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    return NewRefreshToken(f"{_REFRESH_PREFIX}{token_id}.{secret}", token_id, hash_secret(secret))


def parse_refresh_token(token: object) -> tuple[str, str]:
    """``(token_id, secret)``; ``TokenInvalid`` (``INVALID_TOKEN``) if ``token`` is not one of ours."""
    match = _REFRESH_PATTERN.fullmatch(token) if isinstance(token, str) else None
    if match is None:
        raise TokenInvalid("INVALID_TOKEN")
    return match.group(1), match.group(2)


def verify_refresh_secret(secret: str, stored_hash: str) -> bool:
    """Whether ``secret`` hashes to ``stored_hash``, compared in constant time."""
    if not stored_hash.isascii():
        return False  # compare_digest refuses non-ASCII str; a corrupt row is just a mismatch
    return hmac.compare_digest(hash_secret(secret), stored_hash)

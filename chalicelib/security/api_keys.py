"""API keys for merchants' ERP/POS systems: ``ak_<key_id>.<secret>``, shown once, stored hashed.

The key id is public (listed in the console, used as the table key for the lookup); the secret is
``secrets.token_urlsafe(32)`` and only its HMAC-SHA256 under a server-side pepper (or plain SHA-256
when no pepper is configured) is stored. A 256-bit random secret cannot be brute-forced from its
hash, so no slow hash is needed and the authorizer stays fast; the pepper additionally makes a
leaked table useless without the secret store.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from chalicelib.domain.errors import InvalidInput

_KEY_ID_BYTES = 9  # 12 url-safe characters
_SECRET_BYTES = 32  # 43 url-safe characters
_MIN_PEPPER_BYTES = 32
_API_KEY_PATTERN = re.compile(r"ak_([A-Za-z0-9_-]{12})\.([A-Za-z0-9_-]{43})")


@dataclass(frozen=True)
class NewApiKey:
    value: str  # the whole key, shown to the merchant once and never stored
    key_id: str
    secret_hash: str


@dataclass(frozen=True)
class ParsedApiKey:
    key_id: str
    secret: str


def hash_api_key_secret(secret: str, pepper: bytes | None = None) -> str:
    """Hex HMAC-SHA256(pepper, secret), or hex SHA-256(secret) without a pepper."""
    data = secret.encode("utf-8", "surrogatepass")
    if pepper is None:
        return hashlib.sha256(data).hexdigest()
    if len(pepper) < _MIN_PEPPER_BYTES:
        raise ValueError(f"the API key pepper must be at least {_MIN_PEPPER_BYTES} bytes")
    return hmac.new(pepper, data, hashlib.sha256).hexdigest()


def new_api_key(pepper: bytes | None = None) -> NewApiKey:
    key_id = secrets.token_urlsafe(_KEY_ID_BYTES)
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    return NewApiKey(f"ak_{key_id}.{secret}", key_id, hash_api_key_secret(secret, pepper))


def parse_api_key(value: object) -> ParsedApiKey | None:
    """The parts of a well-formed key, ``None`` for anything else (never raises: it reads headers)."""
    if not isinstance(value, str):
        return None
    match = _API_KEY_PATTERN.fullmatch(value)
    return ParsedApiKey(match.group(1), match.group(2)) if match else None


def verify_api_key_secret(secret: str, stored_hash: str, pepper: bytes | None = None) -> bool:
    """Whether ``secret`` matches ``stored_hash``, compared in constant time."""
    expected = hash_api_key_secret(secret, pepper)
    if not stored_hash.isascii():
        return False  # compare_digest refuses non-ASCII str; a corrupt row is just a mismatch
    return hmac.compare_digest(expected, stored_hash)


class ApiScope(StrEnum):
    """What a key may do. Write does not imply read: a POS that only issues invoices should not be
    able to list every invoice of the merchant if its key leaks."""

    INVOICES_WRITE = "invoices:write"  # issue, cancel, void invoices
    INVOICES_READ = "invoices:read"  # look up and list invoices, download PDFs
    ALLOWANCES_WRITE = "allowances:write"  # issue and cancel allowances (折讓)
    ALLOWANCES_READ = "allowances:read"
    TRACKS_READ = "tracks:read"  # see tracks (字軌) and remaining numbers; keys never allocate
    FILINGS_READ = "filings:read"  # read returns (報稅), reconcile, download filed documents
    FILINGS_WRITE = "filings:write"  # file returns and blank numbers, record payments
    NOTIFICATIONS_READ = "notifications:read"  # read the inbox and mark notices read
    WEBHOOKS_READ = "webhooks:read"  # see endpoints, their delivery logs and the events
    WEBHOOKS_WRITE = "webhooks:write"  # register, change, rotate, delete endpoints; replay events


def validate_scopes(values: object, field: str = "scopes") -> frozenset[ApiScope]:
    """The scopes named in ``values`` (a non-empty list of scope strings), else ``INVALID_SCOPE``."""
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise _invalid_scope(field)
    items = list(values)
    if not items:
        raise _invalid_scope(field)
    scopes: set[ApiScope] = set()
    for index, item in enumerate(items):
        try:
            scopes.add(ApiScope(item))
        except (ValueError, TypeError):
            raise _invalid_scope(f"{field}[{index}]") from None
    return frozenset(scopes)


def scopes_claim(scopes: Iterable[ApiScope]) -> str:
    """Space-separated, sorted: the authorizer context only carries strings (OAuth ``scope`` style)."""
    return " ".join(sorted(ApiScope(s).value for s in scopes))


def _invalid_scope(field: str) -> InvalidInput:
    allowed = ", ".join(s.value for s in ApiScope)
    return InvalidInput(
        "INVALID_SCOPE",
        f"Scopes must be a non-empty list of: {allowed}.",
        f"權限範圍須為非空清單，可用值：{allowed}。",
        field,
    )

"""Challenge nonces for certificate sign-up: the server hands one out, the client signs it.

The caller stores the nonce with its issue time and deletes it on first use, so a captured
signature cannot be replayed; this module only makes and recognises nonces and dates them.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from chalicelib.security._time import require_aware

#: Long enough to fetch the certificate and sign with a card reader, short enough to bound replay.
NONCE_TTL = timedelta(minutes=5)
_NONCE_BYTES = 32  # 43 url-safe characters
_NONCE_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")


def new_nonce() -> str:
    return secrets.token_urlsafe(_NONCE_BYTES)


def is_well_formed_nonce(value: object) -> bool:
    """Whether ``value`` has the shape of a nonce from ``new_nonce`` (it may still be unknown)."""
    return isinstance(value, str) and _NONCE_PATTERN.fullmatch(value) is not None


def nonce_expires_at(issued_at: datetime) -> datetime:
    return require_aware(issued_at, "issued_at") + NONCE_TTL


def is_nonce_expired(issued_at: datetime, now: datetime) -> bool:
    return require_aware(now, "now") >= nonce_expires_at(issued_at)

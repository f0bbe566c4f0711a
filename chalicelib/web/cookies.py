"""The console's cookies: the session (access + refresh token), the CSRF token and the language.

Session cookies are ``HttpOnly; SameSite=Strict`` and ``Secure`` with the ``__Host-`` prefix, so no
script, no other site and no sibling host can read, send or plant them. Only the local stage served
over plain http on loopback drops ``Secure`` (a browser would not store it there).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

ACCESS = "einv_at"
REFRESH = "einv_rt"
CSRF = "einv_csrf"
LANG = "einv_lang"
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def parse_cookies(header: str | None) -> dict[str, str]:
    cookies: dict[str, str] = {}
    for pair in (header or "").split(";"):
        name, sep, value = pair.strip().partition("=")
        if sep and name and name not in cookies:
            cookies[name] = value.strip().strip('"')
    return cookies


@dataclass(frozen=True)
class CookiePolicy:
    """How this request's cookies are named and flagged; ``path`` is the stage prefix + ``/``."""

    secure: bool
    path: str

    @classmethod
    def for_request(cls, *, is_local: bool, host: str, forwarded_proto: str | None, prefix: str) -> CookiePolicy:
        hostname = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]", 1)[0] + "]"
        plain_local = is_local and hostname in _LOOPBACK_HOSTS and (forwarded_proto or "http") == "http"
        return cls(secure=not plain_local, path=(prefix or "") + "/")

    def name(self, base: str) -> str:
        # __Host- needs Secure and Path=/; behind a stage prefix the path is longer, so __Secure-.
        if not self.secure:
            return base
        return f"__Host-{base}" if self.path == "/" else f"__Secure-{base}"

    def read(self, cookies: Mapping[str, str], base: str) -> str | None:
        value = cookies.get(self.name(base))
        return value or None

    def set(self, base: str, value: str, *, max_age: int | None = None, http_only: bool = True) -> str:
        parts = [f"{self.name(base)}={value}", f"Path={self.path}", "SameSite=Strict"]
        if http_only:
            parts.append("HttpOnly")
        if self.secure:
            parts.append("Secure")
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        return "; ".join(parts)

    def clear(self, base: str) -> str:
        return self.set(base, "", max_age=0)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str | None, supplied: str | None) -> bool:
    """Double submit: the token in the form or header must equal the cookie's (constant time)."""
    if not expected or not supplied:
        return False
    return hmac.compare_digest(expected.encode(), supplied.encode())

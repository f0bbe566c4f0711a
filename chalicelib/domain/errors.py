"""Domain errors: what went wrong, in words a merchant can act on, in zh-TW and English.

The API layer maps the *kind* of error to an HTTP status; the domain never speaks HTTP.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every rule violation the platform reports to a caller.

    ``code`` is a stable machine-readable identifier (``INVALID_UBN``), ``field`` the
    dotted path of the offending input (``buyer.ubn``, ``items[2].quantity``) when one exists.
    """

    #: The MOF result code (E0113…) when it depends on more than ``code`` (set by the raiser);
    #: otherwise the API looks ``code`` up in its table (chalicelib/api/mof_codes.py).
    mof_code: str | None = None

    def __init__(self, code: str, message: str, message_zh: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.message_zh = message_zh
        self.field = field

    def with_field_prefix(self, prefix: str) -> DomainError:
        """The same error re-anchored under a parent field, e.g. ``items[0]`` + ``tax_type``."""
        joined = prefix if not self.field else f"{prefix}.{self.field}"
        clone = type(self)(self.code, self.message, self.message_zh, joined)
        clone.mof_code = self.mof_code
        return clone

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, field={self.field!r})"


class InvalidInput(DomainError):
    """A value is malformed: wrong length, pattern, enumeration or type (HTTP 400)."""


class RuleViolation(DomainError):
    """Well-formed input that breaks a business rule, e.g. a donation with a buyer UBN (HTTP 422)."""


class NotFound(DomainError):
    """The object does not exist *for this merchant* (HTTP 404)."""


class Conflict(DomainError):
    """The request clashes with current state, e.g. an overlapping track range (HTTP 409)."""


class Unauthenticated(DomainError):
    """No valid credential: wrong password, expired or revoked token, unknown API key (HTTP 401)."""


class Forbidden(DomainError):
    """Authenticated, but this principal may not do this (HTTP 403)."""


class RateLimited(DomainError):
    """Too many attempts; ``retry_after`` seconds until the next one is considered (HTTP 429)."""

    def __init__(
        self, code: str, message: str, message_zh: str, field: str | None = None, retry_after: int = 1
    ) -> None:
        super().__init__(code, message, message_zh, field)
        self.retry_after = max(1, retry_after)

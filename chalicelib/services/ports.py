"""Ports: what the use cases need from the outside world, as small Protocols.

Adapters in chalicelib/adapters implement them against DynamoDB, S3, SES and SNS; tests may use
the same adapters against DynamoDB Local and moto, or in-memory fakes for pure use-case tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain.tax_registry import TaxRegistration


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""


class TaxRegistryReader(Protocol):
    def get(self, ubn: str) -> TaxRegistration | None:
        """The registration of ``ubn``, or None when the tax office has no record."""


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> str:
        """Send a plain-text email; returns the provider's message id."""


class SmsSender(Protocol):
    def send(self, phone_number: str, message: str) -> str:
        """Send an SMS; returns the provider's message id."""


class AuditLog(Protocol):
    def record(self, owner: str, event: str, actor: str, detail: Mapping[str, Any] | None = None) -> None:
        """Append an event to ``owner``'s audit trail (never updated, never deleted)."""

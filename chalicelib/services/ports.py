"""Ports: what the use cases need from the outside world, as small Protocols.

Adapters in chalicelib/adapters implement them against DynamoDB, S3, SES and SNS; tests may use
the same adapters against DynamoDB Local and moto, or in-memory fakes for pure use-case tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain.events import Event
from chalicelib.domain.notifications import Notice
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


class Notices(Protocol):
    def notify(self, notice: Notice, *, channels: Sequence[str] = ("email", "sms")) -> bool:
        """Put ``notice`` in its merchant's inbox (once per ``notice.key``; True when new) and send it
        on ``channels`` where the merchant's settings ask for its kind; raises if it was not stored."""


class EventSink(Protocol):
    def publish(self, events: Sequence[Event]) -> None:
        """Store and fan out ``events`` (idempotent per event id); raises if that failed."""

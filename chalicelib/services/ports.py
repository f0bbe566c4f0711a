"""Ports: what the use cases need from the outside world, as small Protocols.

Adapters in chalicelib/adapters implement them against DynamoDB, S3, SES and SNS; tests may use
the same adapters against DynamoDB Local and moto, or in-memory fakes for pure use-case tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain.accounts import Credential, PendingCode, RefreshPointer, Session
from chalicelib.domain.events import Event
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.domain.issuing_state import CounterKey, IssuingState
from chalicelib.domain.merchant import MerchantProfile
from chalicelib.domain.notifications import Notice
from chalicelib.domain.period_totals import PeriodTotals
from chalicelib.domain.tax_registry import TaxRegistration
from chalicelib.domain.writes import Intent
from chalicelib.security.throttling import Claim, Limit


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


class CredentialStore(Protocol):
    """Password credentials of merchants and staff, by owner (domain/owners.py)."""

    def get(self, owner: str) -> Credential | None: ...

    def create(self, owner: str, password_hash: str, *, must_change_password: bool, at: datetime) -> None:
        """Raises Conflict when ``owner`` already has a credential."""

    def set_password(self, owner: str, password_hash: str, *, must_change_password: bool, at: datetime) -> None: ...


class SessionStore(Protocol):
    """Signed-in sessions and the refresh tokens that lead to them."""

    def create(self, session: Session) -> None: ...

    def get(self, owner: str, session_id: str) -> Session | None: ...

    def is_active(self, owner: str, session_id: str) -> bool: ...

    def pointer(self, session_id: str) -> RefreshPointer | None: ...

    def rotate(self, old: RefreshPointer, new: Session) -> bool:
        """Replace ``old`` by ``new`` atomically; False when ``old`` was already rotated (a replay)."""

    def revoke(self, owner: str, session_id: str) -> None: ...

    def revoke_all(self, owner: str, family: str | None = None) -> int: ...


class ThrottleStore(Protocol):
    """Attempt counters shared by every container (security/throttling.py has the rules)."""

    def claim(self, limit: Limit, subject: str, now: datetime) -> Claim | None:
        """Take one attempt slot of ``limit`` for ``subject``; None when the window is full."""

    def count(self, limit: Limit, subject: str, now: datetime) -> None: ...

    def release(self, claim: Claim) -> None: ...

    def claim_rolling(self, limit: Limit, subject: str, now: datetime) -> int | None: ...


class CaptchaStore(Protocol):
    def put(self, captcha_id: str, answer_hash: str, expires_at: datetime) -> None: ...

    def take(self, captcha_id: str) -> tuple[str, datetime] | None:
        """The answer's hash and expiry, removed so that a CAPTCHA is answered once."""


class MerchantStore(Protocol):
    """A merchant's profile and account, its one-time codes, and sign-up nonces."""

    def get_profile(self, ubn: str) -> dict[str, Any] | None: ...

    def profile(self, ubn: str) -> MerchantProfile | None:
        """The profile with its settings validated (``get_profile`` is the stored mapping)."""

    def create_account(
        self, profile: dict[str, Any], *, password_hash: str, must_change_password: bool, at: datetime
    ) -> None:
        """The profile and its credential together; raises Conflict when the UBN has an account."""

    def update_profile(self, ubn: str, changes: dict[str, Any]) -> dict[str, Any]: ...

    def put_code(self, ubn: str, code: PendingCode) -> None: ...

    def get_code(self, ubn: str, purpose: str) -> PendingCode | None: ...

    def claim_code_attempt(self, ubn: str, code: PendingCode, limit: int) -> int | None:
        """Count one try of ``code``; the tries so far, or None when it is gone or used up."""

    def delete_code(self, ubn: str, purpose: str) -> bool: ...

    def put_nonce(self, nonce: str, issued_at: datetime, expires_at: datetime) -> None: ...

    def take_nonce(self, nonce: str) -> datetime | None: ...


class InvoiceReader(Protocol):
    def get(self, ubn: str, number: str) -> InvoiceRecord | None: ...


class UnitOfWork(Protocol):
    def commit(self, intents: Sequence[Intent]) -> None:
        """Write every intent in one transaction, or none. Raises ``NumberTaken`` when a
        ``TakeNumber``'s counter moved since it was read, ``AlreadyRecorded`` when an intent's record
        exists already, ``StateChanged`` when what an intent required no longer holds, and
        ``Contended`` when a concurrent transaction was changing the same items (domain/writes.py)."""


class IssuingReads(Protocol):
    def read(self, ubn: str, counter: CounterKey, idempotency_key: str | None, order_id: str | None) -> IssuingState:
        """Everything issuing reads, in one round trip (strongly consistent)."""

    def idempotency_record(self, key_id: str) -> dict[str, Any] | None: ...

    def order_record(self, ubn: str, order_id: str) -> dict[str, Any] | None: ...


class Cursors(Protocol):
    """Opaque page cursors, bound to one owner and one list so that another's cannot be replayed."""

    def encode(self, owner: str, last_key: Mapping[str, Any] | None) -> str | None: ...

    def decode(self, owner: str, cursor: str | None) -> dict[str, Any] | None:
        """The page's start key; raises InvalidInput for a cursor that is not this owner's."""


class IdempotencyStore(Protocol):
    """Records of requests already answered (Idempotency-Key, payment notices), which expire."""

    def get(self, key_id: str) -> dict[str, Any] | None:
        """The record (strongly consistent), expired or not; None when there is none."""

    def remember(self, key_id: str, expires_at: int, now: int) -> bool:
        """Record ``key_id`` until ``expires_at``; False when an unexpired record exists."""


class FiledPeriods(Protocol):
    def is_filed(self, ubn: str, period: str) -> bool:
        """True once a return of ``period`` is filed: its sales may then change only by approval."""


class FilingStore(Protocol):
    """A merchant's returns per period: the head, its versions, payments, notices, jobs and the
    reconciliation of its running totals."""

    def inputs(self, ubn: str, period: str, previous: str) -> dict[str, Any]:
        """Everything a return needs, in two round trips whatever the invoice count: the period's
        totals (sales 07 and 08, purchases; summed over their shards), its head, and the previous
        period's head (for the credit carried over). ``totals`` keeps the items, for the guard."""

    def head(self, ubn: str, period: str) -> dict[str, Any] | None: ...

    def is_filed(self, ubn: str, period: str) -> bool: ...

    def heads(self, ubn: str, low: str, high: str) -> dict[str, dict[str, Any]]: ...

    def versions(self, ubn: str, period: str) -> list[dict[str, Any]]: ...

    def version(self, ubn: str, period: str, version: int) -> dict[str, Any] | None: ...

    def submit(
        self,
        ubn: str,
        period: str,
        version: Mapping[str, Any],
        head_fields: Mapping[str, Any],
        *,
        previous_version: int | None,
        seen: PeriodTotals,
        guarded_counts: tuple[str, ...],
        event: tuple[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """Store a version and make it current, only if no other version got there first and the
        totals still hold the ``guarded_counts`` they had when ``seen`` (a cancellation may not slip
        between)."""

    def add_payment(self, ubn: str, period: str, payment: Mapping[str, Any], amount: int) -> bool:
        """Record a payment of a filed period; False when its reference was recorded before (a retry)."""

    def payment(self, ubn: str, period: str, reference: str) -> dict[str, Any] | None: ...

    def mark(self, ubn: str, period: str, fields: Mapping[str, Any]) -> None:
        """Set fields on the period's head, creating it if needed (jobs' marks, reconciliation)."""

    def claim_notice(self, ubn: str, period: str, kind: str, at: str) -> bool:
        """True for the one caller that may send this notice; False if it was already claimed."""

    def release_notice(self, ubn: str, period: str, kind: str) -> None:
        """Undo a claim whose notice could not be sent, so that the next run sends it."""

    def notice(self, ubn: str, period: str, kind: str) -> dict[str, Any] | None: ...

    def reconciliation(self, ubn: str, period: str) -> dict[str, Any] | None: ...

    def save_reconciliation(self, ubn: str, period: str, state: Mapping[str, Any]) -> None: ...

    def totals(self, ubn: str, period: str) -> PeriodTotals:
        """The period's totals by group (07, 08, purchases), summed, with the items they came from."""

    def replace_totals(self, ubn: str, period: str, group: str, values: Mapping[str, int], existing: list[str]) -> None:
        """Overwrite one group's totals with recounted values (a repair after reconciliation)."""

    def job(self, name: str, period: str) -> dict[str, Any] | None: ...

    def save_job(self, name: str, period: str, state: Mapping[str, Any]) -> None: ...

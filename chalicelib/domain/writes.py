"""What a use case asks the write seam (unit of work) to commit, all or nothing.

A service hands ``UnitOfWork.commit`` a list of these intents; the adapter alone knows the keys,
the conditions and the transaction they become (adapters/dynamo_ledger.py). A condition that
refuses is reported as one of the named errors below, about the intent it concerned, so that no
service has to know the order of a transaction's actions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.counter import Counter
from chalicelib.domain.invoice_record import InvoiceRecord


@dataclass(frozen=True)
class TakeNumber:
    """Move ``counter`` past its next number, only if no other writer moved it since it was read.
    ``low_stock_notice`` (the number being issued) records that this issue queues the channel's
    low-stock notice; it then also requires that none is queued and ``remaining`` is as read."""

    ubn: str
    counter: Counter
    issued_at: str
    low_stock_notice: str | None = None


@dataclass(frozen=True)
class PutInvoice:
    """A new invoice; refused if its number is already stored."""

    ubn: str
    record: InvoiceRecord


@dataclass(frozen=True)
class AddToTotals:
    """Add ``changes`` (negative to subtract) to the seller's running totals of a period and
    invoice type (07/08), which the 401 return reads instead of the invoices."""

    ubn: str
    period: str
    invoice_type: str
    changes: Mapping[str, int]


@dataclass(frozen=True)
class AddToPurchases:
    """Add ``changes`` to a buyer's input side (format 25) of a period."""

    buyer_ubn: str
    period: str
    changes: Mapping[str, int]


@dataclass(frozen=True)
class PutOutboxItem:
    """A new outbox item: the work left after the commit (documents, mail, events) for ``subject``
    (an invoice or allowance number) and ``event``; ``fields`` are kept on it for that work."""

    ubn: str
    subject: str
    event: str
    steps: Mapping[str, str]
    created_at: str
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordIdempotencyKey:
    """Remember which invoice an ``Idempotency-Key`` made; refused while an unexpired record exists."""

    key_id: str  # "<ubn>#<key>"
    invoice_number: str
    fingerprint: str  # the request's hash: a different request with the same key is refused
    expires_at: int  # epoch seconds
    now: int  # epoch seconds: an expired record (deleted lazily) may be replaced


@dataclass(frozen=True)
class RecordOrderId:
    """Remember which invoice an ``order_id`` made; refused if the order id has one."""

    ubn: str
    order_id: str
    invoice_number: str
    fingerprint: str


Intent = TakeNumber | PutInvoice | AddToTotals | AddToPurchases | PutOutboxItem | RecordIdempotencyKey | RecordOrderId


class NumberTaken(Exception):
    """Another writer took the number first; ``counter`` is the counter as it is now, when known."""

    def __init__(self, counter: Counter | None) -> None:
        super().__init__("the number was taken by another writer")
        self.counter = counter


class AlreadyRecorded(Exception):
    """An intent's record already exists (an Idempotency-Key or order id already used, or the same
    item written by a concurrent identical request); ``stored`` is what is stored there now."""

    def __init__(self, intent: Intent, stored: Mapping[str, Any] | None) -> None:
        super().__init__(f"{type(intent).__name__} refused: already recorded")
        self.intent = intent
        self.stored = dict(stored) if stored is not None else None

"""Platform events: what a merchant's systems hear about (webhooks) and its inbox is told.

An event names one committed change of one merchant (an invoice issued, an allowance cancelled, a
return ready). Its id is derived from the change itself (merchant, subject, what happened), never
drawn at random: whoever turns the same change into an event again (an outbox retry, a job run a
second time) gets the same id, so the event is stored once and a receiver that saw it can drop the
repeat. Webhook receivers are told to deduplicate on this id (at-least-once delivery).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.period import TAIWAN_TZ
from chalicelib.domain.timestamps import in_taiwan_time

INVOICE_ISSUED = "invoice.issued"
INVOICE_CANCELLED = "invoice.cancelled"
INVOICE_VOIDED = "invoice.voided"
INVOICE_REISSUED = "invoice.reissued"
INVOICE_WON = "invoice.won"
EXCHANGE_RECEIVED = "exchange.received"
EXCHANGE_CONFIRMED = "exchange.confirmed"
EXCHANGE_REJECTED = "exchange.rejected"
EXCHANGE_REJECTION_CONFIRMED = "exchange.rejection_confirmed"
EXCHANGE_CANCEL_REQUESTED = "exchange.cancel_requested"
EXCHANGE_CANCELLED = "exchange.cancelled"
INVOICE_WIN_WITHDRAWN = "invoice.win_withdrawn"
EXCHANGE_ALLOWANCE_RECEIVED = "exchange.allowance_received"
EXCHANGE_ALLOWANCE_CONFIRMED = "exchange.allowance_confirmed"
EXCHANGE_ALLOWANCE_CANCEL_REQUESTED = "exchange.allowance_cancel_requested"
EXCHANGE_ALLOWANCE_CANCELLED = "exchange.allowance_cancelled"
ALLOWANCE_ISSUED = "allowance.issued"
ALLOWANCE_CANCELLED = "allowance.cancelled"
ALLOWANCE_VOIDED = "allowance.voided"
ALLOWANCE_REISSUED = "allowance.reissued"
PENDING_INVOICE_ISSUED = "pending_invoice.issued"
DELIVERY_FAILED = "delivery.failed"
FILING_READY = "filing.ready"
FILING_SUBMITTED = "filing.submitted"
TRACK_LOW_STOCK = "track.low_stock"
ANNOUNCEMENT_PUBLISHED = "announcement.published"

#: Every event type, in the order the docs and the console list them.
EVENT_TYPES: tuple[str, ...] = (
    INVOICE_ISSUED,
    INVOICE_CANCELLED,
    INVOICE_VOIDED,
    INVOICE_REISSUED,
    INVOICE_WON,
    EXCHANGE_RECEIVED,
    EXCHANGE_CONFIRMED,
    EXCHANGE_REJECTED,
    EXCHANGE_REJECTION_CONFIRMED,
    EXCHANGE_CANCEL_REQUESTED,
    EXCHANGE_CANCELLED,
    INVOICE_WIN_WITHDRAWN,
    EXCHANGE_ALLOWANCE_RECEIVED,
    EXCHANGE_ALLOWANCE_CONFIRMED,
    EXCHANGE_ALLOWANCE_CANCEL_REQUESTED,
    EXCHANGE_ALLOWANCE_CANCELLED,
    ALLOWANCE_ISSUED,
    ALLOWANCE_CANCELLED,
    ALLOWANCE_VOIDED,
    ALLOWANCE_REISSUED,
    PENDING_INVOICE_ISSUED,
    DELIVERY_FAILED,
    FILING_READY,
    FILING_SUBMITTED,
    TRACK_LOW_STOCK,
    ANNOUNCEMENT_PUBLISHED,
)

#: What each event type means, for the docs and the console (zh-TW, English).
EVENT_DESCRIPTIONS: dict[str, tuple[str, str]] = {
    INVOICE_ISSUED: ("發票已開立", "An invoice was issued"),
    INVOICE_CANCELLED: ("發票已作廢", "An invoice was cancelled (作廢)"),
    INVOICE_VOIDED: ("發票已註銷", "An invoice was voided (註銷) to be re-issued"),
    INVOICE_REISSUED: ("發票已註銷重開", "A voided invoice was re-issued under its number"),
    INVOICE_WON: ("發票中獎", "An invoice won a prize of the invoice lottery (統一發票給獎)"),
    # B2B exchange (交換): each tells the counterpart of the party that took the step.
    EXCHANGE_RECEIVED: ("收到交換發票，待確認", "A B2B exchange invoice was issued to you: confirm or reject it"),
    EXCHANGE_CONFIRMED: ("交換發票已獲買方確認", "Your buyer confirmed an exchanged invoice (A0102)"),
    EXCHANGE_REJECTED: ("交換發票遭買方退回", "Your buyer rejected an exchanged invoice (A0301): confirm it"),
    EXCHANGE_REJECTION_CONFIRMED: ("賣方已確認退回", "The seller confirmed your rejection (A0302)"),
    EXCHANGE_CANCEL_REQUESTED: ("賣方要求作廢交換發票", "A seller asks to cancel an invoice it sent you (A0201)"),
    EXCHANGE_CANCELLED: ("交換發票作廢已獲確認", "Your buyer confirmed the cancel of an exchanged invoice (A0202)"),
    INVOICE_WIN_WITHDRAWN: (
        "發票中獎撤銷",
        "A win was withdrawn: the period's winning numbers were corrected and the invoice no longer wins",
    ),
    EXCHANGE_ALLOWANCE_RECEIVED: (
        "收到交換折讓證明單，待確認",
        "Your counterpart issued an allowance on an exchanged invoice (B0101): confirm it",
    ),
    EXCHANGE_ALLOWANCE_CONFIRMED: ("交換折讓證明單已獲對方確認", "Your counterpart confirmed your allowance (B0102)"),
    EXCHANGE_ALLOWANCE_CANCEL_REQUESTED: (
        "對方要求作廢交換折讓證明單",
        "Your counterpart asks to cancel an allowance it issued (B0201): confirm it",
    ),
    EXCHANGE_ALLOWANCE_CANCELLED: (
        "交換折讓證明單作廢已獲確認",
        "Your counterpart confirmed the cancel of your allowance (B0202)",
    ),
    ALLOWANCE_ISSUED: ("折讓已開立", "An allowance (折讓) was issued"),
    ALLOWANCE_CANCELLED: ("折讓已作廢", "An allowance was cancelled"),
    ALLOWANCE_VOIDED: ("折讓已註銷", "An allowance was voided (註銷, G0701) to be re-issued"),
    ALLOWANCE_REISSUED: ("折讓已註銷重開", "A voided allowance was re-issued under its number"),
    PENDING_INVOICE_ISSUED: ("待開發票已開立", "A pending invoice was issued when it was paid"),
    DELIVERY_FAILED: ("發票通知寄送失敗", "An invoice's mail to its buyer failed for good"),
    FILING_READY: ("申報資料已備妥", "A period's return and blank-number report are ready"),
    FILING_SUBMITTED: ("營業稅已申報", "A period's business-tax return was submitted"),
    TRACK_LOW_STOCK: ("字軌號碼即將用完", "A channel is running out of invoice numbers"),
    ANNOUNCEMENT_PUBLISHED: ("系統公告已發布", "An announcement for this merchant was published"),
}


#: Outbox items that stand for nothing but an event are named ``event:<type>`` and carry the object
#: in ``payload`` (a change with no documents to make, e.g. a submitted return).
OUTBOX_EVENT_PREFIX = "event:"


def outbox_event_name(event_type: str) -> str:
    """The outbox ``event`` of an item that stands for ``event_type`` alone."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}")
    return OUTBOX_EVENT_PREFIX + event_type


def event_id(ubn: str, source: str) -> str:
    """The id of the event that reports change ``source`` of merchant ``ubn`` (same change, same id)."""
    digest = hashlib.sha256(f"{ubn}\x1f{source}".encode()).hexdigest()
    return f"evt_{digest[:32]}"


@dataclass(frozen=True)
class Event:
    """One event of one merchant; ``data`` is the object as the API shows it (an invoice, an allowance…)."""

    ubn: str
    type: str
    source: str  # what changed, e.g. "invoice:AB12345678:issued": the id is derived from it
    created: datetime
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {self.type!r}")
        if self.created.tzinfo is None:
            raise ValueError("an event's time must carry its offset")

    @property
    def id(self) -> str:
        return event_id(self.ubn, self.source)

    def envelope(self) -> dict[str, Any]:
        """The JSON a webhook receiver gets (and ``GET /v1/events/{id}`` answers)."""
        return {
            "id": self.id,
            "type": self.type,
            "created": self.created.astimezone(TAIWAN_TZ).isoformat(),
            "merchant": self.ubn,
            "data": {"object": in_taiwan_time(self.data)},
        }

    def body(self) -> str:
        """The envelope as the exact bytes that are signed and sent: one serialisation, stored once,
        so every retry and replay of an event carries the same body."""
        return json.dumps(self.envelope(), ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def parse_time(value: str) -> datetime:
    """A stored ISO stamp as an aware datetime (stamps without an offset were written in UTC)."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

"""The low-stock notice: a channel is running out of invoice numbers for the period.

It is never sent while issuing. The issue that first leaves the channel below the merchant's
threshold writes an outbox item (event ``low_stock``) in the same transaction as its invoice, so the
notice exists exactly when the invoice does, and the outbox processor mails it like any other
delivery: claimed with a lease, retried until sent, sent once (services/outbox.py).

One notice per shortage, even with many tills issuing at once: the item is keyed by the invoice
number whose issue queued it, and that issue also writes the number to the counter
(``low_stock_notice``) on the condition that no notice is queued yet (adapters/dynamo_tracks.py).
Of concurrent issuers only one commits each number, so only one queues the notice; the others
retry with the counter as it is now and see it queued. ``low_stock_notified`` is set by the
processor only after the mail was sent, and only while the item is still the channel's notice.
Assigning booklets clears both: a notice still unsent is then skipped as out of date, and the next
issue below the threshold queues a new one with the new count.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any, Protocol

from chalicelib.domain.counter import Counter
from chalicelib.domain.owners import merchant_owner
from chalicelib.domain.writes import PutOutboxItem
from chalicelib.services.ports import AuditLog

EVENT = "low_stock"
STEP_ORDER = ("email",)

_SUBJECT = "電子發票字軌號碼即將用罄 / Invoice numbers running low"
_BODY = (
    "您的開立通路 {channel} 在 {period} 期僅剩 {remaining} 個發票號碼。請於平台取號並指派字軌本，以免無法開立發票。\n"
    "Channel {channel} has {remaining} invoice numbers left for period {period}. "
    "Activate and assign more booklets so issuing does not stop.\n"
)


def is_due(counter: Counter, remaining: int, threshold: int | None) -> bool:
    """Whether the issue that leaves ``remaining`` numbers should queue the notice."""
    if threshold is None or remaining >= threshold:
        return False
    return not (counter.low_stock_notified or counter.low_stock_notice)


def notice_intent(
    ubn: str, counter: Counter, number: str, remaining: int, threshold: int, created: str
) -> PutOutboxItem:
    """The notice's outbox item, committed with the issue that crosses the threshold."""
    fields = {
        "period": counter.period,
        "invoice_type": counter.invoice_type,
        "channel": counter.channel,
        "remaining": remaining,
        "threshold": threshold,
    }
    return PutOutboxItem(ubn, number, EVENT, {"email": "pending"}, created, fields)


def notice_email(item: Mapping[str, Any], *, to: str, sender: str, sent_at: datetime) -> bytes:
    """The merchant's mail (zh-TW first, then English) for the outbox item ``item``."""
    message = EmailMessage(policy=SMTP)
    message["Subject"] = _SUBJECT
    message["From"] = Address(display_name="電子發票平台", addr_spec=sender)
    message["To"] = to
    message["Date"] = format_datetime(sent_at)
    text = _BODY.format(channel=item["channel"], period=item["period"], remaining=int(item["remaining"]))
    message.set_content(text, charset="utf-8")
    return message.as_bytes()


class NoticeCounters(Protocol):
    def counter(self, ubn: str, period: str, invoice_type: str, channel: str) -> Counter | None: ...
    def mark_low_stock_notified(self, ubn: str, period: str, invoice_type: str, channel: str, notice: str) -> bool: ...


class LowStockNotices:
    """What the outbox processor asks about a notice item besides sending it."""

    def __init__(self, *, counters: NoticeCounters, audit: AuditLog) -> None:
        self._counters = counters
        self._audit = audit

    def current(self, item: Mapping[str, Any]) -> bool:
        """Still the channel's notice: no booklets were assigned since it was queued."""
        counter = self._counters.counter(
            str(item["ubn"]), str(item["period"]), str(item["invoice_type"]), str(item["channel"])
        )
        return counter is not None and counter.low_stock_notice == item["invoice_number"]

    def sent(self, item: Mapping[str, Any]) -> None:
        """Mark the counter notified (idempotent) and, the first time, say so in the audit trail."""
        ubn = str(item["ubn"])
        if self._counters.mark_low_stock_notified(
            ubn, str(item["period"]), str(item["invoice_type"]), str(item["channel"]), str(item["invoice_number"])
        ):
            self._audit.record(
                merchant_owner(ubn),
                "low_stock_warning",
                "system",
                {"channel": item["channel"], "period": item["period"], "remaining": int(item["remaining"])},
            )

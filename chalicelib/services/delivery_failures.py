"""Invoice mail that bounced for good: recorded on the invoice and reported (``delivery.failed``).

The SES notification is read by domain/mail_feedback.py; the record, its history entry and the
event's outbox item are one transaction (adapters/dynamo_bounces.py), so the merchant's webhook and
inbox hear of exactly the bounces the invoice shows.
"""

from __future__ import annotations

from typing import Any, Protocol

from chalicelib.domain.mail_feedback import Bounce, permanent_bounce
from chalicelib.observability import logger


class BounceStore(Protocol):
    def record(self, bounce: Bounce, payload: dict[str, Any]) -> bool: ...


def payload(bounce: Bounce) -> dict[str, Any]:
    number = bounce.invoice_number
    return {
        "invoice_number": number,
        "channel": "email",
        "recipients": list(bounce.recipients),
        "bounce_type": bounce.bounce_type,
        "bounce_sub_type": bounce.bounce_sub_type,
        "reason": bounce.reason,
        "bounced_at": bounce.at.isoformat(),
        "links": {"invoice": f"/v1/invoices/{number}", "resend": f"/v1/invoices/{number}/notify"},
    }


class DeliveryFailures:
    def __init__(self, *, store: BounceStore) -> None:
        self._store = store

    def handle(self, message: str) -> bool:
        """Record the permanent bounce in SES notification ``message``; True if it was a new one."""
        bounce = permanent_bounce(message)
        if bounce is None:
            return False
        # The event's outbox item is written with the bounce: the table's stream wakes the outbox.
        recorded = self._store.record(bounce, payload(bounce))
        if not recorded:
            logger.info("bounce already recorded or not ours", extra={"invoice_number": bounce.invoice_number})
        return recorded

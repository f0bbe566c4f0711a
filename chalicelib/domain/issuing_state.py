"""What issuing an invoice reads before it commits, in one round trip."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.domain.counter import Counter


@dataclass(frozen=True)
class CounterKey:
    """Which counter: a channel's, for one period and invoice type (07/08)."""

    period: str
    invoice_type: str
    channel: str


@dataclass(frozen=True)
class IssuingState:
    profile: dict[str, Any] | None  # the merchant's profile, its QR key opened; None: no such merchant
    counter: Counter | None  # the channel's counter; None: no booklet ever assigned to it
    idempotency: dict[str, Any] | None = None  # the Idempotency-Key's record, when a key was sent
    order: dict[str, Any] | None = None  # the order id's record, when an order id was sent

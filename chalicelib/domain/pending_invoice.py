"""A pending invoice (待開立發票): an invoice held for an order until its payment arrives.

It is validated completely when it is created but takes no number: numbers are issued in order and
must not be used by an order that may never be paid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

PENDING = "pending"
ISSUED = "issued"
DEFAULT_CHANNEL = "api"


class PendingView(BaseModel):
    pending_id: str
    order_id: str
    status: str
    channel: str
    created_at: str
    amounts: dict[str, Any]
    invoice_number: str | None = None
    issued_at: str | None = None


@dataclass(frozen=True)
class Pending:
    ubn: str
    pending_id: str
    order_id: str
    status: str
    channel: str
    body: dict[str, Any]
    fingerprint: str
    amounts: dict[str, Any]
    created_at: str
    invoice_number: str | None = None
    issued_at: str | None = None

    def view(self) -> PendingView:
        return PendingView(
            pending_id=self.pending_id,
            order_id=self.order_id,
            status=self.status,
            channel=self.channel,
            created_at=self.created_at,
            amounts=self.amounts,
            invoice_number=self.invoice_number,
            issued_at=self.issued_at,
        )


@dataclass(frozen=True)
class PendingList:
    items: list[PendingView]
    truncated: bool

"""Pay then issue: invoices held for an order until its payment arrives.

A pending invoice is validated completely when it is created (so the payment notice cannot fail
on the content) but takes no number: numbers are issued in order and must not be used by an
order that may never be paid. Issuing goes through ``InvoicingService.issue`` with the stored
body, whose ``order_id`` makes it idempotent: however often a trigger or a payment notice repeats,
the order gets one invoice.

The store (adapters/dynamo_pending_invoices.py) keeps one pending invoice per order.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any, Protocol

from chalicelib.domain.channels import validate_channel
from chalicelib.domain.clock import Clock
from chalicelib.domain.errors import Conflict, NotFound, RuleViolation
from chalicelib.domain.invoice import parse_draft, validate_draft
from chalicelib.domain.pending_invoice import DEFAULT_CHANNEL, ISSUED, PENDING, Pending
from chalicelib.services.idempotency import request_hash
from chalicelib.services.invoicing import InvoicingService, Issued, ensure_ready_to_issue
from chalicelib.services.ports import IssuingReads, MerchantStore


def not_found() -> NotFound:
    return NotFound("PENDING_INVOICE_NOT_FOUND", "No such pending invoice", "查無此待開立發票")


class PendingStore(Protocol):
    def create(self, pending: Pending) -> bool: ...
    def get(self, ubn: str, pending_id: str) -> Pending | None: ...
    def by_order(self, ubn: str, order_id: str) -> Pending | None: ...
    def mark_issued(self, pending: Pending, invoice_number: str, at: str) -> None: ...
    def delete(self, pending: Pending) -> bool: ...


def _already_issued() -> Conflict:
    return Conflict(
        "PENDING_ALREADY_ISSUED",
        "This pending invoice was already issued; cancel the invoice instead",
        "此待開立發票已開立，請改為作廢該發票",
    )


class PendingInvoiceService:
    def __init__(
        self,
        *,
        store: PendingStore,
        invoicing: InvoicingService,
        merchants: MerchantStore,
        reads: IssuingReads,
        clock: Clock,
    ) -> None:
        self._store = store
        self._invoicing = invoicing
        self._merchants = merchants
        self._reads = reads
        self._clock = clock

    def create(self, ubn: str, order_id: str, invoice: Mapping[str, Any]) -> tuple[Pending, bool]:
        """Hold ``invoice`` for ``order_id``; ``(pending, created)``. The same order and body again
        answer the first pending invoice (a safe retry); a different body for the order is 409."""
        body = dict(invoice)
        channel = validate_channel(body.pop("channel", None) or DEFAULT_CHANNEL, "invoice.channel")
        if body.get("order_id") not in (None, order_id):
            raise RuleViolation(
                "ORDER_ID_MISMATCH",
                "invoice.order_id differs from order_id; leave it out",
                "invoice.order_id 與 order_id 不一致，請省略 invoice.order_id",
                "invoice.order_id",
            )
        body["order_id"] = order_id
        draft = parse_draft(body)
        self._check_ready(ubn)
        validated = validate_draft(draft, seller_ubn=ubn)
        fingerprint = request_hash(body)
        existing = self._store.by_order(ubn, order_id)
        if existing is not None:
            return self._same_order(existing, fingerprint, channel), False
        if self._invoicing_order_exists(ubn, order_id):
            raise Conflict(
                "ORDER_ALREADY_INVOICED",
                "This order already has an invoice",
                "此訂單已開立發票",
                "order_id",
            )
        pending = Pending(
            ubn=ubn,
            pending_id="pnd_" + secrets.token_hex(12),
            order_id=order_id,
            status=PENDING,
            channel=channel,
            body=body,
            fingerprint=fingerprint,
            amounts=validated.amounts.model_dump(mode="json"),
            created_at=self._clock.now().isoformat(),
        )
        if self._store.create(pending):
            return pending, True
        # Another request created one for this order between our read and our write.
        raced = self._store.by_order(ubn, order_id)
        if raced is None:
            raise Conflict("PENDING_ORDER_EXISTS", "Try again", "請再試一次", "order_id")
        return self._same_order(raced, fingerprint, channel), False

    @staticmethod
    def _same_order(existing: Pending, fingerprint: str, channel: str) -> Pending:
        if existing.fingerprint == fingerprint and existing.channel == channel:
            return existing
        raise Conflict(
            "PENDING_ORDER_EXISTS",
            "This order already has a pending invoice with different content",
            "此訂單已有內容不同的待開立發票",
            "order_id",
        )

    def _invoicing_order_exists(self, ubn: str, order_id: str) -> bool:
        return self._reads.order_record(ubn, order_id) is not None

    def _check_ready(self, ubn: str) -> None:
        """What ``issue`` would refuse later is refused now, so a paid order cannot fail on it."""
        profile = self._merchants.profile(ubn)
        if profile is None:
            raise NotFound("MERCHANT_NOT_FOUND", "No such merchant", "查無此營業人")
        ensure_ready_to_issue(profile)

    def get(self, ubn: str, pending_id: str) -> Pending:
        pending = self._store.get(ubn, pending_id)
        if pending is None:
            raise not_found()
        return pending

    def by_order(self, ubn: str, order_id: str) -> Pending | None:
        return self._store.by_order(ubn, order_id)

    def trigger(self, pending: Pending, *, actor: str) -> Issued:
        """Issue the held invoice now (or answer the invoice it already became)."""
        issued = self._invoicing.issue(
            pending.ubn, pending.body, channel=pending.channel, actor=actor, origin=f"pending:{pending.pending_id}"
        )
        if pending.status != ISSUED:
            self._store.mark_issued(pending, issued.record.invoice_number, issued.record.issued_at.isoformat())
        return issued

    def delete(self, ubn: str, pending_id: str) -> None:
        pending = self.get(ubn, pending_id)
        if pending.status == ISSUED or not self._store.delete(pending):
            if self._store.get(ubn, pending_id) is None:
                raise not_found()
            raise _already_issued()

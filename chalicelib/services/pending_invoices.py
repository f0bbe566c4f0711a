"""Pay then issue: invoices held for an order until its payment arrives.

A pending invoice is validated completely when it is created (so the payment notice cannot fail
on the content) but takes no number: numbers are issued in order and must not be used by an
order that may never be paid. Issuing goes through ``InvoicingService.issue`` with the stored
body, whose ``order_id`` makes it idempotent: however often a trigger or a payment notice repeats,
the order gets one invoice.

Items in the invoices table (the merchant's partition):

- ``sk=PENDING#<pending_id>``: the held invoice body, its computed amounts and its status.
- ``sk=PENDINGORDER#<order_id>``: one pending invoice per order, written in the same transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import ClientError
from pydantic import BaseModel

from chalicelib.adapters.dynamo import cancellation_reasons, dynamodb, get, key, to_item
from chalicelib.adapters.dynamo_invoices import invoices_table, owner
from chalicelib.adapters.dynamo_merchants import DynamoMerchants
from chalicelib.domain.channels import validate_channel
from chalicelib.domain.clock import Clock
from chalicelib.domain.errors import Conflict, NotFound, RuleViolation
from chalicelib.domain.invoice import parse_draft, validate_draft
from chalicelib.services.invoicing import InvoicingService, Issued, ensure_ready_to_issue, request_hash
from chalicelib.services.merchant_profile import MerchantSettings

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


def not_found() -> NotFound:
    return NotFound("PENDING_INVOICE_NOT_FOUND", "No such pending invoice", "查無此待開立發票")


class PendingStore(Protocol):
    def create(self, pending: Pending) -> bool: ...
    def get(self, ubn: str, pending_id: str) -> Pending | None: ...
    def by_order(self, ubn: str, order_id: str) -> Pending | None: ...
    def mark_issued(self, pending: Pending, invoice_number: str, at: str) -> None: ...
    def delete(self, pending: Pending) -> bool: ...


class DynamoPendingInvoices:
    """The adapter: pending items and their order index in the invoices table."""

    @staticmethod
    def _item_key(ubn: str, pending_id: str) -> dict[str, Any]:
        return key(owner(ubn), f"PENDING#{pending_id}")

    @staticmethod
    def _order_key(ubn: str, order_id: str) -> dict[str, Any]:
        return key(owner(ubn), f"PENDINGORDER#{order_id}")

    def create(self, pending: Pending) -> bool:
        """Both items or neither; False when the order already has a pending invoice."""
        item = {
            "pk": owner(pending.ubn),
            "sk": f"PENDING#{pending.pending_id}",
            "pending_id": pending.pending_id,
            "order_id": pending.order_id,
            "status": pending.status,
            "channel": pending.channel,
            "body": pending.body,
            "validation": pending.fingerprint,
            "amounts": pending.amounts,
            "created_at": pending.created_at,
        }
        index = {
            "pk": owner(pending.ubn),
            "sk": f"PENDINGORDER#{pending.order_id}",
            "pending_id": pending.pending_id,
        }
        try:
            dynamodb().transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": invoices_table(),
                            "Item": to_item(item),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": invoices_table(),
                            "Item": to_item(index),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        except ClientError as exc:
            if "ConditionalCheckFailed" in cancellation_reasons(exc):
                return False
            raise
        return True

    def get(self, ubn: str, pending_id: str) -> Pending | None:
        item = get(invoices_table(), owner(ubn), f"PENDING#{pending_id}")
        return _pending(ubn, item) if item else None

    def by_order(self, ubn: str, order_id: str) -> Pending | None:
        index = get(invoices_table(), owner(ubn), f"PENDINGORDER#{order_id}")
        return self.get(ubn, str(index["pending_id"])) if index else None

    def mark_issued(self, pending: Pending, invoice_number: str, at: str) -> None:
        # Conditional so a concurrent DELETE is not undone by re-creating a half item; marking an
        # already issued item again with the same number is harmless (the invoice is the same).
        try:
            dynamodb().update_item(
                TableName=invoices_table(),
                Key=self._item_key(pending.ubn, pending.pending_id),
                UpdateExpression="SET #s = :issued, invoice_number = :n, issued_at = if_not_exists(issued_at, :at)",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=to_item({":issued": ISSUED, ":n": invoice_number, ":at": at}),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    def delete(self, pending: Pending) -> bool:
        """Delete both items while still pending; False when it was issued meanwhile."""
        try:
            dynamodb().transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": invoices_table(),
                            "Key": self._item_key(pending.ubn, pending.pending_id),
                            "ConditionExpression": "#s = :pending",
                            "ExpressionAttributeNames": {"#s": "status"},
                            "ExpressionAttributeValues": {":pending": {"S": PENDING}},
                        }
                    },
                    {
                        "Delete": {
                            "TableName": invoices_table(),
                            "Key": self._order_key(pending.ubn, pending.order_id),
                            "ConditionExpression": "pending_id = :id",
                            "ExpressionAttributeValues": {":id": {"S": pending.pending_id}},
                        }
                    },
                ]
            )
        except ClientError as exc:
            if "ConditionalCheckFailed" in cancellation_reasons(exc):
                return False
            raise
        return True


def _pending(ubn: str, item: Mapping[str, Any]) -> Pending:
    return Pending(
        ubn=ubn,
        pending_id=str(item["pending_id"]),
        order_id=str(item["order_id"]),
        status=str(item["status"]),
        channel=str(item.get("channel") or DEFAULT_CHANNEL),
        body=dict(item["body"]),
        fingerprint=str(item.get("validation", "")),
        amounts=dict(item.get("amounts") or {}),
        created_at=str(item["created_at"]),
        invoice_number=item.get("invoice_number"),
        issued_at=item.get("issued_at"),
    )


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
        merchants: DynamoMerchants,
        clock: Clock,
    ) -> None:
        self._store = store
        self._invoicing = invoicing
        self._merchants = merchants
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
        return get(invoices_table(), owner(ubn), f"ORDER#{order_id}") is not None

    def _check_ready(self, ubn: str) -> None:
        """What ``issue`` would refuse later is refused now, so a paid order cannot fail on it."""
        profile = self._merchants.get_profile(ubn)
        if profile is None:
            raise NotFound("MERCHANT_NOT_FOUND", "No such merchant", "查無此營業人")
        ensure_ready_to_issue(profile, MerchantSettings.model_validate(profile.get("settings") or {}))

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

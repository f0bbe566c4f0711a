"""Pending invoices in the invoices table (the merchant's partition).

- ``sk=PENDING#<pending_id>``: the held invoice body, its computed amounts and its status.
- ``sk=PENDINGORDER#<order_id>``: one pending invoice per order, written in the same transaction.

The console's list reads the merchant's ``PENDING#`` items whole (up to ``MAX_LISTED``, without
the held bodies) and sorts them newest first: the ids are random, so the key order says nothing
about time. Unpaid orders are few at any time; past the bound the console says the list is cut
short rather than pretending it is complete.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import cancellation_reasons, dynamodb, from_item, get, key, to_item
from chalicelib.adapters.dynamo_invoices import invoices_table, owner
from chalicelib.domain.pending_invoice import DEFAULT_CHANNEL, ISSUED, PENDING, Pending, PendingList, PendingView

MAX_LISTED = 1_000
_PAGE = 200
_FIELDS = ("pending_id", "order_id", "status", "channel", "created_at", "amounts", "invoice_number", "issued_at")


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


class DynamoPendingListing:
    def find(self, ubn: str, status: str | None = None) -> PendingList:
        """Every pending invoice of ``ubn`` (``status`` pending or issued, else both), newest first."""
        names = {f"#f{i}": name for i, name in enumerate(_FIELDS)}
        request: dict[str, Any] = {
            "TableName": invoices_table(),
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": owner(ubn)}, ":prefix": {"S": "PENDING#"}},
            "ExpressionAttributeNames": names,
            "ProjectionExpression": ", ".join(names),
            "Limit": _PAGE,
        }
        found: list[PendingView] = []
        truncated = False
        while True:
            response = dynamodb().query(**request)
            for item in response.get("Items", []):
                found.append(_view(from_item(item)))
            last = response.get("LastEvaluatedKey")
            if not last:
                break
            if len(found) >= MAX_LISTED:
                truncated = True
                break
            request["ExclusiveStartKey"] = last
        found.sort(key=lambda p: p.created_at, reverse=True)
        if status:
            found = [p for p in found if p.status == status]
        return PendingList(items=found[:MAX_LISTED], truncated=truncated or len(found) > MAX_LISTED)


def _view(item: dict[str, Any]) -> PendingView:
    return PendingView(
        pending_id=str(item["pending_id"]),
        order_id=str(item["order_id"]),
        status=str(item["status"]),
        channel=str(item.get("channel") or DEFAULT_CHANNEL),
        created_at=str(item["created_at"]),
        amounts=dict(item.get("amounts") or {}),
        invoice_number=str(item["invoice_number"]) if item.get("invoice_number") else None,
        issued_at=str(item["issued_at"]) if item.get("issued_at") else None,
    )

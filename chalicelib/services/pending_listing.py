"""The merchant's pending invoices (待開立發票) as a list, for the console.

The JSON API reads pending invoices one at a time (an ERP knows its order ids); a person needs to
see them all. They live in the merchant's partition under ``PENDING#<id>``, and the ids are random,
so the key order says nothing about time: the list is read whole (up to ``MAX_LISTED``, without the
held bodies) and sorted newest first here. Unpaid orders are few at any time; past the bound the
console says the list is cut short rather than pretending it is complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chalicelib.adapters.dynamo import dynamodb, from_item
from chalicelib.adapters.dynamo_invoices import invoices_table, owner
from chalicelib.services.pending_invoices import DEFAULT_CHANNEL, PendingView

MAX_LISTED = 1_000
_PAGE = 200
_FIELDS = ("pending_id", "order_id", "status", "channel", "created_at", "amounts", "invoice_number", "issued_at")


@dataclass(frozen=True)
class PendingList:
    items: list[PendingView]
    truncated: bool


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

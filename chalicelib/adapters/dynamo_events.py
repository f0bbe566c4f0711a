"""Events in the invoices table, one item per event of a merchant.

- ``pk=MERCHANT#<ubn>, sk=EVENT#<event id>``: the event (type, source, created, the exact body that
  is signed and sent), with ``published`` once every subscriber has it. gsi1
  (``EVENTS#<ubn>`` / ``<created UTC>#<event id>``) lists a merchant's events newest first; its own
  partition, so it never mixes into the invoices' ``MERCHANT#<ubn>`` date index.

An event is stored with a condition (``attribute_not_exists``), so the second writer of the same
change (an outbox retry) finds it and writes nothing.
"""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from chalicelib.adapters.dynamo import dynamodb, from_item, get, key, put_new, to_item
from chalicelib.adapters.dynamo_invoices import invoices_table, owner
from chalicelib.domain.events import Event, parse_time


def event_sort_key(event_id: str) -> str:
    return f"EVENT#{event_id}"


def _stamp(event: Event) -> str:
    return event.created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def to_event(item: dict[str, Any]) -> Event:
    return Event(
        ubn=str(item["ubn"]),
        type=str(item["type"]),
        source=str(item["source"]),
        created=parse_time(str(item["created"])),
        data=json.loads(str(item["body"]))["data"]["object"],
    )


class DynamoEvents:
    def add(self, event: Event) -> bool:
        item = {
            "pk": owner(event.ubn),
            "sk": event_sort_key(event.id),
            "gsi1pk": f"EVENTS#{event.ubn}",
            "gsi1sk": f"{_stamp(event)}#{event.id}",
            "ubn": event.ubn,
            "event_id": event.id,
            "type": event.type,
            "source": event.source,
            "created": event.created.isoformat(),
            # The body as sent, stored as text: every retry and replay signs and sends these bytes.
            "body": event.body(),
            "published": False,
        }
        return put_new(invoices_table(), item)

    def get(self, ubn: str, event_id: str) -> dict[str, Any] | None:
        return get(invoices_table(), owner(ubn), event_sort_key(event_id))

    def event(self, ubn: str, event_id: str) -> Event | None:
        item = self.get(ubn, event_id)
        return to_event(item) if item else None

    def body(self, ubn: str, event_id: str) -> str | None:
        item = self.get(ubn, event_id)
        return str(item["body"]) if item else None

    def published(self, ubn: str, event_id: str) -> bool:
        item = self.get(ubn, event_id)
        return bool(item and item.get("published"))

    def mark_published(self, ubn: str, event_id: str) -> None:
        dynamodb().update_item(
            TableName=invoices_table(),
            Key=key(owner(ubn), event_sort_key(event_id)),
            UpdateExpression="SET published = :yes",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=to_item({":yes": True}),
        )

    def recent(
        self, ubn: str, *, limit: int = 50, start: dict[str, Any] | None = None, event_type: str | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """A page of the merchant's events, newest first, and the key to continue from."""
        request: dict[str, Any] = {
            "TableName": invoices_table(),
            "IndexName": "gsi1",
            "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": to_item({":pk": f"EVENTS#{ubn}"}),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if event_type:
            request["FilterExpression"] = "#type = :type"
            request["ExpressionAttributeNames"] = {"#type": "type"}
            request["ExpressionAttributeValues"] = to_item({":pk": f"EVENTS#{ubn}", ":type": event_type})
        if start:
            request["ExclusiveStartKey"] = start
        response = dynamodb().query(**request)
        items = [from_item(item) for item in response.get("Items", [])]
        return items, response.get("LastEvaluatedKey")

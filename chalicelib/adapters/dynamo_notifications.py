"""The merchant's notification inbox in the merchants table.

- ``pk=MERCHANT#<ubn>, sk=NOTICE#<id>``: one notice; ids start with the UTC time, so the sort key
  lists them oldest → newest and a reverse query is newest first.
- ``sk=NOTICEKEY#<digest of key>``: the guard that makes a notice about the same thing (its ``key``)
  be stored once, written in the same transaction as the notice.
- ``sk=NOTICES``: the unread count, moved in the same transaction as every notice stored and every
  notice marked read (conditional on it being unread), so the count is exact under any concurrency.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import cancellation_reasons, dynamodb, from_item, get, key, to_item
from chalicelib.domain.notifications import Notice
from chalicelib.settings import get_settings

_PREFIX = "NOTICE#"
_COUNTER = "NOTICES"


def _table() -> str:
    return get_settings().merchants_table


def merchant_owner(ubn: str) -> str:
    return f"MERCHANT#{ubn}"


def _guard_key(notice_key: str) -> str:
    return "NOTICEKEY#" + hashlib.sha256(notice_key.encode()).hexdigest()[:40]


def new_notice_id(at: datetime) -> str:
    return "ntc_" + at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%f") + secrets.token_hex(3)


class DynamoNotifications:
    def add(self, notice: Notice, at: datetime) -> str | None:
        """Store ``notice`` unless one with its key is stored; its new id, or None."""
        owner = merchant_owner(notice.ubn)
        notice_id = new_notice_id(at)
        item = {
            "pk": owner,
            "sk": _PREFIX + notice_id,
            "id": notice_id,
            "kind": notice.kind,
            "key": notice.key,
            "title_zh": notice.title_zh,
            "title_en": notice.title_en,
            "body_zh": notice.body_zh,
            "body_en": notice.body_en,
            "link": notice.link,
            "data": notice.data,
            "created_at": at.isoformat(),
            "read": False,
            "channels": {},
        }
        actions = [
            {
                "Put": {
                    "TableName": _table(),
                    "Item": to_item({"pk": owner, "sk": _guard_key(notice.key), "id": notice_id}),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {"Put": {"TableName": _table(), "Item": to_item(item)}},
            {
                "Update": {
                    "TableName": _table(),
                    "Key": key(owner, _COUNTER),
                    "UpdateExpression": "ADD unread :one",
                    "ExpressionAttributeValues": to_item({":one": 1}),
                }
            },
        ]
        try:
            dynamodb().transact_write_items(TransactItems=actions)
        except ClientError as error:
            if cancellation_reasons(error)[:1] == ["ConditionalCheckFailed"]:
                return None
            raise
        return notice_id

    def get(self, ubn: str, notice_id: str) -> dict[str, Any] | None:
        return get(_table(), merchant_owner(ubn), _PREFIX + notice_id)

    def set_channels(self, ubn: str, notice_id: str, channels: dict[str, Any]) -> None:
        dynamodb().update_item(
            TableName=_table(),
            Key=key(merchant_owner(ubn), _PREFIX + notice_id),
            UpdateExpression="SET channels = :channels",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=to_item({":channels": channels}),
        )

    def mark_read(self, ubn: str, notice_id: str, at: datetime) -> bool:
        """Mark one notice read; False when it was read already (or does not exist)."""
        owner = merchant_owner(ubn)
        actions = [
            {
                "Update": {
                    "TableName": _table(),
                    "Key": key(owner, _PREFIX + notice_id),
                    "UpdateExpression": "SET #read = :yes, read_at = :at",
                    "ConditionExpression": "attribute_exists(pk) AND #read = :no",
                    "ExpressionAttributeNames": {"#read": "read"},
                    "ExpressionAttributeValues": to_item({":yes": True, ":no": False, ":at": at.isoformat()}),
                }
            },
            {
                "Update": {
                    "TableName": _table(),
                    "Key": key(owner, _COUNTER),
                    "UpdateExpression": "ADD unread :minus",
                    "ConditionExpression": "unread > :zero",
                    "ExpressionAttributeValues": to_item({":minus": -1, ":zero": 0}),
                }
            },
        ]
        try:
            dynamodb().transact_write_items(TransactItems=actions)
        except ClientError as error:
            if cancellation_reasons(error):
                return False
            raise
        return True

    def unread(self, ubn: str) -> int:
        item = get(_table(), merchant_owner(ubn), _COUNTER)
        return max(0, int((item or {}).get("unread") or 0))

    def page(
        self,
        ubn: str,
        *,
        limit: int,
        start: dict[str, Any] | None = None,
        unread_only: bool = False,
        kind: str | None = None,
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """Up to ``limit`` notices newest first (filtered), and the key to go on from."""
        values: dict[str, Any] = {":pk": merchant_owner(ubn), ":prefix": _PREFIX}
        filters, names = [], {}
        if unread_only:
            filters.append("#read = :no")
            names["#read"] = "read"
            values[":no"] = False
        if kind:
            filters.append("kind = :kind")
            values[":kind"] = kind
        found: list[dict[str, Any]] = []
        start_key = start
        while True:
            request: dict[str, Any] = {
                "TableName": _table(),
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
                "ExpressionAttributeValues": to_item(values),
                "ScanIndexForward": False,
                "Limit": max(limit, 25),
            }
            if filters:
                request["FilterExpression"] = " AND ".join(filters)
            if names:
                request["ExpressionAttributeNames"] = names
            if start_key:
                request["ExclusiveStartKey"] = start_key
            response = dynamodb().query(**request)
            for item in response.get("Items", []):
                found.append(from_item(item))
                if len(found) == limit:
                    return found, {"pk": item["pk"], "sk": item["sk"]}
            start_key = response.get("LastEvaluatedKey")
            if not start_key:
                return found, None

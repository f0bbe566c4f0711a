"""Audit trail items: ``pk = <owner>``, ``sk = AUDIT#<timestamp>#<random>``; append-only."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chalicelib.adapters.dynamo import dynamodb, from_item, to_item
from chalicelib.domain.clock import Clock
from chalicelib.settings import get_settings


class DynamoAuditLog:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def record(self, owner: str, event: str, actor: str, detail: Mapping[str, Any] | None = None) -> None:
        at = self._clock.now().isoformat()
        item = {
            "pk": owner,
            "sk": f"AUDIT#{at}#{secrets.token_hex(4)}",
            "event": event,
            "actor": actor,
            "at": at,
            "detail": dict(detail or {}),
        }
        dynamodb().put_item(TableName=get_settings().merchants_table, Item=to_item(item))

    def recent(self, owner: str, limit: int, before: datetime | None = None) -> list[dict[str, Any]]:
        upper = f"AUDIT#{before.isoformat()}" if before else "AUDIT#\uffff"
        response = dynamodb().query(
            TableName=get_settings().merchants_table,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues={":pk": {"S": owner}, ":lo": {"S": "AUDIT#"}, ":hi": {"S": upper}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [from_item(item) for item in response.get("Items", [])]

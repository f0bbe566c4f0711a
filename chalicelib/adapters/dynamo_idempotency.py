"""The idempotency table (``id`` key, ``expiration`` TTL): every record of a request already
answered, whichever use case made it. ``services/ports.IdempotencyStore`` over DynamoDB.

- ``<ubn>#<key>``: the invoice an Idempotency-Key made (``invoice_number``, ``validation``).
- ``<ubn>#allowance#<key>``: the allowance one made (``allowance_number``, ``validation``).
- ``NOTICE#<ubn>#<digest>``: a payment notice already received (replay guard).

DynamoDB deletes expired items lazily, so an expired record counts as absent: a condition
``expiration < :now`` lets it be replaced.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import dynamodb, from_item, is_condition_failure, to_item
from chalicelib.settings import get_settings


def record_item(key_id: str, expires_at: int, fields: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": key_id, **fields, "status": "COMPLETED", "expiration": expires_at}


def record_key(key_id: str) -> tuple[str, dict[str, Any]]:
    return get_settings().idempotency_table, {"id": {"S": key_id}}


class DynamoIdempotency:
    def get(self, key_id: str) -> dict[str, Any] | None:
        table, item_key = record_key(key_id)
        item = dynamodb().get_item(TableName=table, Key=item_key, ConsistentRead=True).get("Item")
        return from_item(item) if item else None

    def remember(self, key_id: str, expires_at: int, now: int) -> bool:
        try:
            dynamodb().put_item(
                TableName=get_settings().idempotency_table,
                Item=to_item({"id": key_id, "expiration": expires_at}),
                ConditionExpression="attribute_not_exists(id) OR expiration < :now",
                ExpressionAttributeValues={":now": {"N": str(now)}},
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

"""Small helpers over the low-level DynamoDB client: plain dicts in and out, typed errors.

The low-level client (not the resource layer) is used everywhere so that transactions,
conditions and pagination look the same in every adapter (boto3 #4053: Attr() conditions in
resource-layer transactions are mis-serialised).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from chalicelib.adapters.aws import client
from chalicelib.domain.errors import InvalidInput

_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()


def dynamodb() -> Any:
    return client("dynamodb")


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """Python values as DynamoDB attribute values; None values are left out, not stored as NULL."""
    return {k: _SERIALIZER.serialize(_storable(v)) for k, v in values.items() if v is not None}


def _storable(value: Any) -> Any:
    if isinstance(value, float):
        raise TypeError("floats are never stored; use Decimal")
    if isinstance(value, bool | str | Decimal | bytes) or value is None:
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Mapping):
        return {k: _storable(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_storable(v) for v in value]
    if isinstance(value, set | frozenset):
        return set(value) if value else None
    return value


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _plain(_DESERIALIZER.deserialize(v)) for k, v in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def get(table: str, pk: str, sk: str) -> dict[str, Any] | None:
    item = dynamodb().get_item(TableName=table, Key=key(pk, sk), ConsistentRead=True).get("Item")
    return from_item(item) if item else None


def is_condition_failure(error: ClientError) -> bool:
    return bool(error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


def cancellation_reasons(error: ClientError) -> list[str]:
    """Per-action reasons of a cancelled transaction (``None`` for actions that were fine)."""
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return []
    return [str(r.get("Code", "None")) for r in error.response.get("CancellationReasons", [])]


def query_all(**kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item of a Query, page after page (for bounded item collections only)."""
    paginator = dynamodb().get_paginator("query")
    for page in paginator.paginate(**kwargs):
        for item in page.get("Items", []):
            yield from_item(item)


class CursorCodec:
    """Opaque pagination cursors: the LastEvaluatedKey, signed and bound to one owner.

    A cursor from another merchant, or a tampered one, is refused (400) instead of silently
    starting a query in someone else's partition.
    """

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def encode(self, owner: str, last_key: Mapping[str, Any] | None) -> str | None:
        if not last_key:
            return None
        payload = json.dumps(last_key, sort_keys=True, separators=(",", ":")).encode()
        mac = hmac.new(self._secret, owner.encode() + b"\x00" + payload, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(mac + payload).decode().rstrip("=")

    def decode(self, owner: str, cursor: str | None) -> dict[str, Any] | None:
        if not cursor:
            return None
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            mac, payload = raw[:16], raw[16:]
            expected = hmac.new(self._secret, owner.encode() + b"\x00" + payload, hashlib.sha256).digest()[:16]
            if not hmac.compare_digest(mac, expected):
                raise ValueError("signature")
            decoded: dict[str, Any] = json.loads(payload)
            return decoded
        except (ValueError, TypeError, UnicodeDecodeError) as exc:
            raise InvalidInput(
                "INVALID_CURSOR", "The cursor is not valid for this list", "分頁游標無效", "cursor"
            ) from exc

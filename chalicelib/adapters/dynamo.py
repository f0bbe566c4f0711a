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
import time
from collections.abc import Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from decimal import Clamped, Context, Decimal, Inexact, Overflow, Rounded, Underflow
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.aws import client
from chalicelib.domain.errors import InvalidInput

# DynamoDB's numbers: 38 significant digits, exponents within -130..125 (boto3's context). A number
# DynamoDB would refuse or round raises here instead (decimal.Inexact, Rounded, Overflow, ...).
_NUMBERS = Context(Emin=-128, Emax=126, prec=38, traps=[Clamped, Overflow, Inexact, Rounded, Underflow])


def dynamodb() -> Any:
    return client("dynamodb")


# The conversions below are boto3's TypeSerializer and TypeDeserializer (tests/unit/test_dynamo_types.py
# checks they agree), written out so that the API function never imports boto3: its package pulls in
# s3transfer and the resource layer, ~35 ms of a cold start, for two small classes.


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """Python values as DynamoDB attribute values; None values are left out, not stored as NULL."""
    return {k: _attribute(v) for k, v in values.items() if v is not None}


def _attribute(value: Any) -> dict[str, Any]:  # noqa: PLR0911 - one return per DynamoDB type
    """One value as an AttributeValue. Ints become numbers; None inside a map is left out (inside a
    list it is NULL); an empty set is NULL, DynamoDB having no empty sets; floats are refused."""
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | Decimal):
        return {"N": _number(value)}
    if value is None:
        return {"NULL": True}
    if isinstance(value, float):
        raise TypeError("floats are never stored; use Decimal")
    if isinstance(value, Mapping):
        return {"M": {k: _attribute(v) for k, v in value.items() if v is not None}}
    if isinstance(value, list | tuple):
        return {"L": [_attribute(v) for v in value]}
    if isinstance(value, bytes | bytearray):
        return {"B": value}
    if isinstance(value, AbstractSet):
        return _set(value) if value else {"NULL": True}
    raise TypeError(f'Unsupported type "{type(value)}" for value "{value}"')


def _number(value: int | Decimal) -> str:
    number = _NUMBERS.create_decimal(value)
    if not number.is_finite():
        raise TypeError("Infinity and NaN not supported")
    return str(number)


def _set(values: AbstractSet[Any]) -> dict[str, Any]:
    if any(isinstance(v, float) for v in values):
        raise TypeError("floats are never stored; use Decimal")
    if all(isinstance(v, int | Decimal) for v in values):
        return {"NS": [_number(v) for v in values]}
    if all(isinstance(v, str) for v in values):
        return {"SS": list(values)}
    if all(isinstance(v, bytes | bytearray) for v in values):
        return {"BS": list(values)}
    raise TypeError(f"Unsupported set {values!r}: its members must be all numbers, all strings or all bytes")


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item as Python values: numbers are ints when whole, Decimals otherwise (inside a number
    set they stay Decimals); binary values are bytes."""
    return {k: _value(v) for k, v in item.items()}


def _value(attribute: Mapping[str, Any]) -> Any:  # noqa: PLR0911 - one return per DynamoDB type
    kind, value = next(iter(attribute.items()))
    if kind == "S":
        return value
    if kind == "N":
        number = _NUMBERS.create_decimal(value)
        return int(number) if number == number.to_integral_value() else number
    if kind == "M":
        return {k: _value(v) for k, v in value.items()}
    if kind == "L":
        return [_value(v) for v in value]
    if kind == "BOOL":
        return value
    if kind == "NULL":
        return None
    if kind == "SS":
        return set(value)
    if kind == "NS":
        return {_NUMBERS.create_decimal(v) for v in value}
    if kind == "B":
        return bytes(value)
    if kind == "BS":
        return {bytes(v) for v in value}
    raise TypeError(f"Dynamodb type {kind} is not supported")


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def get(table: str, pk: str, sk: str) -> dict[str, Any] | None:
    item = dynamodb().get_item(TableName=table, Key=key(pk, sk), ConsistentRead=True).get("Item")
    return from_item(item) if item else None


def take(table: str, pk: str, sk: str) -> dict[str, Any] | None:
    """Delete a single-use item and return what it held; None if it was not there (unknown, or
    already taken by a concurrent request: the conditional delete lets exactly one caller have it)."""
    try:
        response = dynamodb().delete_item(
            TableName=table, Key=key(pk, sk), ConditionExpression="attribute_exists(pk)", ReturnValues="ALL_OLD"
        )
    except ClientError as exc:
        if is_condition_failure(exc):
            return None
        raise
    return from_item(response["Attributes"])


def get_many(keys: Sequence[tuple[str, dict[str, Any]]]) -> list[dict[str, Any] | None]:
    """Items by ``(table, key)``, strongly consistent, in one BatchGetItem round trip however many
    tables they are in; ``None`` where there is none, in the order asked. For a few keys (≤ 100)."""
    names = {table: sorted(item_key) for table, item_key in keys}

    def identity(table: str, item: Mapping[str, Any]) -> tuple[str, str]:
        return table, json.dumps([item[name] for name in names[table]], sort_keys=True)

    request: dict[str, Any] = {}
    asked: set[tuple[str, str]] = set()
    for table, item_key in keys:
        if identity(table, item_key) not in asked:  # BatchGetItem refuses a key listed twice
            asked.add(identity(table, item_key))
            request.setdefault(table, {"Keys": [], "ConsistentRead": True})["Keys"].append(item_key)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    attempt = 0
    while request:
        if attempt:
            # Unprocessed keys come back when a partition is throttled: back off, ask for those again.
            time.sleep(min(0.01 * 2**attempt, 0.5))
        response = dynamodb().batch_get_item(RequestItems=request)
        for table, items in response.get("Responses", {}).items():
            for item in items:
                found[identity(table, item)] = item
        request = response.get("UnprocessedKeys") or {}
        attempt += 1
    return [
        from_item(found[identity(table, item_key)]) if identity(table, item_key) in found else None
        for table, item_key in keys
    ]


def put_new(table: str, item: Mapping[str, Any]) -> bool:
    """Put ``item`` unless its key is taken; True when this call stored it (the first writer wins)."""
    try:
        dynamodb().put_item(TableName=table, Item=to_item(item), ConditionExpression="attribute_not_exists(pk)")
    except ClientError as error:
        if is_condition_failure(error):
            return False
        raise
    return True


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

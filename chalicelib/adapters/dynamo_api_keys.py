"""API keys in the merchants table.

- ``pk=MERCHANT#<ubn>, sk=APIKEY#<key_id>``: what the merchant sees (name, scopes, created_at,
  last_used_at, revoked_at) plus the secret hash.
- ``pk=APIKEY#<key_id>, sk=APIKEY``: the look-up item the authenticator reads with one GetItem
  (merchant UBN, secret hash, scopes, revoked), since a request names only the key.
- ``pk=MERCHANT#<ubn>, sk=APIKEYS``: the number of active keys, so the per-merchant limit holds
  even for concurrent creations (checked inside the creating transaction).

Both key items are written, and revoked, in one transaction: a key is never usable without
being listed, nor listed as revoked while still usable. Revoked keys expire (TTL) after
``REVOKED_RETENTION`` so the list stays bounded; an expired look-up item is just an unknown key.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import (
    cancellation_reasons,
    dynamodb,
    get,
    is_condition_failure,
    key,
    query_all,
    to_item,
)
from chalicelib.domain.api_keys import ApiKeyLookup, ApiKeyRecord
from chalicelib.domain.errors import Conflict
from chalicelib.domain.owners import merchant_owner
from chalicelib.observability import logger
from chalicelib.settings import get_settings

COUNTER = "APIKEYS"
REVOKED_RETENTION = timedelta(days=90)
#: ``last_used_at`` is written at most this often per key: usage is informative, not billing,
#: and a busy POS would otherwise turn every read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_ACTIVE_KEY = "attribute_exists(pk) AND attribute_not_exists(revoked_at)"
# When this process last stamped each key: within LAST_USED_RESOLUTION of that the stamp's condition
# would refuse the write anyway, so the round trip is skipped (a busy till issues many per minute).
_touched: dict[str, datetime] = {}
_touched_lock = threading.Lock()
_MAX_TOUCHED = 10_000


def _table() -> str:
    return get_settings().merchants_table


def _stamp(at: datetime) -> str:
    # Fixed-width UTC, so stamps compare correctly as strings inside a condition expression.
    return at.astimezone(UTC).isoformat(timespec="seconds")


class DynamoApiKeys:
    def create(self, record: ApiKeyRecord, *, max_active: int) -> None:
        """Store a new key; ``Conflict`` when the merchant already has ``max_active`` active keys."""
        owner = merchant_owner(record.ubn)
        owned = {"pk": owner, "sk": f"APIKEY#{record.key_id}", **record.model_dump(mode="json")}
        owned["created_at"] = _stamp(record.created_at)
        lookup = {
            "pk": f"APIKEY#{record.key_id}",
            "sk": "APIKEY",
            "key_id": record.key_id,
            "ubn": record.ubn,
            "secret_hash": record.secret_hash,
            "scopes": record.scopes,
            "revoked": False,
        }
        try:
            dynamodb().transact_write_items(
                TransactItems=[
                    _put_new(owned),
                    _put_new(lookup),
                    {
                        "Update": {
                            "TableName": _table(),
                            "Key": key(owner, COUNTER),
                            "UpdateExpression": "ADD active :one",
                            "ConditionExpression": "attribute_not_exists(active) OR active < :max",
                            "ExpressionAttributeValues": to_item({":one": 1, ":max": max_active}),
                        }
                    },
                ]
            )
        except ClientError as exc:
            reasons = cancellation_reasons(exc)
            if len(reasons) == 3 and reasons[2] == "ConditionalCheckFailed":
                raise Conflict(
                    "TOO_MANY_API_KEYS",
                    f"A merchant may have at most {max_active} active API keys; revoke one first",
                    f"每個營業人最多 {max_active} 把有效的 API 金鑰，請先撤銷不用的金鑰",
                ) from exc
            raise  # an id collision (2^72 ids) or infrastructure: not the caller's doing

    def of_merchant(self, ubn: str, *, include_revoked: bool) -> list[ApiKeyRecord]:
        """The merchant's keys, oldest first (bounded: 20 active, revoked ones expire)."""
        items = query_all(
            TableName=_table(),
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": merchant_owner(ubn)}, ":prefix": {"S": "APIKEY#"}},
            ConsistentRead=True,
        )
        records = [ApiKeyRecord.model_validate(item) for item in items]
        if not include_revoked:
            records = [r for r in records if r.revoked_at is None]
        return sorted(records, key=lambda r: (r.created_at, r.key_id))

    def get(self, ubn: str, key_id: str) -> ApiKeyRecord | None:
        item = get(_table(), merchant_owner(ubn), f"APIKEY#{key_id}")
        return ApiKeyRecord.model_validate(item) if item else None

    def lookup(self, key_id: str) -> ApiKeyLookup | None:
        item = get(_table(), f"APIKEY#{key_id}", "APIKEY")
        return ApiKeyLookup.model_validate(item) if item else None

    def revoke(self, ubn: str, key_id: str, at: datetime) -> bool:
        """Revoke an active key of ``ubn``; False when it is not an active key of that merchant."""
        owner = merchant_owner(ubn)
        expires = int((at + REVOKED_RETENTION).timestamp())
        values = to_item({":at": _stamp(at), ":ttl": expires, ":true": True, ":ubn": ubn, ":minus": -1})
        try:
            dynamodb().transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": _table(),
                            "Key": key(owner, f"APIKEY#{key_id}"),
                            "UpdateExpression": "SET revoked_at = :at, #ttl = :ttl",
                            "ConditionExpression": _ACTIVE_KEY,
                            "ExpressionAttributeNames": {"#ttl": "ttl"},
                            "ExpressionAttributeValues": {k: values[k] for k in (":at", ":ttl")},
                        }
                    },
                    {
                        "Update": {
                            "TableName": _table(),
                            "Key": key(f"APIKEY#{key_id}", "APIKEY"),
                            "UpdateExpression": "SET revoked = :true, #ttl = :ttl",
                            # The look-up item must belong to the same merchant: a defence in
                            # depth on top of the owned item's key.
                            "ConditionExpression": "ubn = :ubn",
                            "ExpressionAttributeNames": {"#ttl": "ttl"},
                            "ExpressionAttributeValues": {k: values[k] for k in (":true", ":ttl", ":ubn")},
                        }
                    },
                    {
                        "Update": {
                            "TableName": _table(),
                            "Key": key(owner, COUNTER),
                            "UpdateExpression": "ADD active :minus",
                            "ExpressionAttributeValues": {":minus": values[":minus"]},
                        }
                    },
                ]
            )
        except ClientError as exc:
            if "ConditionalCheckFailed" in cancellation_reasons(exc):
                return False
            raise
        return True

    def touch(self, ubn: str, key_id: str, at: datetime) -> None:
        """Record use, at most once per ``LAST_USED_RESOLUTION``; never fails the request."""
        memo = f"{_table()}#{key_id}"
        with _touched_lock:
            last = _touched.get(memo)
            if last is not None and last > at - LAST_USED_RESOLUTION and last <= at:
                return
            if len(_touched) >= _MAX_TOUCHED:
                _touched.clear()
            _touched[memo] = at
        try:
            dynamodb().update_item(
                TableName=_table(),
                Key=key(merchant_owner(ubn), f"APIKEY#{key_id}"),
                UpdateExpression="SET last_used_at = :now",
                ConditionExpression=(
                    f"{_ACTIVE_KEY} AND (attribute_not_exists(last_used_at) OR last_used_at < :since)"
                ),
                ExpressionAttributeValues=to_item({":now": _stamp(at), ":since": _stamp(at - LAST_USED_RESOLUTION)}),
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                # Usage stamps are informative; a throttled write must not refuse a valid key.
                logger.warning("api key last_used_at not updated", extra={"key_id": key_id})


def _put_new(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "Put": {
            "TableName": _table(),
            "Item": to_item(item),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }

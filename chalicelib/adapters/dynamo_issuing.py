"""What issuing reads (services/ports.IssuingReads), batched into one BatchGetItem round trip:
the merchant's profile, the channel's counter and, when sent, the Idempotency-Key and order-id
records. Strongly consistent, so a record committed a moment ago by another container is seen."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamo import dynamodb, from_item, get_many
from chalicelib.adapters.dynamo_invoices import DynamoInvoices
from chalicelib.adapters.dynamo_merchants import DynamoMerchants
from chalicelib.adapters.dynamo_tracks import DynamoTracks, as_counter
from chalicelib.domain.issuing_state import CounterKey, IssuingState
from chalicelib.settings import get_settings


def _idempotency_key(key_id: str) -> tuple[str, dict[str, Any]]:
    return get_settings().idempotency_table, {"id": {"S": key_id}}


class DynamoIssuingReads:
    def __init__(self) -> None:
        self._merchants = DynamoMerchants()
        self._tracks = DynamoTracks()
        self._invoices = DynamoInvoices()

    def read(self, ubn: str, counter: CounterKey, idempotency_key: str | None, order_id: str | None) -> IssuingState:
        keys = [
            self._merchants.profile_key(ubn),
            self._tracks.counter_key(ubn, counter.period, counter.invoice_type, counter.channel),
        ]
        if idempotency_key:
            keys.append(_idempotency_key(idempotency_key))
        if order_id:
            keys.append(self._invoices.order_key(ubn, order_id))
        profile_item, counter_item, *records = get_many(keys)
        return IssuingState(
            profile=self._merchants.profile_from_item(ubn, profile_item),
            counter=as_counter(counter_item) if counter_item else None,
            idempotency=records.pop(0) if idempotency_key else None,
            order=records.pop(0) if order_id else None,
        )

    def idempotency_record(self, key_id: str) -> dict[str, Any] | None:
        table, item_key = _idempotency_key(key_id)
        item = dynamodb().get_item(TableName=table, Key=item_key, ConsistentRead=True).get("Item")
        return from_item(item) if item else None

    def order_record(self, ubn: str, order_id: str) -> dict[str, Any] | None:
        return self._invoices.order(ubn, order_id)

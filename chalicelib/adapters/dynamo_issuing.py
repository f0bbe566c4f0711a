"""What issuing reads (services/ports.IssuingReads), batched into one BatchGetItem round trip:
the merchant's profile, the channel's counter and, when sent, the Idempotency-Key and order-id
records. Strongly consistent, so a record committed a moment ago by another container is seen."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamo import get_many
from chalicelib.adapters.dynamo_idempotency import DynamoIdempotency, record_key
from chalicelib.adapters.dynamo_invoices import DynamoInvoices
from chalicelib.adapters.dynamo_merchants import DynamoMerchants
from chalicelib.adapters.dynamo_tracks import DynamoTracks, as_counter
from chalicelib.domain.issuing_state import CounterKey, IssuingState


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
            keys.append(record_key(idempotency_key))
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
        return DynamoIdempotency().get(key_id)

    def order_record(self, ubn: str, order_id: str) -> dict[str, Any] | None:
        return self._invoices.order(ubn, order_id)

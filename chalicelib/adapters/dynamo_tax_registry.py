"""Tax registry records in the merchants table: ``pk = REGISTRY#<ubn>``, ``sk = REGISTRY``.

Each item holds ``name``, ``address``, ``status`` and who last changed it (``updated_at``,
``updated_by``, ``source``: ``staff`` for a manual entry, ``import`` for a file import).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.aws import client
from chalicelib.adapters.dynamo import dynamodb, get, is_condition_failure, to_item
from chalicelib.domain.tax_registry import RegistrationStatus, RegistryEntry, TaxRegistration
from chalicelib.settings import get_settings

SORT_KEY = "REGISTRY"
#: BatchWriteItem takes at most 25 puts per call.
BATCH_SIZE = 25
# Unprocessed items come back when a partition is throttled; back off and resend them. After
# this many rounds the import fails with a throttling error (503, retry later) rather than
# silently dropping records.
MAX_BATCH_ATTEMPTS = 8
_BASE_DELAY_S = 0.05
_MAX_DELAY_S = 2.0
# boto3 clients are thread-safe; a handful of batches in flight is well within on-demand limits.
PARALLEL_BATCHES = 8


def registry_key(ubn: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"REGISTRY#{ubn}"}, "sk": {"S": SORT_KEY}}


def _table() -> str:
    return get_settings().merchants_table


def _item(record: TaxRegistration, actor: str, at: datetime, source: str) -> dict[str, Any]:
    return {
        "pk": f"REGISTRY#{record.ubn}",
        "sk": SORT_KEY,
        "ubn": record.ubn,
        "name": record.name,
        "address": record.address,
        "status": record.status.value,
        "updated_at": at.isoformat(),
        "updated_by": actor,
        "source": source,
    }


class DynamoTaxRegistry:
    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self._sleep = sleep

    def get(self, ubn: str) -> TaxRegistration | None:
        item = client("dynamodb").get_item(TableName=_table(), Key=registry_key(ubn), ConsistentRead=True).get("Item")
        if item is None:
            return None
        return TaxRegistration(
            ubn=ubn,
            name=item["name"]["S"],
            address=item.get("address", {}).get("S", ""),
            status=RegistrationStatus(item["status"]["S"]),
        )

    def get_entry(self, ubn: str) -> RegistryEntry | None:
        item = get(_table(), f"REGISTRY#{ubn}", SORT_KEY)
        if item is None:
            return None
        return RegistryEntry.model_validate({"address": "", **item, "ubn": ubn})

    def put(self, record: TaxRegistration, actor: str, at: datetime) -> tuple[RegistryEntry, bool]:
        """Create or replace ``record``; ``(stored entry, changed)``.

        Idempotent: writing the same name, address and status again changes nothing, so
        ``updated_at``/``updated_by`` keep saying when the record last really changed.
        """
        item = _item(record, actor, at, "staff")
        try:
            dynamodb().put_item(
                TableName=_table(),
                Item=to_item(item),
                ConditionExpression="attribute_not_exists(pk) OR #n <> :n OR address <> :a OR #s <> :s",
                ExpressionAttributeNames={"#n": "name", "#s": "status"},
                ExpressionAttributeValues=to_item({":n": record.name, ":a": record.address, ":s": record.status.value}),
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            current = self.get_entry(record.ubn)
            if current is not None:
                return current, False
            raise  # deleted between the write and the read: let the caller retry
        return RegistryEntry.model_validate(item), True

    def put_many(self, records: Iterable[TaxRegistration], actor: str, at: datetime) -> int:
        """Write every record (imports), 25 to a batch, resending unprocessed items; returns
        how many were written. Records of one UBN collapse to the last, as a batch may not
        hold two puts of one key. Batches go out a few at a time in parallel so that a file at
        the 5 MiB body limit (tens of thousands of rows) fits in one API Gateway request."""
        unique = {record.ubn: record for record in records}
        requests = [{"PutRequest": {"Item": to_item(_item(r, actor, at, "import"))}} for r in unique.values()]
        batches = [requests[start : start + BATCH_SIZE] for start in range(0, len(requests), BATCH_SIZE)]
        if len(batches) <= 1:
            for batch in batches:
                self._write_batch(batch)
            return len(requests)
        with ThreadPoolExecutor(max_workers=PARALLEL_BATCHES) as pool:
            # list() re-raises the first failure, after which the import answers 503 (retry):
            # every write is an idempotent put, so importing the file again is always safe.
            list(pool.map(self._write_batch, batches))
        return len(requests)

    def _write_batch(self, requests: list[dict[str, Any]]) -> None:
        pending: dict[str, list[dict[str, Any]]] = {_table(): requests}
        for attempt in range(MAX_BATCH_ATTEMPTS):
            response = dynamodb().batch_write_item(RequestItems=pending)
            pending = {t: items for t, items in (response.get("UnprocessedItems") or {}).items() if items}
            if not pending:
                return
            # Full jitter (AWS architecture blog): spreads retries of concurrent imports apart.
            self._sleep(random.uniform(0, min(_MAX_DELAY_S, _BASE_DELAY_S * 2**attempt)))  # noqa: S311
        raise ClientError(
            {
                "Error": {
                    "Code": "ProvisionedThroughputExceededException",
                    "Message": "BatchWriteItem left items unprocessed after retries",
                }
            },
            "BatchWriteItem",
        )

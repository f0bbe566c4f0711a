"""Every merchant's profile, page by page, for the scheduled jobs that visit all merchants.

A scan of the merchants table filtered to profiles: jobs run a few times a period, and a scan's
``LastEvaluatedKey`` is a cursor that a job can keep and resume from after its time is up.
"""

from __future__ import annotations

import json
from typing import Any

from chalicelib.adapters.dynamo import dynamodb, from_item, to_item
from chalicelib.settings import get_settings


def merchant_page(cursor: str | None, limit: int = 100) -> tuple[list[dict[str, Any]], str | None]:
    """Profiles among the next ``limit`` items of the table, and where the next page starts (None: done)."""
    request: dict[str, Any] = {
        "TableName": get_settings().merchants_table,
        "FilterExpression": "sk = :profile",
        "ExpressionAttributeValues": to_item({":profile": "PROFILE"}),
        "Limit": limit,
        "ConsistentRead": True,
    }
    if cursor:
        request["ExclusiveStartKey"] = json.loads(cursor)
    response = dynamodb().scan(**request)
    last = response.get("LastEvaluatedKey")
    return [from_item(item) for item in response.get("Items", [])], (json.dumps(last) if last else None)


class DynamoMerchantDirectory:
    """``period_close.MerchantDirectory`` over the merchants table."""

    def page(self, cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        return merchant_page(cursor, limit)

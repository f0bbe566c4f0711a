"""Every record of a merchant's period, a page at a time, for the reconciliation's recount: the
invoices it issued and its allowances (gsi1), the invoices and allowances issued to it (gsi2)."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.adapters.dynamo import dynamodb, from_item, to_item
from chalicelib.adapters.dynamo_allowances import allowance_list_key, allowances_to_key
from chalicelib.adapters.dynamo_invoice_search import buyer_key
from chalicelib.adapters.dynamo_invoices import invoices_table, owner


class DynamoPeriodRecords:
    def page(
        self, ubn: str, kind: str, low: str, high: str, cursor: str | None, limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of ``kind`` (invoices, allowances, received, received_allowances) dated ``low``
        to ``high`` (sort keys start with the date), and the opaque cursor of the next (None at the end)."""
        index, partition = {
            "invoices": ("gsi1", owner(ubn)),
            "allowances": ("gsi1", allowance_list_key(ubn)),
            "received": ("gsi2", buyer_key(ubn)),
            "received_allowances": ("gsi2", allowances_to_key(ubn)),
        }[kind]
        request: dict[str, Any] = {
            "TableName": invoices_table(),
            "IndexName": index,
            "KeyConditionExpression": f"{index}pk = :pk AND {index}sk BETWEEN :low AND :high",
            "ExpressionAttributeValues": to_item({":pk": partition, ":low": low, ":high": high}),
            "Limit": limit,
        }
        if cursor:
            request["ExclusiveStartKey"] = json.loads(cursor)
        response = dynamodb().query(**request)
        last = response.get("LastEvaluatedKey")
        return [from_item(item) for item in response.get("Items", [])], (json.dumps(last) if last else None)

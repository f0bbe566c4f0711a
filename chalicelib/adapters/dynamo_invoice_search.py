"""Invoice lists from the by-date indexes, newest first, a page at a time: the seller's own
(gsi1, ``MERCHANT#<ubn>``) and the buyer's received invoices (gsi2, ``BUYER#<ubn>``). Filters
become a FilterExpression, so a filtered page may need several index pages; the work one request
may do is bounded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.adapters.dynamo import dynamodb, from_item
from chalicelib.adapters.dynamo_invoices import invoices_table, owner
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.domain.invoice_search import InvoiceFilter

MAX_EVALUATED = 2_000


def buyer_key(ubn: str) -> str:
    return f"BUYER#{ubn}"


def _filters(wanted: InvoiceFilter) -> tuple[str | None, dict[str, str], dict[str, Any]]:
    clauses: list[str] = []
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    if wanted.status:
        clauses.append("#status = :status")
        names["#status"] = "status"
        values[":status"] = {"S": wanted.status}
    if wanted.buyer_ubn:
        clauses.append("buyer.ubn = :buyer")
        values[":buyer"] = {"S": wanted.buyer_ubn}
    if wanted.seller_ubn:
        clauses.append("seller.ubn = :seller")
        values[":seller"] = {"S": wanted.seller_ubn}
    if wanted.carrier_id:
        clauses.append("carrier.id = :carrier")
        values[":carrier"] = {"S": wanted.carrier_id}
    if wanted.order_id:
        clauses.append("order_id = :order")
        values[":order"] = {"S": wanted.order_id}
    if wanted.has_allowances is not None:
        clauses.append(
            "allowance_count > :zero"
            if wanted.has_allowances
            else "(attribute_not_exists(allowance_count) OR allowance_count = :zero)"
        )
        values[":zero"] = {"N": "0"}
    if wanted.voided is not None:
        clauses.append(
            "void_count > :zero" if wanted.voided else "(attribute_not_exists(void_count) OR void_count = :zero)"
        )
        values[":zero"] = {"N": "0"}
    if wanted.min_total is not None:
        clauses.append("amounts.total_amount >= :min")
        values[":min"] = {"N": str(wanted.min_total)}
    if wanted.max_total is not None:
        clauses.append("amounts.total_amount <= :max")
        values[":max"] = {"N": str(wanted.max_total)}
    return (" AND ".join(clauses) or None), names, values


class DynamoInvoiceSearch:
    def issued_by(
        self, ubn: str, low: str, high: str, wanted: InvoiceFilter, limit: int, start: Mapping[str, Any] | None
    ) -> tuple[list[InvoiceRecord], dict[str, Any] | None]:
        return _page("gsi1", owner(ubn), low, high, wanted, limit, start)

    def issued_to(
        self, ubn: str, low: str, high: str, wanted: InvoiceFilter, limit: int, start: Mapping[str, Any] | None
    ) -> tuple[list[InvoiceRecord], dict[str, Any] | None]:
        return _page("gsi2", buyer_key(ubn), low, high, wanted, limit, start)


def _page(
    index: str,
    partition: str,
    low: str,
    high: str,
    wanted: InvoiceFilter,
    limit: int,
    start: Mapping[str, Any] | None,
) -> tuple[list[InvoiceRecord], dict[str, Any] | None]:
    """Up to ``limit`` matching invoices with ``low <= sort key <= high``, and where the next page
    starts (None at the end, or when the bound on evaluated items was reached)."""
    condition, names, values = _filters(wanted)
    request: dict[str, Any] = {
        "TableName": invoices_table(),
        "IndexName": index,
        "KeyConditionExpression": f"{index}pk = :pk AND {index}sk BETWEEN :low AND :high",
        "ExpressionAttributeValues": {":pk": {"S": partition}, ":low": {"S": low}, ":high": {"S": high}, **values},
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if condition:
        request["FilterExpression"] = condition
    if names:
        request["ExpressionAttributeNames"] = names
    if start is not None:
        request["ExclusiveStartKey"] = dict(start)
    key_names = ("pk", "sk", f"{index}pk", f"{index}sk")
    found: list[dict[str, Any]] = []
    evaluated = 0
    last_key: dict[str, Any] | None = None
    while True:
        response = dynamodb().query(**request)
        evaluated += int(response.get("ScannedCount", 0))
        for item in response.get("Items", []):
            found.append(item)
            if len(found) == limit:
                last_key = {k: item[k] for k in key_names}
                break
        if len(found) == limit:
            break
        last_key = response.get("LastEvaluatedKey")
        if not last_key or evaluated >= MAX_EVALUATED:
            break
        request["ExclusiveStartKey"] = last_key
    if last_key is not None and last_key.get(f"{index}pk") != {"S": partition}:
        last_key = None  # never hand out a key of another partition (defensive; cannot happen)
    return [InvoiceRecord.model_validate(from_item(item)) for item in found], last_key

"""Received invoices (進項): B2B invoices other merchants issued to this UBN.

They stay in the seller's partition (one copy, one truth); the buyer finds them through gsi2
(``BUYER#<ubn>`` / ``<date>T<time>#<seller>#<number>``). Reading one by key is allowed only after
its ``gsi2pk`` shows the caller is the buyer, so a guessed seller and number tell a third
merchant nothing.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

from chalicelib.adapters.dynamo import CursorCodec, dynamodb, from_item
from chalicelib.adapters.dynamo_invoices import DynamoInvoices, invoices_table
from chalicelib.domain.errors import NotFound
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.services.invoice_query import PagedDateQuery, date_bounds
from chalicelib.services.invoice_view import InvoiceView, view

# A filtered page may need several index pages; bound the work one request may do.
MAX_EVALUATED = 2_000
_KEY_NAMES = ("pk", "sk", "gsi2pk", "gsi2sk")
_NUMBER = re.compile(r"[A-Z]{2}[0-9]{8}")
_UBN = re.compile(r"[0-9]{8}")


def buyer_key(ubn: str) -> str:
    return f"BUYER#{ubn}"


class ReceivedQuery(PagedDateQuery):
    period: str | None = Field(default=None, pattern=r"^[0-9]{3}(02|04|06|08|10|12)$", description="期別, e.g. 11412")
    seller_ubn: str | None = Field(default=None, pattern=r"^[0-9]{8}$")
    min_total: int | None = Field(default=None, ge=0)
    max_total: int | None = Field(default=None, ge=0)


class ReceivedPage(BaseModel):
    items: list[InvoiceView]
    next_cursor: str | None


def _filters(query: ReceivedQuery) -> tuple[list[str], dict[str, Any]]:
    clauses: list[str] = []
    values: dict[str, Any] = {}
    if query.seller_ubn:
        clauses.append("seller.ubn = :seller")
        values[":seller"] = {"S": query.seller_ubn}
    if query.min_total is not None:
        clauses.append("amounts.total_amount >= :min")
        values[":min"] = {"N": str(query.min_total)}
    if query.max_total is not None:
        clauses.append("amounts.total_amount <= :max")
        values[":max"] = {"N": str(query.max_total)}
    return clauses, values


def buyer_view(record: InvoiceRecord) -> InvoiceView:
    """The buyer sees the invoice, not the seller's internals (history, channel actors)."""
    return view(record, with_history=False)


class ReceivedInvoices:
    def __init__(self, *, invoices: DynamoInvoices, cursors: CursorCodec) -> None:
        self._invoices = invoices
        self._cursors = cursors

    def find(self, ubn: str, query: ReceivedQuery) -> ReceivedPage:
        low, high = date_bounds(query)
        if low >= high:
            return ReceivedPage(items=[], next_cursor=None)
        clauses, values = _filters(query)
        request: dict[str, Any] = {
            "TableName": invoices_table(),
            "IndexName": "gsi2",
            "KeyConditionExpression": "gsi2pk = :pk AND gsi2sk BETWEEN :low AND :high",
            "ExpressionAttributeValues": {
                ":pk": {"S": buyer_key(ubn)},
                ":low": {"S": low},
                ":high": {"S": high},
                **values,
            },
            "ScanIndexForward": False,
            "Limit": query.limit,
        }
        if clauses:
            request["FilterExpression"] = " AND ".join(clauses)
        # Bound to the buyer key, so a cursor of the seller-side list cannot be replayed here.
        owner = buyer_key(ubn)
        start = self._cursors.decode(owner, query.cursor)
        if start is not None:
            request["ExclusiveStartKey"] = start
        found: list[dict[str, Any]] = []
        evaluated = 0
        last_key: dict[str, Any] | None = None
        while True:
            response = dynamodb().query(**request)
            evaluated += int(response.get("ScannedCount", 0))
            for item in response.get("Items", []):
                found.append(item)
                if len(found) == query.limit:
                    last_key = {k: item[k] for k in _KEY_NAMES}
                    break
            if len(found) == query.limit:
                break
            last_key = response.get("LastEvaluatedKey")
            if not last_key or evaluated >= MAX_EVALUATED:
                break
            request["ExclusiveStartKey"] = last_key
        if last_key is not None and last_key.get("gsi2pk") != {"S": owner}:
            last_key = None  # never hand out a key of another partition (defensive; cannot happen)
        records = [InvoiceRecord.model_validate(from_item(item)) for item in found]
        return ReceivedPage(items=[buyer_view(r) for r in records], next_cursor=self._cursors.encode(owner, last_key))

    def get(self, ubn: str, seller_ubn: str, invoice_number: str) -> InvoiceRecord:
        # Malformed keys name no invoice: the same answer as any invoice that is not the caller's.
        well_formed = _UBN.fullmatch(seller_ubn) and _NUMBER.fullmatch(invoice_number)
        item = self._invoices.get_raw(seller_ubn, invoice_number) if well_formed else None
        # Its buyer and its seller may read it; anyone else gets the answer of a missing invoice.
        if item is None or (item.get("gsi2pk") != buyer_key(ubn) and seller_ubn != ubn):
            raise NotFound("INVOICE_NOT_FOUND", "No such invoice", "查無此發票")
        return InvoiceRecord.model_validate(item)

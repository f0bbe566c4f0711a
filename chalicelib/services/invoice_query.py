"""Finding invoices: newest first, filtered, a page at a time, from the by-date index only."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chalicelib.adapters.dynamo import CursorCodec, dynamodb, from_item
from chalicelib.adapters.dynamo_invoices import invoices_table, owner
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.domain.period import Period
from chalicelib.domain.validation import as_pydantic_error
from chalicelib.services.invoice_view import InvoiceView, view

# A filtered page may need several index pages; bound the work one request may do.
MAX_EVALUATED = 2_000


class PagedDateQuery(BaseModel):
    """What every invoice list shares: a period or date range, and a page."""

    model_config = ConfigDict(extra="forbid")

    period: str | None = Field(default=None, description="期別, e.g. 11412")
    date_from: date | None = None
    date_to: date | None = None
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _dates(self) -> PagedDateQuery:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise as_pydantic_error(
                InvalidInput(
                    "INVALID_DATE_RANGE",
                    "date_from must not be after date_to.",
                    "起始日期（date_from）不可晚於結束日期（date_to）。",
                    "date_from",
                )
            )
        return self


class InvoiceQuery(PagedDateQuery):
    buyer_ubn: str | None = Field(default=None, pattern=r"^[0-9]{8}$")
    status: str | None = Field(default=None, pattern=r"^(issued|cancelled|voided)$")
    carrier_id: str | None = Field(default=None, max_length=400)
    min_total: int | None = Field(default=None, ge=0)
    max_total: int | None = Field(default=None, ge=0)
    order_id: str | None = Field(default=None, max_length=20)
    has_allowances: bool | None = Field(default=None, description="Only invoices with (or without) allowances in force")
    voided: bool | None = Field(
        default=None, description="Only invoices that were (or were never) voided and re-issued"
    )


class InvoicePage(BaseModel):
    items: list[InvoiceView]
    next_cursor: str | None


def date_bounds(query: PagedDateQuery) -> tuple[str, str]:
    """The index sort-key range of the query's dates."""
    low, high = date(1912, 1, 1), date(9999, 12, 31)
    if query.period:
        period = Period.parse(query.period)
        low, high = period.first_day, period.last_day
    if query.date_from:
        low = max(low, query.date_from)
    if query.date_to:
        high = min(high, query.date_to)
    # Sort keys are "<date>T<time>#<number>": "~" sorts after every one of that last day.
    return low.isoformat(), high.isoformat() + "~"


def _filters(query: InvoiceQuery) -> tuple[str | None, dict[str, str], dict[str, Any]]:
    clauses: list[str] = []
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    if query.status:
        clauses.append("#status = :status")
        names["#status"] = "status"
        values[":status"] = {"S": query.status}
    if query.buyer_ubn:
        clauses.append("buyer.ubn = :buyer")
        values[":buyer"] = {"S": query.buyer_ubn}
    if query.carrier_id:
        clauses.append("carrier.id = :carrier")
        values[":carrier"] = {"S": query.carrier_id}
    if query.order_id:
        clauses.append("order_id = :order")
        values[":order"] = {"S": query.order_id}
    if query.has_allowances is not None:
        clauses.append(
            "allowance_count > :zero"
            if query.has_allowances
            else "(attribute_not_exists(allowance_count) OR allowance_count = :zero)"
        )
        values[":zero"] = {"N": "0"}
    if query.voided is not None:
        clauses.append(
            "void_count > :zero" if query.voided else "(attribute_not_exists(void_count) OR void_count = :zero)"
        )
        values[":zero"] = {"N": "0"}
    if query.min_total is not None:
        clauses.append("amounts.total_amount >= :min")
        values[":min"] = {"N": str(query.min_total)}
    if query.max_total is not None:
        clauses.append("amounts.total_amount <= :max")
        values[":max"] = {"N": str(query.max_total)}
    return (" AND ".join(clauses) or None), names, values


def find_invoices(ubn: str, query: InvoiceQuery, cursors: CursorCodec) -> InvoicePage:
    low, high = date_bounds(query)
    if low >= high:
        return InvoicePage(items=[], next_cursor=None)
    condition, names, values = _filters(query)
    request: dict[str, Any] = {
        "TableName": invoices_table(),
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :pk AND gsi1sk BETWEEN :low AND :high",
        "ExpressionAttributeValues": {":pk": {"S": owner(ubn)}, ":low": {"S": low}, ":high": {"S": high}, **values},
        "ScanIndexForward": False,
        "Limit": query.limit,
    }
    if condition:
        request["FilterExpression"] = condition
    if names:
        request["ExpressionAttributeNames"] = names
    start = cursors.decode(ubn, query.cursor)
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
                last_key = {k: item[k] for k in ("pk", "sk", "gsi1pk", "gsi1sk")}
                break
        if len(found) == query.limit:
            break
        last_key = response.get("LastEvaluatedKey")
        if not last_key or evaluated >= MAX_EVALUATED:
            break
        request["ExclusiveStartKey"] = last_key
    records = [InvoiceRecord.model_validate(from_item(item)) for item in found]
    return InvoicePage(items=[view(r) for r in records], next_cursor=cursors.encode(ubn, last_key))


def invalid_number() -> InvalidInput:
    return InvalidInput(
        "INVALID_INVOICE_NUMBER",
        "An invoice number is 2 letters and 8 digits",
        "發票號碼為 2 碼英文加 8 碼數字",
        "invoice_number",
    )

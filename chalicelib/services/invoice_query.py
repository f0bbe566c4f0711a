"""Finding invoices: newest first, filtered, a page at a time, from the by-date index only
(adapters/dynamo_invoice_search.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.domain.invoice_search import InvoiceFilter
from chalicelib.domain.period import Period
from chalicelib.domain.validation import as_pydantic_error
from chalicelib.services.invoice_view import InvoiceView, view
from chalicelib.services.ports import Cursors


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


class InvoiceSearch(Protocol):
    """Invoice lists by date, newest first: the seller's own, and the buyer's received ones."""

    def issued_by(
        self, ubn: str, low: str, high: str, wanted: InvoiceFilter, limit: int, start: Mapping[str, Any] | None
    ) -> tuple[list[InvoiceRecord], dict[str, Any] | None]: ...

    def issued_to(
        self, ubn: str, low: str, high: str, wanted: InvoiceFilter, limit: int, start: Mapping[str, Any] | None
    ) -> tuple[list[InvoiceRecord], dict[str, Any] | None]: ...


def find_invoices(ubn: str, query: InvoiceQuery, cursors: Cursors, search: InvoiceSearch) -> InvoicePage:
    low, high = date_bounds(query)
    if low >= high:
        return InvoicePage(items=[], next_cursor=None)
    wanted = InvoiceFilter(
        status=query.status,
        buyer_ubn=query.buyer_ubn,
        carrier_id=query.carrier_id,
        order_id=query.order_id,
        has_allowances=query.has_allowances,
        voided=query.voided,
        min_total=query.min_total,
        max_total=query.max_total,
    )
    records, last_key = search.issued_by(ubn, low, high, wanted, query.limit, cursors.decode(ubn, query.cursor))
    return InvoicePage(items=[view(r) for r in records], next_cursor=cursors.encode(ubn, last_key))

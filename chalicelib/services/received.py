"""Received invoices (進項): B2B invoices other merchants issued to this UBN.

They stay in the seller's partition (one copy, one truth); the buyer finds them through gsi2
(``BUYER#<ubn>`` / ``<date>T<time>#<seller>#<number>``). Reading one by key is allowed only after
its ``gsi2pk`` shows the caller is the buyer, so a guessed seller and number tell a third
merchant nothing.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from chalicelib.domain.errors import NotFound
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.domain.invoice_search import InvoiceFilter
from chalicelib.services.invoice_query import InvoiceSearch, PagedDateQuery, date_bounds
from chalicelib.services.invoice_view import InvoiceView, view
from chalicelib.services.ports import Cursors, InvoiceReader

_NUMBER = re.compile(r"[A-Z]{2}[0-9]{8}")
_UBN = re.compile(r"[0-9]{8}")


class ReceivedQuery(PagedDateQuery):
    period: str | None = Field(default=None, pattern=r"^[0-9]{3}(02|04|06|08|10|12)$", description="期別, e.g. 11412")
    seller_ubn: str | None = Field(default=None, pattern=r"^[0-9]{8}$")
    min_total: int | None = Field(default=None, ge=0)
    max_total: int | None = Field(default=None, ge=0)


class ReceivedPage(BaseModel):
    items: list[InvoiceView]
    next_cursor: str | None


def buyer_view(record: InvoiceRecord) -> InvoiceView:
    """The buyer sees the invoice, not the seller's internals (history, channel actors)."""
    return view(record, with_history=False)


class ReceivedInvoices:
    def __init__(self, *, invoices: InvoiceReader, search: InvoiceSearch, cursors: Cursors) -> None:
        self._invoices = invoices
        self._search = search
        self._cursors = cursors

    def find(self, ubn: str, query: ReceivedQuery) -> ReceivedPage:
        low, high = date_bounds(query)
        if low >= high:
            return ReceivedPage(items=[], next_cursor=None)
        wanted = InvoiceFilter(seller_ubn=query.seller_ubn, min_total=query.min_total, max_total=query.max_total)
        # Bound to the buyer's list, so a cursor of the seller-side list cannot be replayed here.
        owner = f"BUYER#{ubn}"
        start = self._cursors.decode(owner, query.cursor)
        records, last_key = self._search.issued_to(ubn, low, high, wanted, query.limit, start)
        return ReceivedPage(items=[buyer_view(r) for r in records], next_cursor=self._cursors.encode(owner, last_key))

    def get(self, ubn: str, seller_ubn: str, invoice_number: str) -> InvoiceRecord:
        # Malformed keys name no invoice: the same answer as any invoice that is not the caller's.
        well_formed = _UBN.fullmatch(seller_ubn) and _NUMBER.fullmatch(invoice_number)
        record = self._invoices.get(seller_ubn, invoice_number) if well_formed else None
        # Its buyer and its seller may read it; anyone else gets the answer of a missing invoice.
        if record is None or (record.buyer.get("ubn") != ubn and seller_ubn != ubn):
            raise NotFound("INVOICE_NOT_FOUND", "No such invoice", "查無此發票")
        return record

"""Reading allowances: the view the API and console show, and the list by date or period."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Protocol

from pydantic import BaseModel, Field

from chalicelib.domain.allowance_record import AllowanceItemRecord, AllowanceRecord, OriginalInvoice
from chalicelib.domain.exchange import Party
from chalicelib.domain.invoice_record import HistoryEntry
from chalicelib.services.invoice_query import PagedDateQuery, date_bounds
from chalicelib.services.ports import Cursors


class AllowanceReader(Protocol):
    def page(
        self, ubn: str, low: str, high: str, limit: int, start: Mapping[str, Any] | None
    ) -> tuple[list[AllowanceRecord], dict[str, Any] | None]:
        """One page of allowances dated ``low`` to ``high`` ("<date>#<number>"), newest first, and
        where the next page starts."""


class AllowanceView(BaseModel):
    allowance_number: str
    allowance_date: date
    period: str
    allowance_type: str = "2"
    seller: dict[str, Any]
    buyer: dict[str, Any]
    items: list[AllowanceItemRecord]
    # The same names and meanings as an invoice's ``amounts``: ``sales_amount`` before tax (G0401's
    # TotalAmount), ``tax_amount``, and ``total_amount`` what the buyer gets back, tax included.
    sales_amount: int = Field(description="Allowed amount before tax (未稅, G0401 Amount.TotalAmount)")
    tax_amount: int = Field(description="Tax allowed (稅額, G0401 Amount.TaxAmount)")
    total_amount: int = Field(description="Tax included: sales_amount + tax_amount, as an invoice's total_amount")
    original_invoices: list[OriginalInvoice]
    status: str = Field(description="issued, cancelled, or pending (an exchange allowance not yet confirmed)")
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    void_count: int = Field(default=0, description="How many times this number was voided and re-issued (註銷重開)")
    voided_at: datetime | None = None
    void_reason: str | None = None
    remark: str | None = None
    links: dict[str, str]
    history: list[HistoryEntry] | None = None
    artifacts_pending: bool | None = None


def _links(record: AllowanceRecord) -> dict[str, str]:
    number = record.allowance_number
    links = {"self": f"/v1/allowances/{number}", "xml": f"/v1/allowances/{number}/xml"}
    if record.exchange is not None:
        # By exchange (B0101): answered, cancelled and confirmed on its exchange route only.
        from chalicelib.domain.exchange_allowance import allowance_exchange_id

        ident = allowance_exchange_id(str(record.seller["ubn"]), number)
        return {**links, "pdf": f"/v1/allowances/{number}/pdf", "exchange": f"/v1/exchange/allowances/{ident}"}
    return {
        **links,
        "pdf": f"/v1/allowances/{number}/pdf",
        "cancel": f"/v1/allowances/{number}/cancel",
        "void": f"/v1/allowances/{number}/void",
    }


def allowance_view(record: AllowanceRecord, *, with_history: bool = False) -> AllowanceView:
    number = record.allowance_number
    exchange = record.exchange
    return AllowanceView(
        allowance_number=number,
        allowance_date=record.allowance_date,
        period=record.period,
        seller=record.seller,
        buyer={k: v for k, v in record.buyer.items() if v is not None},
        items=record.items,
        sales_amount=record.total_amount,
        tax_amount=record.tax_amount,
        total_amount=record.total_amount + record.tax_amount,
        original_invoices=record.originals,
        status=record.status,
        cancelled_at=record.cancelled_at,
        cancel_reason=record.cancel_reason,
        void_count=record.void_count,
        voided_at=record.voided_at,
        void_reason=record.void_reason,
        remark=record.remark,
        links=_links(record),
        allowance_type="1" if exchange is not None and exchange.issuer is Party.BUYER else "2",
        history=record.history if with_history else None,
        artifacts_pending=record.artifacts_pending if with_history else None,
    )


class AllowanceQuery(PagedDateQuery):
    period: str | None = Field(default=None, description="期別 of the allowance date, e.g. 11412")


class AllowancePage(BaseModel):
    items: list[AllowanceView]
    next_cursor: str | None


def _cursor_owner(ubn: str) -> str:
    # Bound to the merchant *and* this list: an invoice-list cursor would start a query on the
    # wrong index partition.
    return f"allowances:{ubn}"


def find_allowances(ubn: str, query: AllowanceQuery, cursors: Cursors, allowances: AllowanceReader) -> AllowancePage:
    low, high = date_bounds(query)  # "<date>#<number>" sort keys: "~" sorts after the last day's
    if low > high:
        return AllowancePage(items=[], next_cursor=None)
    start = cursors.decode(_cursor_owner(ubn), query.cursor)
    records, last = allowances.page(ubn, low, high, query.limit, start)
    views = [allowance_view(record) for record in records]
    return AllowancePage(items=views, next_cursor=cursors.encode(_cursor_owner(ubn), last))

"""An issued invoice as the API shows it (API.md ``POST /v1/invoices`` → 201)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from chalicelib.domain.invoice_record import Amounts, HistoryEntry, InvoiceRecord


class ItemView(BaseModel):
    sequence: int
    description: str
    quantity: str
    unit: str | None
    unit_price: str
    amount: str
    tax_type: str
    remark: str | None


class InvoiceView(BaseModel):
    """The API's invoice (API.md ``POST /v1/invoices`` → 201)."""

    invoice_number: str
    random_number: str
    period: str
    invoice_date: date
    invoice_time: str
    invoice_type: str
    channel: str
    seller: dict[str, Any]
    buyer: dict[str, Any]
    items: list[ItemView]
    amounts: Amounts
    carrier: dict[str, Any] | None
    donation_code: str | None
    print_mark: bool
    order_id: str | None
    status: str
    barcode: str
    qr_left: str
    qr_right: str
    links: dict[str, str]
    warnings: list[dict[str, Any]] = Field(default_factory=list)
    cancellation: dict[str, Any] | None = None
    history: list[HistoryEntry] | None = None
    artifacts: dict[str, Any] | None = None
    allowance_remaining: int | None = None  # detail only
    allowance_count: int | None = None  # detail only


def view(record: InvoiceRecord, *, with_history: bool = False) -> InvoiceView:
    number = record.invoice_number
    return InvoiceView(
        invoice_number=number,
        random_number=record.random_number,
        period=record.period,
        invoice_date=record.invoice_date,
        invoice_time=record.invoice_time,
        invoice_type=record.invoice_type,
        channel=record.channel,
        seller=record.seller,
        buyer={k: v for k, v in record.buyer.items() if v is not None},
        items=[ItemView.model_validate(item.model_dump()) for item in record.items],
        amounts=record.amounts,
        carrier=record.carrier,
        donation_code=record.donation_code,
        print_mark=record.print_mark,
        order_id=record.order_id,
        status=record.status,
        barcode=record.barcode,
        qr_left=record.qr_left,
        qr_right=record.qr_right,
        links={
            "self": f"/v1/invoices/{number}",
            "pdf": f"/v1/invoices/{number}/pdf?layout=proof",
            "pdf_a4": f"/v1/invoices/{number}/pdf?layout=a4",
            "xml": f"/v1/invoices/{number}/xml",
        },
        warnings=record.warnings,
        cancellation=record.cancellation,
        history=record.history if with_history else None,
        artifacts=record.artifacts if with_history else None,
        allowance_remaining=_allowance_remaining(record) if with_history else None,
        allowance_count=record.allowance_count if with_history else None,
    )


def _allowance_remaining(record: InvoiceRecord) -> int:
    return record.amounts.total_amount if record.allowance_remaining is None else record.allowance_remaining

"""An issued invoice as the platform keeps it, and as the API shows it.

Money and quantities are kept as decimal strings so that what was issued is exactly what is
shown, uploaded and printed, whatever the storage does with numbers.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class RecordItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sequence: int
    description: str
    quantity: str
    unit: str | None = None
    unit_price: str
    amount: str
    tax_type: str
    remark: str | None = None


class Amounts(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sales_amount: int
    free_tax_sales_amount: int
    zero_tax_sales_amount: int
    tax_type: str
    tax_rate: str
    tax_amount: int
    total_amount: int


class HistoryEntry(BaseModel):
    at: str
    event: str
    actor: str
    detail: dict[str, Any] = Field(default_factory=dict)


class InvoiceRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    invoice_number: str
    random_number: str
    period: str
    invoice_date: date
    invoice_time: str
    issued_at: datetime
    invoice_type: str
    channel: str
    seller: dict[str, Any]
    buyer: dict[str, Any]
    items: list[RecordItem]
    amounts: Amounts
    tax_exclusive_sales_amount: int
    output_tax_amount: int
    carrier: dict[str, Any] | None = None
    donation_code: str | None = None
    print_mark: bool
    # How the unit prices were given: a re-issue (註銷重開) to another kind of buyer recomputes the
    # amounts from the same items. None on invoices stored before it was kept (then it is inferred).
    prices_include_tax: bool | None = None
    customs_clearance_mark: str | None = None
    zero_tax_rate_reason: str | None = None
    special_tax_rate: str | None = None
    main_remark: str | None = None
    order_id: str | None = None
    status: str = "issued"
    # 作廢 (F0501): reason, return_tax_document_number, remark, cancelled_at; the F0501 is built from it.
    cancellation: dict[str, Any] | None = None
    barcode: str
    qr_left: str
    qr_right: str
    history: list[HistoryEntry] = Field(default_factory=list)
    warnings: list[dict[str, Any]] = Field(default_factory=list)
    artifacts: dict[str, Any] = Field(default_factory=dict)
    delivery: dict[str, Any] = Field(default_factory=dict)
    # Allowances (折讓): tax-inclusive NT$ still allowable (None: nothing allowed yet, i.e. the whole
    # total) and how many allowances in force reduce it. Written by services.allowances only.
    allowance_remaining: int | None = None
    allowance_count: int = 0
    # How often the invoice was voided and re-issued (註銷重開); it is "issued" again after each.
    void_count: int = 0

    @property
    def is_b2b(self) -> bool:
        return bool(self.buyer.get("ubn"))

    def decimal(self, value: str) -> Decimal:
        return Decimal(value)


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

"""An issued invoice as the platform keeps it (what the invoice store reads and writes).

Money and quantities are kept as decimal strings so that what was issued is exactly what is
shown, uploaded and printed, whatever the storage does with numbers.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.exchange import ExchangeRecord


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
    # B2B exchange (交換, A0101…A0302): its state and the messages that exist for it; None for a
    # storage (存證) invoice, which is every invoice not issued with ``exchange: true``.
    exchange: ExchangeRecord | None = None

    @property
    def is_b2b(self) -> bool:
        return bool(self.buyer.get("ubn"))

    @property
    def is_exchange(self) -> bool:
        return self.exchange is not None

    def decimal(self, value: str) -> Decimal:
        return Decimal(value)

"""What the PDF renderers print: plain, already-stored invoice values.

Independent of the domain and storage modules on purpose: the renderers run in a separate
(asynchronous) function, and whoever builds an :class:`InvoiceDocument` decides which stored
values go on paper. The codes (``barcode``, ``qr_left``, ``qr_right``) are passed in ready-made
(``chalicelib.documents.codes``) so the PDF prints exactly what was uploaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal

__all__ = ["DocumentItem", "InvoiceDocument"]


@dataclass(frozen=True, slots=True)
class DocumentItem:
    description: str
    quantity: Decimal
    unit: str | None
    unit_price: Decimal
    amount: Decimal
    tax_type: str  # MIG TaxType: 1 taxable, 2 zero-rated, 3 tax-free, 4 special, 9 mixed


@dataclass(frozen=True, slots=True)
class InvoiceDocument:
    invoice_number: str  # "AB12345678"; printed as AB-12345678 (masked when donated)
    invoice_date: date
    invoice_time: time
    period_label: str  # e.g. "113年11-12月" (Period.label_zh)
    random_number: str
    seller_ubn: str
    seller_name: str
    seller_address: str
    buyer_ubn: str | None
    buyer_name: str | None
    items: tuple[DocumentItem, ...]
    sales_amount: Decimal
    free_tax_sales_amount: Decimal
    zero_tax_sales_amount: Decimal
    tax_amount: Decimal
    total_amount: Decimal
    tax_type: str
    barcode: str  # the 19-character Code 39 content, without the * start/stop characters
    qr_left: str
    qr_right: str
    carrier_type: str | None = None
    carrier_id: str | None = None
    donation_code: str | None = None
    print_mark: bool = True
    status: str = "issued"  # "issued", "cancelled" (作廢), "voided" (註銷) or "rejected" (退回, exchange)
    reprint: bool = False  # a copy (補印) of a proof printed before
    # A winning invoice's proof (中獎發票證明聯): the prize, e.g. "六獎 NT$200", printed under a 中獎 mark.
    prize_mark: str | None = None
    remark: str | None = None
    # Allowances (折讓) in force against the invoice: how many, the tax-inclusive NT$ they took off,
    # and what may still be allowed. Zero/None print nothing.
    allowance_count: int = 0
    allowance_total: Decimal | None = None
    allowance_remaining: Decimal | None = None

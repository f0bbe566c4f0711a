"""Stored records made directly, for tests that start from an invoice already issued."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime

from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.domain.period import Period


def invoice_number() -> str:
    return "ZZ" + f"{secrets.randbelow(10**8):08d}"


def b2b_invoice(
    seller: str, buyer: str, *, sales: int = 1000, tax: int = 50, day: date | None = None, number: str | None = None
) -> InvoiceRecord:
    """A general-tax (07) invoice to a business: ``sales`` before tax plus ``tax``, one line."""
    day = day or datetime.now(UTC).date()
    return InvoiceRecord(
        invoice_number=number or invoice_number(),
        random_number="1234",
        period=Period.from_date(day).code,
        invoice_date=day,
        invoice_time="10:00:00",
        issued_at=datetime.combine(day, datetime.min.time(), tzinfo=UTC),
        invoice_type="07",
        channel="api",
        seller={"ubn": seller, "name": "賣方股份有限公司", "address": "臺北市"},
        buyer={"ubn": buyer, "name": "買方股份有限公司"},
        items=[
            {
                "sequence": 1,
                "description": "顧問服務",
                "quantity": "1",
                "unit_price": str(sales),
                "amount": str(sales),
                "tax_type": "1",
            }
        ],
        amounts={
            "sales_amount": sales,
            "free_tax_sales_amount": 0,
            "zero_tax_sales_amount": 0,
            "tax_type": "1",
            "tax_rate": "0.05",
            "tax_amount": tax,
            "total_amount": sales + tax,
        },
        tax_exclusive_sales_amount=sales,
        output_tax_amount=tax,
        print_mark=False,
        barcode="-",
        qr_left="-",
        qr_right="-",
    )

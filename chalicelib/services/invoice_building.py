"""Pieces of an invoice that issuing and re-issuing (註銷重開) build the same way.

Shared so that a re-issued invoice gets its barcode, QR codes and period totals from exactly the
code that issued the first one: a second copy would drift, and the 401 return and the printed
codes must never disagree between the two paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from chalicelib.adapters.dynamo import to_item
from chalicelib.adapters.dynamo_invoices import invoices_table, owner
from chalicelib.documents.codes import QrInput, QrItem, barcode_content, qr_pair
from chalicelib.services.invoice_record import InvoiceRecord


@dataclass(frozen=True)
class Codes:
    barcode: str
    qr_left: str
    qr_right: str


def invoice_codes(
    *,
    period: str,
    number: str,
    invoice_date: date,
    random_number: str,
    tax_exclusive_sales_amount: int,
    total_amount: int,
    seller_ubn: str,
    buyer_ubn: str | None,
    items: tuple[QrItem, ...],
    qr_key: str,
) -> Codes:
    """The 1D barcode and the two QR codes of the proof (證明聯)."""
    qr = qr_pair(
        QrInput(
            invoice_number=number,
            invoice_date=invoice_date,
            random_number=random_number,
            # The QR carries tax-exclusive sales, as the barcode spec's example does (see codes.py).
            sales_amount=Decimal(tax_exclusive_sales_amount),
            total_amount=Decimal(total_amount),
            seller_ubn=seller_ubn,
            buyer_ubn=buyer_ubn,
            items=items,
        ),
        key_hex=qr_key,
    )
    return Codes(barcode_content(period, number, random_number), qr.left, qr.right)


def totals_changes(record: InvoiceRecord) -> dict[str, int]:
    """What one invoice adds to its period's running totals (the 401 return reads them)."""
    amounts = record.amounts
    additions = {
        "invoice_count": 1,
        "b2b_count" if record.is_b2b else "b2c_count": 1,
        f"count_tax_type_{amounts.tax_type}": 1,
        "taxable_sales": record.tax_exclusive_sales_amount,
        "output_tax": record.output_tax_amount,
        "zero_rated_sales": amounts.zero_tax_sales_amount,
        "exempt_sales": amounts.free_tax_sales_amount,
        "total_amount": amounts.total_amount,
    }
    if amounts.zero_tax_sales_amount and record.customs_clearance_mark:
        additions[f"zero_rated_sales_customs_{record.customs_clearance_mark}"] = amounts.zero_tax_sales_amount
    return additions


def negated(changes: dict[str, int]) -> dict[str, int]:
    return {name: -value for name, value in changes.items()}


def difference(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    """``after - before`` per attribute, without the zeros (a re-issue that changes nothing adds nothing)."""
    names = list(dict.fromkeys([*before, *after]))
    changes = {name: after.get(name, 0) - before.get(name, 0) for name in names}
    return {name: value for name, value in changes.items() if value}


def totals_update(ubn: str, period: str, invoice_type: str, changes: dict[str, int]) -> dict[str, Any]:
    """A transaction action adding ``changes`` (negative to subtract) to the period's totals item."""
    if not changes:
        raise ValueError("a totals update needs at least one change")
    names = {f"#a{i}": name for i, name in enumerate(changes)}
    values = {f":a{i}": value for i, value in enumerate(changes.values())}
    return {
        "Update": {
            "TableName": invoices_table(),
            "Key": {"pk": {"S": owner(ubn)}, "sk": {"S": f"TOTALS#{period}#{invoice_type}"}},
            "UpdateExpression": "ADD " + ", ".join(f"#a{i} :a{i}" for i in range(len(changes))),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_item(values),
        }
    }

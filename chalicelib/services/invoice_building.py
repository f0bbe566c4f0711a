"""Pieces of an invoice that issuing and re-issuing (註銷重開) build the same way.

Shared so that a re-issued invoice gets its barcode, QR codes and period totals from exactly the
code that issued the first one: a second copy would drift, and the 401 return and the printed
codes must never disagree between the two paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from chalicelib.documents.codes import QrInput, QrItem, barcode_content, qr_pair
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.domain.writes import AddToPurchases


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
    zero_tax_sales_amount: int,
    free_tax_sales_amount: int,
    total_amount: int,
    seller_ubn: str,
    buyer_ubn: str | None,
    items: tuple[QrItem, ...],
    qr_key: str,
) -> Codes:
    """The 1D barcode and the two QR codes of the proof (證明聯).

    ``tax_exclusive_sales_amount`` is the taxable part without tax; the zero-rated (零稅率) and
    tax-free (免稅) sales are added to it for the QR (see :func:`qr_sales_amount`).
    """
    qr = qr_pair(
        QrInput(
            invoice_number=number,
            invoice_date=invoice_date,
            random_number=random_number,
            sales_amount=Decimal(
                qr_sales_amount(tax_exclusive_sales_amount, zero_tax_sales_amount, free_tax_sales_amount)
            ),
            total_amount=Decimal(total_amount),
            seller_ubn=seller_ubn,
            buyer_ubn=buyer_ubn,
            items=items,
        ),
        key_hex=qr_key,
    )
    return Codes(barcode_content(period, number, random_number), qr.left, qr.right)


def qr_sales_amount(tax_exclusive_sales_amount: int, zero_tax_sales_amount: int, free_tax_sales_amount: int) -> int:
    """The left QR's 銷售額: the invoice's 未稅總金額 (total before tax), every tax type together.

    The barcode spec (電子發票證明聯一維及二維條碼規格說明; einvoice-domain.md, corrections of
    2026-12-04) defines the left QR's 銷售額 as the 未稅總金額: the whole invoice before tax. So the
    zero-rated (零稅率, TaxType 2) and tax-free (免稅, TaxType 3) sales count, and a mixed invoice
    (TaxType 9) carries the sum of its parts; a zero-rated invoice of 500 writes 500 (000001f4).
    Only the taxable part has tax to take out, hence its tax-exclusive figure (B2C 340 -> 324, the
    spec's example). Then 總計額 - 銷售額 is the tax, as a reader computes it.
    """
    return tax_exclusive_sales_amount + zero_tax_sales_amount + free_tax_sales_amount


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
    # The 401 splits B2C sales (tax-inclusive on the invoice) once on the period's sum, and takes
    # B2B sales and tax as printed: so the two are kept apart (domain.filing.compute_return).
    if record.is_b2b:
        additions["b2b_taxable_sales"] = record.tax_exclusive_sales_amount
        additions["b2b_output_tax"] = record.output_tax_amount
    else:
        additions["b2c_taxable_total"] = record.tax_exclusive_sales_amount + record.output_tax_amount
    return additions


def purchases_changes(record: InvoiceRecord) -> tuple[str, dict[str, int]] | None:
    """What a B2B invoice adds to its buyer's input side (format 25) for the invoice's period.

    Only general-tax (07) invoices carry deductible input tax; ``None`` when there is no buyer UBN.
    """
    buyer = record.buyer.get("ubn")
    if not buyer or record.invoice_type != "07":
        return None
    return str(buyer), {
        "invoice_count": 1,
        "amount": record.tax_exclusive_sales_amount
        + record.amounts.zero_tax_sales_amount
        + record.amounts.free_tax_sales_amount,
        "tax": record.output_tax_amount,
    }


def purchase_intents(before: InvoiceRecord | None, after: InvoiceRecord | None) -> list[AddToPurchases]:
    """The buyer-side additions for an invoice going from ``before`` to ``after`` (either may be
    absent): issue, cancel, or a re-issue that changes the amounts or the buyer itself."""
    per_buyer: dict[tuple[str, str], dict[str, int]] = {}
    for record, sign in ((before, -1), (after, 1)):
        found = purchases_changes(record) if record is not None else None
        if found is None or record is None:
            continue
        buyer, changes = found
        target = per_buyer.setdefault((buyer, record.period), {})
        for name, value in changes.items():
            target[name] = target.get(name, 0) + sign * value
    intents = []
    for (buyer, period), summed in per_buyer.items():
        changes = {name: value for name, value in summed.items() if value}
        if changes:
            intents.append(AddToPurchases(buyer, period, changes))
    return intents


def negated(changes: dict[str, int]) -> dict[str, int]:
    return {name: -value for name, value in changes.items()}


def difference(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    """``after - before`` per attribute, without the zeros (a re-issue that changes nothing adds nothing)."""
    names = list(dict.fromkeys([*before, *after]))
    changes = {name: after.get(name, 0) - before.get(name, 0) for name in names}
    return {name: value for name, value in changes.items() if value}

"""The rules of an allowance against its original invoices, pure: who may be reduced together, by
how much, how the amounts are counted in the seller's totals and the buyer's purchases, and what
date it may carry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from chalicelib.domain.allowance import AllowanceAmounts, AllowanceLine, ensure_within_invoice
from chalicelib.domain.allowance_record import MAX_RECORD_BYTES, AllowanceRecord
from chalicelib.domain.amounts import round_half_up
from chalicelib.domain.errors import Conflict, RuleViolation
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.domain.status import ensure_can_void
from chalicelib.domain.tax import TaxType
from chalicelib.domain.working_days import WorkingCalendar, filing_deadline


def buyer_identity(record: InvoiceRecord) -> tuple[Any, ...]:
    """Who an invoice was issued to: the UBN for a business; for a consumer what identifies them."""
    buyer = record.buyer
    if buyer.get("ubn"):
        return ("ubn", buyer["ubn"])
    carrier = record.carrier or {}
    return ("consumer", carrier.get("type"), carrier.get("id"), buyer.get("email"), buyer.get("name"))


def ensure_same_buyer(records: Sequence[InvoiceRecord]) -> None:
    # One G0401 names one buyer, and one return row: every original must be the same buyer's,
    # of the same invoice type.
    if len({buyer_identity(r) for r in records}) > 1:
        raise RuleViolation(
            "DIFFERENT_BUYERS",
            "All original invoices of an allowance must be issued to the same buyer",
            "同一張折讓單的原發票必須為同一買方",
            "items",
        )
    if len({r.invoice_type for r in records}) > 1:
        raise RuleViolation(
            "DIFFERENT_INVOICE_TYPES",
            "All original invoices of an allowance must be of the same invoice type",
            "同一張折讓單的原發票必須為同一發票類別",
            "items",
        )


def ensure_item_exists(record: InvoiceRecord, sequence: int | None, index: int) -> None:
    if sequence is not None and sequence not in {item.sequence for item in record.items}:
        raise RuleViolation(
            "ORIGINAL_ITEM_NOT_FOUND",
            f"Invoice {record.invoice_number} has no item {sequence}",
            f"發票 {record.invoice_number} 沒有第 {sequence} 個品項",
            f"items[{index}].original_sequence_number",
        )


def default_prices_include_tax(originals: Sequence[InvoiceRecord]) -> bool:
    """ "As on the original invoice": invoices do not keep the flag, but their item amounts show it.

    A consumer invoice's prices always include the tax (VAT Act §32); a business invoice's include it
    when its items add up to the tax-inclusive total.
    """
    kept = {getattr(record, "prices_include_tax", None) for record in originals}
    if len(kept) == 1 and None not in kept:
        return bool(kept.pop())  # newer invoices keep the flag
    for record in originals:
        if not record.is_b2b:
            return True
        items_total = sum((Decimal(item.amount) for item in record.items), Decimal(0))
        if round_half_up(items_total) != record.amounts.total_amount:
            return False
    return True


def taken_per_invoice(lines: Sequence[AllowanceLine]) -> dict[str, int]:
    """Tax-inclusive NT$ each original invoice is reduced by (whole dollars, like its total)."""
    amounts: dict[str, Decimal] = {}
    taxes: dict[str, int] = {}
    for line in lines:
        number = line.original_invoice_number
        amounts[number] = amounts.get(number, Decimal(0)) + line.amount
        taxes[number] = taxes.get(number, 0) + line.tax
    return {number: round_half_up(amounts[number]) + taxes[number] for number in amounts}


def remaining(record: InvoiceRecord) -> int:
    """What may still be allowed on an invoice: nothing allowed yet means its whole total."""
    value = record.allowance_remaining
    return record.amounts.total_amount if value is None else int(value)


def ensure_within_invoice_remaining(allowed_so_far: int, requested: int, total: int, number: str) -> None:
    """``ensure_within_invoice`` with the invoice named, so a multi-invoice allowance says which one."""
    try:
        ensure_within_invoice(allowed_so_far, requested, total)
    except RuleViolation as error:
        raise RuleViolation(
            error.code,
            f"{error.message} (invoice {number}, NT${total - allowed_so_far} remaining)",
            f"{error.message_zh}（發票 {number}，剩餘可折讓 {total - allowed_so_far} 元）",
            "items",
        ) from None


def totals_changes(amounts: AllowanceAmounts, sign: int) -> dict[str, int]:
    """What the allowance adds to the period totals (reference §7: 401 rows 17, 18 and 19).

    The ``allowance_*`` totals hold positive amounts, like the return's "less returns and allowances"
    rows; the 401 computation subtracts them. ``sign`` is +1 on issue and -1 on cancel.
    """
    by_type: dict[str, Decimal] = {}
    for line in amounts.lines:
        code = str(line.tax_type.value)
        by_type[code] = by_type.get(code, Decimal(0)) + line.amount
    taxable = round_half_up(by_type.get("1", Decimal(0)))
    additions = {
        "allowance_count": sign,
        "allowance_sales": sign * taxable,
        "allowance_tax": sign * amounts.tax_amount,
        "allowance_total": sign * (amounts.total_amount + amounts.tax_amount),
    }
    for code, name in (("2", "allowance_zero_rated_sales"), ("3", "allowance_exempt_sales")):
        if code in by_type:
            additions[name] = sign * round_half_up(by_type[code])
    return additions


def purchase_changes(
    record: AllowanceRecord, amounts: AllowanceAmounts, sign: int
) -> tuple[str, dict[str, int]] | None:
    """The buyer's purchase returns and allowances (format 23, 401 codes 40/41), in the allowance's period.

    Only a general-tax (07) invoice's buyer deducted input tax, so only that buyer gives it back.
    """
    buyer = record.buyer.get("ubn")
    if not buyer or record.invoice_type != "07":
        return None
    taxable = round_half_up(sum((line.amount for line in amounts.lines), Decimal(0)))
    return str(buyer), {
        "allowance_count": sign,
        "allowance_amount": sign * taxable,
        "allowance_tax": sign * amounts.tax_amount,
    }


def amounts_of(record: AllowanceRecord) -> AllowanceAmounts:
    """The stored lines as domain amounts, to reverse exactly what was subtracted."""
    lines = tuple(
        AllowanceLine(
            item.original_invoice_number,
            TaxType(item.tax_type),
            Decimal(item.quantity),
            Decimal(item.unit_price),
            Decimal(item.amount),
            item.tax,
        )
        for item in record.items
    )
    return AllowanceAmounts(lines, record.tax_amount, record.total_amount)


def counted_totals(record: AllowanceRecord) -> tuple[dict[str, int], tuple[str, dict[str, int]] | None]:
    """What an allowance in force adds to its seller's totals, and to its buyer's purchases (or None),
    computed exactly as issuing adds them: the reconciliation recounts a period with it."""
    amounts = amounts_of(record)
    return totals_changes(amounts, +1), purchase_changes(record, amounts, +1)


def allowance_date(
    requested: date | None, originals: Sequence[InvoiceRecord], now: datetime, calendar: WorkingCalendar
) -> date:
    """The allowance's date: today (Taiwan time) unless given; never in the future, never before an
    original invoice, never in a period past its filing deadline."""
    today = now.astimezone(TAIWAN_TZ).date()
    day = requested or today
    if day > today:
        raise RuleViolation(
            "ALLOWANCE_DATE_IN_FUTURE",
            "The allowance date is in the future",
            "折讓日期不可晚於今天",
            "allowance_date",
        )
    if any(day < record.invoice_date for record in originals):
        raise RuleViolation(
            "ALLOWANCE_BEFORE_INVOICE",
            "The allowance date is before an original invoice's date",
            "折讓日期不可早於原發票日期",
            "allowance_date",
        )
    # A period whose return is filed is closed: an allowance dated in it would change that return.
    if filing_deadline(Period.from_date(day), calendar) < today:
        raise RuleViolation(
            "ALLOWANCE_PERIOD_CLOSED",
            "That date's period is past its filing deadline; date the allowance today",
            "該日期所屬期別已過申報期限，請以今天為折讓日期",
            "allowance_date",
        )
    return day


def ensure_storable(record: AllowanceRecord) -> None:
    """A DynamoDB item holds at most 400 KB; refuse (422) what would not fit instead of failing there."""
    size = len(record.model_dump_json().encode())
    if size > MAX_RECORD_BYTES:
        raise RuleViolation(
            "ALLOWANCE_TOO_LARGE",
            f"The allowance is too large to keep ({size} bytes); split it into several allowances",
            f"折讓單內容過大（{size} 位元組），請分成數張折讓單",
            "items",
        )


def ensure_can_void_allowance(record: AllowanceRecord, now: datetime) -> None:
    """Void and re-issue (註銷重開, G0701 + G0401) an allowance only while it is issued, within 48 h
    of its first issue and in the period it was issued in.

    No MOF text gives G0701 a time limit (reference §1.6 ⚠️ says the same of F0701); we apply the
    invoice void's own safe reading (``domain/status.ensure_can_void``: 48 h, same period) to the
    allowance's first issue time, which a re-issue keeps, so voiding again never extends the window.
    Whether the allowance's own period is filed is checked apart (a back-dated allowance's period is
    the previous one, which may be filed meanwhile)."""
    if record.status != "issued":
        raise Conflict(
            "ALLOWANCE_NOT_ISSUED",
            f"Only an issued allowance can be voided and re-issued; this one is {record.status}.",
            f"僅已開立的折讓單可註銷重開；此折讓單狀態為「{_ALLOWANCE_STATUS_ZH.get(record.status, record.status)}」。",
            "allowance_number",
        )
    try:
        ensure_can_void(record.issued_at, now)
    except RuleViolation:
        raise RuleViolation(
            "VOID_WINDOW_PASSED",
            "An allowance can be voided and re-issued only within 48 hours of its issue and in the period it "
            "was issued in; cancel it (G0501) and issue a new one instead.",
            "折讓單僅能於開立後 48 小時內且於開立當期註銷重開；請改為作廢折讓單（G0501）後重新開立。",
            "allowance_number",
        ) from None


_ALLOWANCE_STATUS_ZH = {"issued": "已開立", "cancelled": "已作廢", "voided": "已註銷"}


def allowable_moves(old: Mapping[str, int], new: Mapping[str, int]) -> list[tuple[str, int, int]]:
    """Per original invoice, what a void gives back (``old``) and the re-issue takes (``new``):
    ``(invoice number, restore, take)``, the voided allowance's invoices first, in its order."""
    numbers = [*old, *(n for n in new if n not in old)]
    return [(number, old.get(number, 0), new.get(number, 0)) for number in numbers]

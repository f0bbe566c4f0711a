"""Invoice life cycle: issue (開立), cancel (作廢, F0501), void (註銷, F0701) and re-issue, allowances (折讓).

A small pure state machine. Re-issue after a void keeps the invoice number and issue time (the same
invoice with corrected data); a cancelled number is never used for a *new* invoice.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from chalicelib.domain.errors import RuleViolation
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.domain.working_days import WEEKDAYS, WorkingCalendar, filing_deadline

#: Taiwan has no daylight saving time, so a fixed offset is exact and needs no tz database.

#: Void (註銷) window. No MOF text was found (reference §1.6 ⚠️); value-added centers allow 48 h within
#: the same period, which we take as the safe rule.
VOID_WINDOW = timedelta(hours=48)


class InvoiceStatus(StrEnum):
    ISSUED = "issued"
    """開立: uploaded or waiting to be uploaded; allowances may follow."""
    CANCELLED = "cancelled"
    """作廢: withdrawn (F0501); the number is never used for another invoice."""
    VOIDED = "voided"
    """註銷: withdrawn (F0701) so that the same number can be re-issued with corrected data."""
    REJECTED = "rejected"
    """退回: an exchanged (交換) B2B invoice its buyer refused (A0301); it counts on neither side."""


# issue -> cancel -> void -> re-issue is a scenario of the MOF's own V4.8 self-test, so a cancelled
# invoice may still be voided; a re-issue (VOIDED -> ISSUED) keeps the same number.
ALLOWED_TRANSITIONS: dict[InvoiceStatus, frozenset[InvoiceStatus]] = {
    # An exchanged invoice is rejected by its buyer (A0301); it is never voided (reference §1.6).
    InvoiceStatus.ISSUED: frozenset({InvoiceStatus.CANCELLED, InvoiceStatus.VOIDED, InvoiceStatus.REJECTED}),
    InvoiceStatus.CANCELLED: frozenset({InvoiceStatus.VOIDED}),
    InvoiceStatus.VOIDED: frozenset({InvoiceStatus.ISSUED}),
    InvoiceStatus.REJECTED: frozenset(),
}


def can_transition(current: InvoiceStatus, target: InvoiceStatus) -> bool:
    return target in ALLOWED_TRANSITIONS[current]


def transition(current: InvoiceStatus, target: InvoiceStatus, *, active_allowances: int = 0) -> InvoiceStatus:
    """Return ``target`` if the move is allowed, else raise ``RuleViolation`` (``INVALID_STATUS_TRANSITION``).

    An invoice with allowances still in force cannot be cancelled or voided: the allowances would then
    reduce an invoice that no longer exists, and the 401 return would count them against nothing.
    """
    if not can_transition(current, target):
        raise RuleViolation(
            "INVALID_STATUS_TRANSITION",
            f"An invoice that is {current.value} cannot become {target.value}.",
            f"發票狀態「{_ZH[current]}」不可變更為「{_ZH[target]}」。",
            "status",
        )
    if active_allowances and target in (InvoiceStatus.CANCELLED, InvoiceStatus.VOIDED):
        raise RuleViolation(
            "INVOICE_HAS_ALLOWANCES",
            "Cancel the invoice's allowances first.",
            "請先作廢此發票的折讓單。",
            "status",
        )
    return target


def ensure_allowance_allowed(status: InvoiceStatus, field: str = "items") -> None:
    """Only an issued invoice can be reduced by an allowance."""
    if status is not InvoiceStatus.ISSUED:
        raise RuleViolation(
            "INVOICE_NOT_ISSUED",
            f"An allowance needs an issued invoice; this one is {status.value}.",
            f"僅已開立的發票可折讓；此發票狀態為「{_ZH[status]}」。",
            field,
        )


def cancel_deadline(period: Period, calendar: WorkingCalendar = WEEKDAYS) -> date:
    """Last day to cancel (作廢) without tax-office approval: the period's filing deadline.

    After it, only a special-case cancellation (專案作廢) with the approval number in
    ``return_tax_document_number`` is possible.
    """
    return filing_deadline(period, calendar)


def ensure_can_cancel(
    period: Period,
    today: date,
    *,
    return_tax_document_number: str | None = None,
    calendar: WorkingCalendar = WEEKDAYS,
) -> None:
    deadline = cancel_deadline(period, calendar)
    if today > deadline and not return_tax_document_number:
        raise RuleViolation(
            "CANCEL_DEADLINE_PASSED",
            f"The filing deadline {deadline.isoformat()} has passed; a cancellation now "
            "needs the tax office's approval number (return_tax_document_number), or issue an allowance.",
            f"已逾申報期限 {deadline.isoformat()}，作廢須填入專案作廢核准文號"
            "（return_tax_document_number），或改開折讓單。",
            "return_tax_document_number",
        )


def ensure_can_void(issued_at: datetime, now: datetime) -> None:
    """Void (註銷) only within 48 h of issue and while the invoice's period is still current (⚠️ practice)."""
    if issued_at.tzinfo is None or now.tzinfo is None:
        raise ValueError("issued_at and now must be timezone-aware")
    issued_day = issued_at.astimezone(TAIWAN_TZ).date()
    same_period = Period.from_date(issued_day) == Period.from_date(now.astimezone(TAIWAN_TZ).date())
    if now - issued_at > VOID_WINDOW or not same_period:
        raise RuleViolation(
            "VOID_WINDOW_PASSED",
            "An invoice can be voided and re-issued only within 48 hours and in its own period; "
            "cancel it or issue an allowance instead.",
            "發票僅能於開立後 48 小時內且於當期註銷重開；請改為作廢或開立折讓單。",
            "invoice_number",
        )


_ZH = {
    InvoiceStatus.ISSUED: "已開立",
    InvoiceStatus.CANCELLED: "已作廢",
    InvoiceStatus.VOIDED: "已註銷",
    InvoiceStatus.REJECTED: "已退回",
}

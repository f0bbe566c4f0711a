"""Where a period's return stands: open, draft ready, filed, paid or overdue, and what is still owed."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from chalicelib.domain.errors import RuleViolation
from chalicelib.domain.period import Period
from chalicelib.domain.working_days import WEEKDAYS, WorkingCalendar, filing_deadline


class FilingStatus(StrEnum):
    OPEN = "open"
    """The period is still running: its figures can change with every invoice."""
    DRAFT_READY = "draft_ready"
    """The period has ended; the return can be filed until the 15th of the next month."""
    FILED = "filed"
    PAID = "paid"
    OVERDUE = "overdue"
    """Not filed by the deadline, or filed with tax still owed after it."""
    NOT_DUE = "not_due"
    """The period ended before the merchant started here (registration or first allocation): no
    return of it is due on this platform."""


class PaymentStatus(StrEnum):
    NONE_DUE = "none_due"
    DUE = "due"
    PARTLY_PAID = "partly_paid"
    PAID = "paid"


def payment_status(payable: int, paid: int) -> PaymentStatus:
    if payable <= 0:
        return PaymentStatus.NONE_DUE
    if paid >= payable:
        return PaymentStatus.PAID
    return PaymentStatus.PARTLY_PAID if paid > 0 else PaymentStatus.DUE


def filing_status(
    period: Period,
    today: date,
    *,
    filed: bool,
    payable: int = 0,
    paid: int = 0,
    first_period: Period | None = None,
    calendar: WorkingCalendar = WEEKDAYS,
) -> FilingStatus:
    """``today`` in Taiwan time. The deadline day itself still counts as on time (VAT Act §35).
    ``first_period``: the merchant's first period here (None: unknown, every period is due)."""
    late = today > filing_deadline(period, calendar)
    if not filed and first_period is not None and period < first_period:
        return FilingStatus.NOT_DUE
    if not filed:
        if today <= period.last_day:
            return FilingStatus.OPEN
        return FilingStatus.OVERDUE if late else FilingStatus.DRAFT_READY
    owed = payment_status(payable, paid)
    if owed is PaymentStatus.PAID:
        return FilingStatus.PAID
    if owed is not PaymentStatus.NONE_DUE and late:
        return FilingStatus.OVERDUE
    return FilingStatus.FILED


def ensure_period_ended(
    period: Period, today: date, field: str = "period", calendar: WorkingCalendar = WEEKDAYS
) -> None:
    """A return is filed only for a period that has ended: until then its invoices can still change it."""
    if today <= period.last_day:
        due = filing_deadline(period, calendar).isoformat()
        raise RuleViolation(
            "PERIOD_NOT_ENDED",
            f"Period {period.code} runs until {period.last_day.isoformat()}; file its return from "
            f"{period.next().first_day.isoformat()} to {due}.",
            f"{period.label_zh} 期間至 {period.last_day.isoformat()} 止；請於 {period.next().first_day.isoformat()} "
            f"至 {due} 申報。",
            field,
        )


def ensure_period_started(period: Period, today: date, field: str = "period") -> None:
    if today < period.first_day:
        raise RuleViolation(
            "PERIOD_NOT_STARTED",
            f"Period {period.code} starts on {period.first_day.isoformat()}.",
            f"{period.label_zh} 尚未開始（{period.first_day.isoformat()} 起）。",
            field,
        )


def payment_reference(ubn: str, period: Period) -> str:
    """The reference the merchant quotes with its payment: UBN, period and a check digit (weights 3,1).

    The platform's own reference for matching payments to returns; the tax office's payment slip
    (繳款書) number is recorded separately with each payment.
    """
    digits = f"{ubn}{period.code}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(digits))
    return f"{digits}{(10 - total % 10) % 10}"

"""Invoice life cycle: cancel (作廢), void (註銷) and re-issue, allowances (reference §1.6)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.domain.errors import RuleViolation
from chalicelib.domain.period import Period
from chalicelib.domain.status import (
    TAIWAN_TZ,
    InvoiceStatus,
    can_transition,
    ensure_allowance_allowed,
    ensure_can_cancel,
    ensure_can_void,
    transition,
)

ISSUED, CANCELLED, VOIDED = InvoiceStatus.ISSUED, InvoiceStatus.CANCELLED, InvoiceStatus.VOIDED


def test_issue_cancel_void_reissue_is_a_valid_life() -> None:
    status = ISSUED
    for target in (CANCELLED, VOIDED, ISSUED):
        status = transition(status, target)
    assert status is ISSUED


def test_void_then_reissue() -> None:
    assert transition(transition(ISSUED, VOIDED), ISSUED) is ISSUED


@pytest.mark.parametrize(
    ("current", "target"),
    [(CANCELLED, ISSUED), (CANCELLED, CANCELLED), (VOIDED, CANCELLED), (VOIDED, VOIDED), (ISSUED, ISSUED)],
)
def test_forbidden_moves(current: InvoiceStatus, target: InvoiceStatus) -> None:
    assert not can_transition(current, target)
    with pytest.raises(RuleViolation) as caught:
        transition(current, target)
    assert caught.value.code == "INVALID_STATUS_TRANSITION"
    assert caught.value.message_zh


def test_allowances_must_be_cancelled_before_the_invoice() -> None:
    for target in (CANCELLED, VOIDED):
        with pytest.raises(RuleViolation) as caught:
            transition(ISSUED, target, active_allowances=1)
        assert caught.value.code == "INVOICE_HAS_ALLOWANCES"


def test_only_issued_invoices_take_allowances() -> None:
    ensure_allowance_allowed(ISSUED)
    for status in (CANCELLED, VOIDED):
        with pytest.raises(RuleViolation) as caught:
            ensure_allowance_allowed(status)
        assert caught.value.code == "INVOICE_NOT_ISSUED"


def test_cancel_is_allowed_until_the_filing_deadline() -> None:
    period = Period.parse("11312")
    ensure_can_cancel(period, date(2025, 1, 15))
    with pytest.raises(RuleViolation) as caught:
        ensure_can_cancel(period, date(2025, 1, 16))
    assert (caught.value.code, caught.value.field) == ("CANCEL_DEADLINE_PASSED", "return_tax_document_number")
    # after the deadline the tax office's approval (專案作廢) makes it possible again
    ensure_can_cancel(period, date(2025, 1, 16), return_tax_document_number="北區國稅字第1140000001號")


def test_void_within_48_hours_of_issue() -> None:
    issued = datetime(2024, 11, 5, 10, 0, tzinfo=TAIWAN_TZ)
    ensure_can_void(issued, issued + timedelta(hours=47, minutes=59))
    with pytest.raises(RuleViolation) as caught:
        ensure_can_void(issued, issued + timedelta(hours=48, seconds=1))
    assert caught.value.code == "VOID_WINDOW_PASSED"


def test_void_is_refused_once_the_period_has_changed_in_taiwan_time() -> None:
    # 23:30 and 00:30 Taiwan time across New Year, given in UTC: only an hour apart, but a new period
    issued = datetime(2024, 12, 31, 15, 30, tzinfo=UTC)
    with pytest.raises(RuleViolation):
        ensure_can_void(issued, issued + timedelta(hours=1))
    # the same hour inside one period is fine
    ensure_can_void(datetime(2024, 12, 31, 14, 30, tzinfo=UTC), datetime(2024, 12, 31, 15, 30, tzinfo=UTC))


def test_naive_times_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ensure_can_void(datetime(2024, 11, 5, 10, 0), datetime(2024, 11, 5, 11, 0))

"""Where a period's return stands, what is still owed, and the payment reference (reference §1.5, §7)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.errors import RuleViolation
from chalicelib.domain.filing_status import (
    FilingStatus,
    PaymentStatus,
    ensure_period_ended,
    ensure_period_started,
    filing_status,
    payment_reference,
    payment_status,
)
from chalicelib.domain.period import Period

# 2025-09-01 .. 2025-10-31; the return's statutory day 2025-11-15 was a Saturday, so it was due by
# Monday 2025-11-17 (行政程序法 §48; the 2025 office calendar).
SEP_OCT_2025 = Period.parse("11410")


def test_the_example_period() -> None:
    assert (SEP_OCT_2025.first_day, SEP_OCT_2025.last_day) == (date(2025, 9, 1), date(2025, 10, 31))
    assert SEP_OCT_2025.filing_deadline == date(2025, 11, 15)


# ---------------------------------------------------------------------------------------------
# Not filed yet
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "status"),
    [
        (date(2025, 9, 1), FilingStatus.OPEN),  # first day of the period
        (date(2025, 10, 31), FilingStatus.OPEN),  # last day: invoices can still change the figures
        (date(2025, 11, 1), FilingStatus.DRAFT_READY),  # the day after the period ends
        (date(2025, 11, 10), FilingStatus.DRAFT_READY),
        (date(2025, 11, 15), FilingStatus.DRAFT_READY),  # Saturday: the deadline moves to Monday
        (date(2025, 11, 16), FilingStatus.DRAFT_READY),
        (date(2025, 11, 17), FilingStatus.DRAFT_READY),  # the deadline day itself is on time
        (date(2025, 11, 18), FilingStatus.OVERDUE),  # the day after the deadline
        (date(2026, 3, 1), FilingStatus.OVERDUE),
    ],
)
def test_an_unfiled_return_is_open_then_ready_then_overdue(today: date, status: FilingStatus) -> None:
    assert filing_status(SEP_OCT_2025, today, filed=False) is status


def test_an_unfiled_return_is_overdue_even_with_nothing_to_pay() -> None:
    assert filing_status(SEP_OCT_2025, date(2025, 11, 18), filed=False, payable=0) is FilingStatus.OVERDUE


def test_the_december_period_is_due_in_january_of_the_next_year() -> None:
    nov_dec = Period.parse("11412")  # Nov-Dec 2025: due 2026-01-15
    assert filing_status(nov_dec, date(2026, 1, 15), filed=False) is FilingStatus.DRAFT_READY
    assert filing_status(nov_dec, date(2026, 1, 16), filed=False) is FilingStatus.OVERDUE


# ---------------------------------------------------------------------------------------------
# Filed
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("today", [date(2025, 11, 3), date(2025, 11, 15), date(2025, 11, 16), date(2026, 5, 1)])
def test_a_filed_return_with_nothing_to_pay_stays_filed(today: date) -> None:
    assert filing_status(SEP_OCT_2025, today, filed=True, payable=0, paid=0) is FilingStatus.FILED


@pytest.mark.parametrize("today", [date(2025, 11, 3), date(2025, 11, 15)])
def test_a_filed_return_with_tax_owed_is_filed_until_the_deadline(today: date) -> None:
    assert filing_status(SEP_OCT_2025, today, filed=True, payable=676, paid=0) is FilingStatus.FILED
    assert filing_status(SEP_OCT_2025, today, filed=True, payable=676, paid=300) is FilingStatus.FILED


@pytest.mark.parametrize("paid", [676, 1_000])
@pytest.mark.parametrize("today", [date(2025, 11, 3), date(2025, 11, 20)])
def test_a_filed_return_paid_in_full_is_paid(today: date, paid: int) -> None:
    assert filing_status(SEP_OCT_2025, today, filed=True, payable=676, paid=paid) is FilingStatus.PAID


@pytest.mark.parametrize("paid", [0, 300, 675])
def test_a_filed_return_with_tax_still_owed_after_the_deadline_is_overdue(paid: int) -> None:
    assert filing_status(SEP_OCT_2025, date(2025, 11, 18), filed=True, payable=676, paid=paid) is FilingStatus.OVERDUE


# ---------------------------------------------------------------------------------------------
# Payment
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payable", "paid", "status"),
    [
        (0, 0, PaymentStatus.NONE_DUE),  # nothing to pay (e.g. a credit period)
        (0, 100, PaymentStatus.NONE_DUE),
        (676, 0, PaymentStatus.DUE),
        (676, 1, PaymentStatus.PARTLY_PAID),
        (676, 675, PaymentStatus.PARTLY_PAID),
        (676, 676, PaymentStatus.PAID),
        (676, 700, PaymentStatus.PAID),  # overpaid still counts as paid
    ],
)
def test_payment_status(payable: int, paid: int, status: PaymentStatus) -> None:
    assert payment_status(payable, paid) is status


def test_a_period_before_the_merchant_started_is_not_due_unless_filed() -> None:
    first = SEP_OCT_2025.next()  # the merchant registered in Nov-Dec 2025
    today = date(2026, 3, 1)  # long past the Sep-Oct deadline
    assert filing_status(SEP_OCT_2025, today, filed=False, first_period=first) is FilingStatus.NOT_DUE
    assert filing_status(first, today, filed=False, first_period=first) is FilingStatus.OVERDUE
    assert filing_status(SEP_OCT_2025, today, filed=True, first_period=first) is FilingStatus.FILED


def test_statuses_have_stable_wire_values() -> None:
    assert [s.value for s in FilingStatus] == ["open", "draft_ready", "filed", "paid", "overdue", "not_due"]
    assert [s.value for s in PaymentStatus] == ["none_due", "due", "partly_paid", "paid"]


# ---------------------------------------------------------------------------------------------
# When a return may be filed
# ---------------------------------------------------------------------------------------------


def test_a_return_cannot_be_filed_on_the_last_day_of_its_period() -> None:
    with pytest.raises(RuleViolation) as caught:
        ensure_period_ended(SEP_OCT_2025, date(2025, 10, 31))
    error = caught.value
    assert (error.code, error.field) == ("PERIOD_NOT_ENDED", "period")
    # it tells the merchant when filing opens and closes
    for text in (error.message, error.message_zh):
        assert "2025-11-01" in text and "2025-11-17" in text


def test_a_return_can_be_filed_the_day_after_its_period() -> None:
    ensure_period_ended(SEP_OCT_2025, date(2025, 11, 1))
    ensure_period_ended(SEP_OCT_2025, date(2025, 12, 1))  # late, but still fileable


def test_the_period_error_names_the_callers_field() -> None:
    with pytest.raises(RuleViolation) as caught:
        ensure_period_ended(SEP_OCT_2025, date(2025, 9, 15), field="body.period")
    assert caught.value.field == "body.period"


def test_a_period_that_has_not_started_is_refused() -> None:
    with pytest.raises(RuleViolation) as caught:
        ensure_period_started(SEP_OCT_2025, date(2025, 8, 31))
    assert caught.value.code == "PERIOD_NOT_STARTED"
    ensure_period_started(SEP_OCT_2025, date(2025, 9, 1))


# ---------------------------------------------------------------------------------------------
# Payment reference
# ---------------------------------------------------------------------------------------------


def test_payment_reference_worked_by_hand() -> None:
    # "04595257" + "11410" = 0 4 5 9 5 2 5 7 1 1 4 1 0, weights 3 1 3 1 ... from the left:
    #   0x3 + 4x1 + 5x3 + 9x1 + 5x3 + 2x1 + 5x3 + 7x1 + 1x3 + 1x1 + 4x3 + 1x1 + 0x3
    # = 0 + 4 + 15 + 9 + 15 + 2 + 15 + 7 + 3 + 1 + 12 + 1 + 0 = 84 -> check (10 - 4) % 10 = 6
    assert payment_reference("04595257", SEP_OCT_2025) == "04595257114106"


def test_a_one_digit_change_in_the_ubn_changes_the_check_digit() -> None:
    # last UBN digit 7 -> 8 has weight 1: sum 84 + 1 = 85 -> check (10 - 5) % 10 = 5
    assert payment_reference("04595258", SEP_OCT_2025) == "04595258114105"
    # first UBN digit 0 -> 1 has weight 3: sum 84 + 3 = 87 -> check (10 - 7) % 10 = 3
    assert payment_reference("14595257", SEP_OCT_2025) == "14595257114103"


def test_a_sum_ending_in_zero_gives_check_digit_zero() -> None:
    # "00000000" + "11410": only positions 8..12 count: 1x3 + 1x1 + 4x3 + 1x1 + 0x3 = 17 -> check 3;
    # "00000003" adds 3 at position 7 (weight 1): 17 + 3 = 20 -> check (10 - 0) % 10 = 0, not 10
    assert payment_reference("00000000", SEP_OCT_2025) == "00000000114103"
    assert payment_reference("00000003", SEP_OCT_2025) == "00000003114100"


ubns = st.text(alphabet="0123456789", min_size=8, max_size=8)
periods = st.builds(Period, st.integers(min_value=1, max_value=999), st.sampled_from([2, 4, 6, 8, 10, 12]))


@given(ubns, periods)
def test_payment_reference_is_ubn_period_and_one_check_digit(ubn: str, period: Period) -> None:
    reference = payment_reference(ubn, period)
    assert len(reference) == 14 and reference.isdigit()
    assert reference[:13] == ubn + period.code
    assert payment_reference(ubn, period) == reference  # deterministic


@given(ubns, st.integers(min_value=0, max_value=7), st.integers(min_value=1, max_value=9))
def test_any_single_digit_change_in_the_ubn_changes_the_check_digit(ubn: str, position: int, shift: int) -> None:
    changed = ubn[:position] + str((int(ubn[position]) + shift) % 10) + ubn[position + 1 :]
    # weights 3 and 1 are both coprime to 10, so a change of d at one position moves the sum by
    # 3d or d, never a multiple of 10
    assert payment_reference(changed, SEP_OCT_2025)[-1] != payment_reference(ubn, SEP_OCT_2025)[-1]


def test_the_period_changes_the_reference() -> None:
    # 11412 instead of 11410: position 11 (weight 1) 1 -> 1, position 12 (weight 3) 0 -> 2: sum 84 + 6 = 90 -> 0
    assert payment_reference("04595257", Period.parse("11412")) == "04595257114120"


def test_filing_statuses_move_forward_day_by_day() -> None:
    # walking from the first day to a month past the deadline, an unfiled return goes open -> ready -> overdue
    seen: list[FilingStatus] = []
    day = SEP_OCT_2025.first_day
    while day <= date(2025, 12, 15):
        status = filing_status(SEP_OCT_2025, day, filed=False)
        if not seen or seen[-1] is not status:
            seen.append(status)
        day += timedelta(days=1)
    assert seen == [FilingStatus.OPEN, FilingStatus.DRAFT_READY, FilingStatus.OVERDUE]

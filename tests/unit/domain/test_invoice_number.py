"""Invoice numbers, tracks and allocated ranges in booklets of 50 (reference §1.1, §1.3)."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.errors import Conflict, InvalidInput
from chalicelib.domain.invoice_number import (
    InvoiceNumber,
    InvoiceType,
    TrackRange,
    ensure_no_overlap,
    validate_track,
)
from chalicelib.domain.period import Period

P11412 = Period.parse("11412")


def test_number_parts_and_printed_form() -> None:
    number = InvoiceNumber.parse("AB12345678")
    assert (number.track, number.serial, number.serial_int) == ("AB", "12345678", 12345678)
    assert number.display == "AB-12345678"
    assert number.masked_display == "AB-12345***"  # donated invoices hide the last 3 digits
    assert InvoiceNumber.from_parts("AB", 45600) == InvoiceNumber("AB00045600")


@pytest.mark.parametrize(
    "value",
    ["ab12345678", "AB1234567", "AB123456789", "AB-12345678", "A112345678", "ＡＢ12345678", "AB12345678\n"],
)
def test_malformed_numbers_are_refused_with_the_callers_field(value: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        InvoiceNumber.parse(value, "items[0].original_invoice_number")
    assert caught.value.code == "INVALID_INVOICE_NUMBER"
    assert caught.value.field == "items[0].original_invoice_number"


@pytest.mark.parametrize("value", ["A", "ABC", "ab", "A1", "", None])
def test_track_is_two_uppercase_letters(value: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_track(value)
    assert caught.value.code == "INVALID_TRACK"


def test_invoice_type_codes() -> None:
    assert [member.value for member in InvoiceType] == ["07", "08"]


def make(begin: str, end: str, track: str = "AB", period: Period = P11412) -> TrackRange:
    return TrackRange.create(period, InvoiceType.GENERAL, track, begin, end)


def test_the_api_example_allocation_is_two_booklets() -> None:
    allocation = make("12345600", "12345699")  # API.md POST /v1/admin/allocations
    assert allocation.count == 100
    assert allocation.booklet_count == 2
    assert [(b.begin, b.end) for b in allocation.booklets()] == [(12345600, 12345649), (12345650, 12345699)]
    assert allocation.booklets()[1].first_number.value == "AB12345650"


@pytest.mark.parametrize(
    ("begin", "end", "booklets"),
    [("10001050", "10002099", 21), ("99980950", "99981949", 20), ("99999950", "99999999", 1)],
)
def test_observed_ranges_are_accepted(begin: str, end: str, booklets: int) -> None:
    assert make(begin, end).booklet_count == booklets


@pytest.mark.parametrize(
    ("begin", "end", "field"),
    [
        ("12345601", "12345699", "begin_no"),  # must start at ..00 or ..50
        ("12345625", "12345699", "begin_no"),
        ("12345600", "12345698", "end_no"),  # must end at ..49 or ..99
        ("12345650", "12345649", "end_no"),  # end before begin
        ("1234560", "12345699", "begin_no"),
        ("12345600", "1234569X", "end_no"),
    ],
)
def test_ranges_that_do_not_align_to_booklets_are_refused(begin: str, end: str, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        make(begin, end)
    assert caught.value.field == field


def test_contains_checks_track_and_serial() -> None:
    allocation = make("12345600", "12345699")
    assert allocation.contains(InvoiceNumber("AB12345600"))
    assert allocation.contains(InvoiceNumber("AB12345699"))
    assert not allocation.contains(InvoiceNumber("AB12345700"))
    assert not allocation.contains(InvoiceNumber("AC12345650"))


def test_overlapping_allocations_of_the_same_period_and_track_conflict() -> None:
    existing = [make("12345600", "12345699")]
    with pytest.raises(Conflict) as caught:
        ensure_no_overlap(make("12345650", "12345749"), existing)
    assert caught.value.code == "TRACK_RANGE_OVERLAP"
    # the same numbers as a special (08) allocation are still the same numbers
    special = TrackRange.create(P11412, InvoiceType.SPECIAL, "AB", "12345600", "12345649")
    with pytest.raises(Conflict):
        ensure_no_overlap(special, existing)


def test_adjacent_or_other_track_or_period_ranges_do_not_conflict() -> None:
    existing = [make("12345600", "12345699")]
    ensure_no_overlap(make("12345700", "12345799"), existing)
    ensure_no_overlap(make("12345600", "12345699", track="AC"), existing)
    ensure_no_overlap(make("12345600", "12345699", period=P11412.next()), existing)


range_starts = st.integers(0, 99_999_999 // 50).map(lambda n: n * 50)


@given(range_starts, st.integers(1, 400))
def test_booklets_partition_a_range_exactly(begin: int, booklets: int) -> None:
    end = min(begin + booklets * 50 - 1, 99_999_999)
    allocation = TrackRange(P11412, InvoiceType.GENERAL, "AB", begin, end)
    parts = allocation.booklets()
    assert parts[0].begin == begin
    assert parts[-1].end == end
    assert all(part.end - part.begin + 1 == 50 for part in parts)
    assert all(left.end + 1 == right.begin for left, right in pairwise(parts))
    assert len(parts) * 50 == allocation.count == end - begin + 1


@given(range_starts, st.integers(1, 20), range_starts, st.integers(1, 20))
def test_overlap_is_symmetric_and_matches_shared_numbers(b1: int, n1: int, b2: int, n2: int) -> None:
    first = TrackRange(P11412, InvoiceType.GENERAL, "AB", b1, min(b1 + n1 * 50 - 1, 99_999_999))
    second = TrackRange(P11412, InvoiceType.GENERAL, "AB", b2, min(b2 + n2 * 50 - 1, 99_999_999))
    shares_a_number = max(first.begin, second.begin) <= min(first.end, second.end)
    assert first.overlaps(second) == second.overlaps(first) == shares_a_number

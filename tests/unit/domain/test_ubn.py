"""UBN (統一編號) check digits: reference §4 vectors and hand-computed counter-examples."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.ubn import CONSUMER_BUYER_ID, is_valid_ubn, validate_ubn

WEIGHTS = (1, 2, 1, 2, 1, 2, 4, 1)


@pytest.mark.parametrize(
    "ubn",
    [
        "04595257",  # valid under the old and the new rule (reference §4)
        "10458575",
        "12458576",  # valid only since the 2023 rule (sum 35)
        "04595252",  # valid only since the 2023 rule (sum 35)
        "24634102",
        "42523557",
        "22099131",  # the B2B buyer in API.md; sum 30 by hand
        "10458574",  # 7th digit 7: sum 29 with "10" for that digit, 29 + 1 = 30 passes
    ],
)
def test_reference_and_hand_checked_ubns_are_valid(ubn: str) -> None:
    assert is_valid_ubn(ubn)
    assert validate_ubn(ubn, "buyer.ubn") == ubn


@pytest.mark.parametrize(
    "ubn",
    [
        "04595258",  # sum 41
        "04595253",  # sum 36
        "24634103",  # sum 31
        "10458573",  # 7th digit 7: sum 28, 29 -> neither divisible by 5
        "12345678",  # 7th digit 7: sum 42, 43
        "00000000",  # the QR code's consumer marker, never a business
    ],
)
def test_hand_computed_wrong_check_digits_are_refused(ubn: str) -> None:
    assert not is_valid_ubn(ubn)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "0459525",
        "045952570",
        "0459525a",
        "０４５９５２５７",
        "04595257\n",
        " 04595257",
        CONSUMER_BUYER_ID,
    ],
)
def test_malformed_ubns_are_refused(value: str) -> None:
    assert not is_valid_ubn(value)


@pytest.mark.parametrize("value", [None, 4595257, 24634102, b"24634102"])
def test_validate_ubn_reports_code_and_field_for_non_text(value: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate_ubn(value, "buyer.ubn")
    assert caught.value.code == "INVALID_UBN"
    assert caught.value.field == "buyer.ubn"
    assert caught.value.message_zh


def _contribution(digit: int, weight: int) -> int:
    product = digit * weight
    return product // 10 + product % 10


def _build(first_seven: list[int], modulus: int, pick_upper: bool) -> str:
    partial = sum(_contribution(d, w) for d, w in zip(first_seven, WEIGHTS, strict=False))
    last = (-partial) % modulus
    if modulus == 5 and pick_upper:
        last += 5
    return "".join(map(str, [*first_seven, last]))


digits7 = st.lists(st.integers(0, 9), min_size=7, max_size=7)


@given(digits7, st.booleans())
def test_every_number_built_to_the_2023_rule_is_accepted(first_seven: list[int], pick_upper: bool) -> None:
    ubn = _build(first_seven, 5, pick_upper)
    assume(ubn != "00000000")
    assert is_valid_ubn(ubn)


@given(digits7)
def test_numbers_valid_under_the_old_rule_stay_valid(first_seven: list[int]) -> None:
    ubn = _build(first_seven, 10, False)
    assume(ubn != "00000000")
    assert is_valid_ubn(ubn)


@given(digits7.filter(lambda ds: ds[6] != 7))
def test_a_single_mistyped_digit_is_caught_eight_times_out_of_nine(first_seven: list[int]) -> None:
    """For weight-1 and weight-2 positions each digit has exactly one "partner" with the same
    contribution mod 5 (weight 1: d +/- 5; weight 2: 0/7, 1/8, 2/9, 3/5, 4/6), so at most one of the
    nine wrong digits slips through at each position other than the 7th (weight 4, not claimed)."""
    ubn = _build(first_seven, 10, False)
    assume(ubn != "00000000")
    for position in (0, 1, 2, 3, 4, 5, 7):
        slipped = [
            digit
            for digit in "0123456789"
            if digit != ubn[position] and is_valid_ubn(ubn[:position] + digit + ubn[position + 1 :])
        ]
        assert len(slipped) <= 1, (ubn, position, slipped)

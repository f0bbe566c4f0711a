"""The lottery's rules (domain/lottery.py): the prize table of 統一發票給獎辦法 worked out by hand,
the highest-prize rule and the candidate serials checked against a brute-force reading (hypothesis),
and who takes part and what the seller does."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.lottery import (
    Duty,
    Prize,
    Refusal,
    WinningNumbers,
    buyer_email,
    candidates,
    duty,
    prize_for_amount,
    prize_mark,
    prize_of,
    refusal,
)
from tests.fakes.records import b2b_invoice

NUMBERS = WinningNumbers.parse("12345678", "87654321", ["11112222", "33334444", "55556666"], ["777"])


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        ("12345678", Prize.SPECIAL),  # all 8 of the special number
        ("87654321", Prize.GRAND),  # all 8 of the grand number
        ("33334444", Prize.FIRST),  # all 8 of a first-prize number
        ("03334444", Prize.SECOND),  # last 7: 3334444
        ("00334444", Prize.THIRD),  # last 6: 334444 (7th from the end differs)
        ("00034444", Prize.FOURTH),  # last 5: 34444
        ("00004444", Prize.FIFTH),  # last 4: 4444
        ("00000444", Prize.SIXTH),  # last 3: 444
        ("99999777", Prize.EXTRA_SIXTH),  # last 3 of the extra sixth-prize number
        ("00000000", None),
        ("12345677", None),  # one digit off the special number, and no prize ending
        ("87654320", None),
        ("11114444", Prize.FIFTH),  # fifth of 33334444 beats sixth: only the highest prize
        ("55556666", Prize.FIRST),
        ("45556666", Prize.SECOND),
        ("10000222", Prize.SIXTH),
    ],
)
def test_the_prize_table_by_hand(serial: str, expected: Prize | None) -> None:
    assert prize_of(serial, NUMBERS) is expected


def test_amounts_of_the_prize_table() -> None:
    table = {
        Prize.SPECIAL: 10_000_000,
        Prize.GRAND: 2_000_000,
        Prize.FIRST: 200_000,
        Prize.SECOND: 40_000,
        Prize.THIRD: 10_000,
        Prize.FOURTH: 4_000,
        Prize.FIFTH: 1_000,
        Prize.SIXTH: 200,
    }
    for prize, amount in table.items():
        assert prize_for_amount(Decimal(amount)) is prize
    assert prize_for_amount(Decimal(2000)) is Prize.OTHER  # a cloud-invoice prize: not in the table
    assert prize_mark(Prize.FIRST, Decimal(200_000)) == "頭獎 NT$200,000"
    assert prize_mark(Prize.EXTRA_SIXTH, Decimal(200)) == "增開六獎 NT$200"


def test_a_sixth_prize_ending_also_drawn_as_an_extra_sixth_wins_once() -> None:
    numbers = WinningNumbers.parse("12345678", "87654321", ["11112222"], ["222"])
    assert prize_of("00000222", numbers) is Prize.SIXTH


# --- the same rules read naively, for hypothesis ---------------------------------------------------

AMOUNT = {
    "special": 10_000_000,
    "grand": 2_000_000,
    "first": 200_000,
    "second": 40_000,
    "third": 10_000,
    "fourth": 4_000,
    "fifth": 1_000,
    "sixth": 200,
    "extra_sixth": 200,
}


def _every_prize(serial: str, special: str, grand: str, first: list[str], extra: list[str]) -> list[str]:
    """Every prize whose rule the serial meets, straight from the rules' words."""
    won = []
    if serial == special:
        won.append("special")
    if serial == grand:
        won.append("grand")
    for number in first:
        for name, digits in (("first", 8), ("second", 7), ("third", 6), ("fourth", 5), ("fifth", 4), ("sixth", 3)):
            if serial[8 - digits :] == number[8 - digits :]:
                won.append(name)
    if serial[5:] in extra:
        won.append("extra_sixth")
    return won


eight = st.from_regex(r"\A[0-9]{8}\Z")
# Few distinct endings, so that matches are common enough to be exercised.
near = st.builds(lambda head, tail: head + tail, st.from_regex(r"\A[0-9]{4}\Z"), st.sampled_from(["1234", "5678"]))
serials = eight | near
numbers_strategy = st.builds(
    lambda special, grand, first, extra: (special, grand, first, extra),
    serials,
    serials,
    st.lists(serials, min_size=1, max_size=3),
    st.lists(st.sampled_from(["234", "678", "000", "999"]), max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(numbers_strategy, serials)
def test_an_invoice_wins_exactly_its_highest_prize(drawn, serial) -> None:
    special, grand, first, extra = drawn
    numbers = WinningNumbers.parse(special, grand, first, extra)
    won = _every_prize(serial, special, grand, first, extra)
    prize = prize_of(serial, numbers)
    if not won:
        assert prize is None
    else:
        assert prize is not None
        assert prize.value in won
        assert AMOUNT[prize.value] == max(AMOUNT[name] for name in won)


@settings(max_examples=200, deadline=None)
@given(numbers_strategy, st.integers(0, 10**8 - 3001), st.integers(0, 3000))
def test_candidates_are_exactly_the_serials_that_can_win(drawn, begin, size) -> None:
    special, grand, first, extra = drawn
    numbers = WinningNumbers.parse(special, grand, first, extra)
    end = begin + size
    expected = [n for n in range(begin, end + 1) if prize_of(f"{n:08d}", numbers) is not None]
    assert candidates(begin, end, numbers) == expected


def test_candidates_of_a_booklet_range_are_few() -> None:
    # 1,000 numbers, three first prizes and one extra: 4 endings, each once per thousand.
    assert candidates(10_000, 10_999, NUMBERS) == [10_222, 10_444, 10_666, 10_777]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("1234567", "87654321", ["11112222"], []), "special"),
        (("12345678", "８７６５４３２１", ["11112222"], []), "grand"),  # full-width digits are not digits here
        (("12345678", "87654321", [], []), "first"),
        (("12345678", "87654321", ["1", "2", "3", "4"], []), "first"),
        (("12345678", "87654321", ["11112222", "x"], []), "first[1]"),
        (("12345678", "87654321", ["11112222"], ["77"]), "extra_sixth[0]"),
        (("12345678", "87654321", "11112222", []), "first"),
    ],
)
def test_wrong_winning_numbers_name_the_field(args, field) -> None:
    with pytest.raises(InvalidInput) as caught:
        WinningNumbers.parse(*args)
    assert caught.value.field == field
    assert caught.value.message and caught.value.message_zh


# --- who takes part, what the seller does -----------------------------------------------------------


def _b2c(**changes):
    record = b2b_invoice("24634102", "00000000")
    return record.model_copy(update={"buyer": {"name": "消費者", "email": "winner@example.com"}, **changes})


def test_who_takes_part() -> None:
    consumer = _b2c()
    period = consumer.period
    assert refusal(consumer, period) is None
    assert refusal(None, period) is Refusal.NOT_FOUND
    assert refusal(_b2c(status="cancelled"), period) is Refusal.CANCELLED
    assert refusal(b2b_invoice("24634102", "22099131"), period) is Refusal.B2B
    assert refusal(consumer, "10002") is Refusal.OTHER_PERIOD


def test_what_the_seller_does() -> None:
    member = _b2c(carrier={"type": "EJ0113", "id": "member@example.com"})
    assert duty(member) is Duty.DELIVER_PROOF
    assert duty(_b2c(carrier={"type": "3J0002", "id": "/ABC+123"})) is Duty.PUBLIC_CARRIER
    assert duty(_b2c(carrier={"type": "CQ0001", "id": "AB12345678901234"})) is Duty.PUBLIC_CARRIER
    assert duty(_b2c(print_mark=True)) is Duty.BUYER_HOLDS_PROOF
    donated = _b2c(donation_code="25885")
    assert duty(donated) is Duty.DONATED
    assert buyer_email(member) == "winner@example.com"
    assert buyer_email(donated) is None  # a donated invoice's buyer is never told
    assert buyer_email(_b2c(buyer={"name": "消費者"})) is None

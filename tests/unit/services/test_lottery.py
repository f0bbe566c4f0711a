"""The lottery's use cases (services/lottery.py) on the in-memory books (tests/fakes/books.py, held
to DynamoDB by tests/integration/test_books_contract.py): loading a period's numbers, correcting a
wrong load by replacing them, the E0504's PrizeType codes, and what a merchant may do with a winner.

Prizes are worked out by hand from the prize table of 統一發票給獎辦法: 8 digits of the special, grand
or a first-prize number; the last 7…3 digits of a first-prize number for the second…sixth prize."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.documents.mig import Award, build_xml
from chalicelib.domain.errors import Conflict, NotFound, RuleViolation
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.domain.lottery import DELIVERED, TO_DELIVER, WITHDRAWN, Prize, WinningNumbers
from chalicelib.domain.period import Period
from chalicelib.domain.writes import Intent, PutWinningNumbers, WithdrawWinner
from chalicelib.services.lottery import LotteryService
from tests.fakes.books import MemoryBooks, MemoryRanges, WinnerView
from tests.fakes.records import b2b_invoice

SELLER, OTHER_SELLER, BUYER = "12345675", "04595257", "22099131"
PERIOD = Period.parse("11512")
DAY = dt.date(2026, 11, 20)
MEMBER = {"type": "EJ0113", "id": "member@example.com"}
MOBILE = {"type": "3J0002", "id": "/ABC+123"}


@dataclass
class Clock:
    at: dt.datetime = dt.datetime(2027, 1, 25, 6, 0, tzinfo=dt.UTC)

    def now(self) -> dt.datetime:
        return self.at


class World:
    """Two merchants' invoices of period 11512 in track ZZ, and the lottery service over them."""

    def __init__(self) -> None:
        self.books = MemoryBooks()
        self.ranges = MemoryRanges()
        self.ranges.add(SELLER, PERIOD.code, "ZZ", 10_000_000, 10_009_999)
        self.ranges.add(OTHER_SELLER, PERIOD.code, "ZZ", 20_000_000, 20_009_999)
        self.service = LotteryService(
            store=WinnerView(self.books),
            ranges=self.ranges,
            ledger=self.books,
            clock=Clock(),
        )

    def invoice(
        self, serial: int, *, seller: str = SELLER, carrier: dict[str, str] | None = MEMBER, **extra: Any
    ) -> str:
        record = b2b_invoice(seller, BUYER, day=DAY, number=f"ZZ{serial:08d}")
        consumer: dict[str, Any] = {"ubn": None, "name": "消費者", "email": "buyer@example.com"}
        record = record.model_copy(update={"buyer": consumer, "carrier": carrier, **extra})
        self.books.invoices[(seller, record.invoice_number)] = record.model_dump(mode="json")
        return record.invoice_number

    def stored(self, number: str, seller: str = SELLER) -> Any:
        return self.service.winner(seller, PERIOD, number)

    def history(self, number: str, seller: str = SELLER) -> list[str]:
        record = self.books.get(seller, number)
        assert isinstance(record, InvoiceRecord)
        return [entry.event for entry in record.history]

    def outbox_events(self, number: str, seller: str = SELLER) -> list[str]:
        return sorted(event for (ubn, subject, event) in self.books.outbox if (ubn, subject) == (seller, number))


def numbers(special: str = "99999999", grand: str = "88888888", first: tuple[str, ...] = ("77777777",), extra=()):
    return WinningNumbers.parse(special, grand, list(first), list(extra))


def prizes(report) -> dict[str, Prize]:
    return {found.invoice_number: found.prize for found in report.found}


# --- a first load, and loading again ---------------------------------------------------------------------


def test_a_load_finds_every_merchants_winners_and_a_cancelled_or_b2b_invoice_never_wins():
    world = World()
    special = world.invoice(10_000_123)
    first = world.invoice(20_000_456, seller=OTHER_SELLER, carrier=MOBILE)
    sixth = world.invoice(10_003_456, carrier=None)
    cancelled = world.invoice(10_000_789, status="cancelled")
    b2b = world.invoice(10_000_321)
    world.books.invoices[(SELLER, b2b)]["buyer"] = {"ubn": BUYER, "name": "買方股份有限公司"}
    drawn = numbers(special="10000123", first=("20000456",), extra=("789", "321"))

    report = world.service.load_numbers(PERIOD, drawn, actor="staff:a")

    # 10000123 is the special number; 20000456 a first prize; 10003456 shares its last 3 digits (六獎);
    # the cancelled and the B2B invoice end in the extra sixth-prize endings and would win 增開六獎.
    assert prizes(report) == {special: Prize.SPECIAL, first: Prize.FIRST, sixth: Prize.SIXTH}
    assert {(r.invoice_number, r.reason.value) for r in report.refused} == {(cancelled, "cancelled"), (b2b, "b2b")}
    assert [(p, a, n) for p, a, n in report.by_prize()] == [
        (Prize.SPECIAL, Decimal(10_000_000), 1),
        (Prize.FIRST, Decimal(200_000), 1),
        (Prize.SIXTH, Decimal(200), 1),
    ]
    assert world.service.winners(SELLER, PERIOD)[0].status == TO_DELIVER  # the special: a member carrier
    assert world.stored(first, OTHER_SELLER).status == "nothing_to_deliver"  # a public carrier: the MOF pays
    with pytest.raises(NotFound):
        world.stored(cancelled)
    assert world.history(cancelled) == []
    # Each winner's work (its mail, its events) is an outbox item committed with it.
    assert sorted(key for key in world.books.outbox if key[2] == "lottery_won") == sorted(
        [(SELLER, special, "lottery_won"), (OTHER_SELLER, first, "lottery_won"), (SELLER, sixth, "lottery_won")]
    )
    assert world.service.numbers(PERIOD).version == 1


def test_the_same_numbers_again_tell_nobody_twice_and_other_numbers_are_refused():
    world = World()
    won = world.invoice(10_000_123)
    drawn = numbers(special="10000123")
    world.service.load_numbers(PERIOD, drawn, actor="staff:a")
    commits = world.books.commits

    # The first prizes in another order are the same draw.
    again = world.service.load_numbers(PERIOD, numbers(special="10000123"), actor="staff:b")
    assert (again.recorded, again.already_recorded) == ([], 1)
    assert prizes(again) == {won: Prize.SPECIAL}  # found, and counted, though not told again

    with pytest.raises(Conflict) as refused:
        world.service.load_numbers(PERIOD, numbers(special="10000124"), actor="staff:b")
    assert refused.value.code == "WINNING_NUMBERS_DIFFER"
    assert "PUT" in refused.value.message and refused.value.message_zh
    assert world.books.commits == commits  # nothing was written
    assert world.service.numbers(PERIOD).special == "10000123"


def test_the_first_prizes_order_does_not_make_another_draw():
    world = World()
    world.service.load_numbers(PERIOD, numbers(first=("11111111", "22222222")), actor="staff:a")
    report = world.service.load_numbers(PERIOD, numbers(first=("22222222", "11111111")), actor="staff:a")
    assert report.numbers_version == 1


# --- correcting a wrong load -----------------------------------------------------------------------------


def test_replacing_withdraws_what_no_longer_wins_revises_what_wins_otherwise_and_keeps_the_rest():
    world = World()
    stays = world.invoice(10_000_123)  # special before and after
    gone = world.invoice(10_000_456)  # second before (the last 7 of 20000456), nothing after
    moves = world.invoice(10_007_777)  # fifth before (the last 4 of 99997777), third after (the last 6 of 98007777)
    new = world.invoice(20_000_999, seller=OTHER_SELLER)  # nothing before, first prize after
    wrong = numbers(special="10000123", first=("20000456", "99997777"))
    world.service.load_numbers(PERIOD, wrong, actor="staff:a")
    assert world.stored(moves).prize is Prize.FIFTH  # 7777: the last 4 of 99997777
    world.service.mark_delivered(SELLER, PERIOD, stays, actor="merchant")

    right = numbers(special="10000123", first=("20000999", "98007777"))
    report = world.service.replace_numbers(PERIOD, right, actor="staff:b")

    assert (report.replaced, report.numbers_version, report.kept) == (True, 2, 1)
    assert [w.invoice_number for w in report.withdrawn] == [gone]
    assert [(b.prize, a.prize) for b, a in report.revised] == [(Prize.FIFTH, Prize.THIRD)]
    assert [w.invoice_number for w in report.recorded] == [new]
    # The delivered special prize keeps its delivered state and time; nothing is told about it again.
    kept = world.stored(stays)
    assert (kept.status, kept.delivered_at) == (DELIVERED, Clock().at.isoformat())
    assert world.outbox_events(stays) == ["lottery_won"]
    # The withdrawn winner: its state, its history and the invoice's, and a notice of its own.
    withdrawn = world.stored(gone)
    assert (withdrawn.status, withdrawn.withdrawn_by) == (WITHDRAWN, "staff:b")
    assert [h.event for h in withdrawn.history] == ["won", "prize_withdrawn"]
    assert world.history(gone) == ["won", "prize_withdrawn"]
    assert world.outbox_events(gone) == ["lottery_withdrawn#2", "lottery_won"]
    assert world.books.outbox[(SELLER, gone, "lottery_withdrawn#2")]["buyer_mailed"] is True
    revised = world.stored(moves)
    assert (revised.prize, revised.prize_amount, revised.status) == (Prize.THIRD, Decimal(10_000), TO_DELIVER)
    assert world.outbox_events(moves) == ["lottery_revised#2", "lottery_won"]
    assert world.service.numbers(PERIOD).first == ["20000999", "98007777"]

    # A withdrawn winner has nothing to deliver any more.
    for act in (world.service.mark_delivered, lambda *a, **k: world.service.proof_of(*a[:3])):
        with pytest.raises(RuleViolation) as refused:
            act(SELLER, PERIOD, gone, actor="merchant")
        assert refused.value.code == "PRIZE_WITHDRAWN"


def test_a_replacement_that_would_withdraw_a_delivered_prize_is_refused_and_writes_nothing():
    world = World()
    delivered = world.invoice(10_000_456)
    other = world.invoice(10_000_123)
    world.service.load_numbers(PERIOD, numbers(special="10000123", first=("20000456",)), actor="staff:a")
    world.service.mark_delivered(SELLER, PERIOD, delivered, actor="merchant")
    before = (world.books.commits, dict(world.books.outbox), world.service.numbers(PERIOD))

    with pytest.raises(Conflict) as refused:
        world.service.replace_numbers(PERIOD, numbers(special="55555555"), actor="staff:b")

    assert refused.value.code == "PRIZE_DELIVERED"
    assert delivered in refused.value.message and delivered in refused.value.message_zh
    assert other not in refused.value.message  # only the delivered ones are the reason
    assert (world.books.commits, dict(world.books.outbox), world.service.numbers(PERIOD)) == before
    assert world.stored(other).status == TO_DELIVER


def test_a_replacement_that_would_change_a_delivered_prize_is_refused_too():
    world = World()
    delivered = world.invoice(10_000_456)
    world.service.load_numbers(PERIOD, numbers(first=("20001456",)), actor="staff:a")  # 六獎: the last 3 only
    world.service.mark_delivered(SELLER, PERIOD, delivered, actor="merchant")
    # 10000456 would win 頭獎 now: the delivered proof says 六獎 NT$200.
    with pytest.raises(Conflict) as refused:
        world.service.replace_numbers(PERIOD, numbers(first=("10000456",)), actor="staff:b")
    assert refused.value.code == "PRIZE_DELIVERED"
    assert world.stored(delivered).prize is Prize.SIXTH
    # Numbers that keep its prize (the same ending in another first-prize number) may replace them.
    report = world.service.replace_numbers(PERIOD, numbers(first=("30001456",)), actor="staff:b")
    assert report.kept == 1 and world.stored(delivered).status == DELIVERED


def test_a_withdrawn_winner_wins_again_when_the_numbers_are_corrected_back():
    world = World()
    number = world.invoice(10_000_456)
    world.service.load_numbers(PERIOD, numbers(first=("20001456",)), actor="staff:a")
    world.service.replace_numbers(PERIOD, numbers(first=("20000111",)), actor="staff:b")
    assert world.stored(number).status == WITHDRAWN

    report = world.service.replace_numbers(PERIOD, numbers(first=("20001456",)), actor="staff:c")

    assert [(b.status, a.prize) for b, a in report.revised] == [(WITHDRAWN, Prize.SIXTH)]
    again = world.stored(number)
    assert (again.status, again.withdrawn_at) == (TO_DELIVER, None)
    assert world.outbox_events(number) == ["lottery_revised#3", "lottery_withdrawn#2", "lottery_won"]
    world.service.mark_delivered(SELLER, PERIOD, number, actor="merchant")
    assert world.stored(number).status == DELIVERED


def test_replacing_with_the_stored_numbers_finishes_an_interrupted_replacement():
    world = World()
    gone = world.invoice(10_000_456)
    world.service.load_numbers(PERIOD, numbers(first=("20000456",)), actor="staff:a")
    # A replacement stored its numbers, then stopped before withdrawing anyone.
    right = numbers(first=("20000111",))
    first_load = world.service.numbers(PERIOD)
    assert first_load is not None
    world.books.commit([PutWinningNumbers(first_load.replaced_by(right, at="t", actor="staff:b"))])

    report = world.service.replace_numbers(PERIOD, right, actor="staff:b")

    assert [w.invoice_number for w in report.withdrawn] == [gone]
    assert report.numbers_version == 2  # no new version: the numbers were already these
    again = world.service.replace_numbers(PERIOD, right, actor="staff:b")
    assert (again.withdrawn, again.revised, again.recorded) == ([], [], [])


def test_a_prize_delivered_while_the_replacement_runs_is_left_as_it_is():
    world = World()
    number = world.invoice(10_000_456)
    world.service.load_numbers(PERIOD, numbers(first=("20000456",)), actor="staff:a")
    books = world.books
    plain = books.commit

    def deliver_first(intents: list[Intent]) -> None:
        if any(isinstance(intent, WithdrawWinner) for intent in intents):
            books.commit = plain  # type: ignore[method-assign]
            world.service.mark_delivered(SELLER, PERIOD, number, actor="merchant")
        plain(intents)

    books.commit = deliver_first  # type: ignore[method-assign]
    report = world.service.replace_numbers(PERIOD, numbers(first=("20000111",)), actor="staff:b")

    assert (report.withdrawn, report.changed_meanwhile) == ([], [number])
    assert world.stored(number).status == DELIVERED
    assert world.outbox_events(number) == ["lottery_won"]


def test_a_replacement_leaves_the_winners_of_the_mofs_e0504_list_alone():
    world = World()
    listed = world.invoice(10_000_456)
    report = world.service.load_e0504(PERIOD, _e0504([(listed, "6", 200)]), actor="staff:a")
    assert [w.invoice_number for w in report.recorded] == [listed]
    world.service.load_numbers(PERIOD, numbers(first=("20000456",)), actor="staff:a")

    replaced = world.service.replace_numbers(PERIOD, numbers(first=("20000111",)), actor="staff:b")

    assert replaced.withdrawn == [] and world.stored(listed).status == TO_DELIVER
    assert world.stored(listed).source == "e0504"


def test_with_no_numbers_stored_a_replacement_is_a_first_load():
    world = World()
    number = world.invoice(10_000_456)
    report = world.service.replace_numbers(PERIOD, numbers(first=("20001456",)), actor="staff:a")
    assert (report.replaced, report.numbers_version, prizes(report)) == (False, 1, {number: Prize.SIXTH})


# --- the E0504's PrizeType codes -------------------------------------------------------------------------


def _e0504(rows: list[tuple[str, str, int]], seller: str = SELLER) -> bytes:
    details = [
        {
            "inv_track": number[:2],
            "invoice_number": number,
            "invoice_date": DAY,
            "seller": {"identifier": seller, "name": "賣方"},
            "buyer_id": "0000000000",
            "total_amount": Decimal(1050),
            "carrier_type": MEMBER["type"],
            "carrier_id1": MEMBER["id"],
            "random_number": "1234",
            "prize_type": code,
            "prize_amount": Decimal(amount),
            "deposit_mark": "N",
            "redeem_data_type": "1",
            "prize_data_source": "1",
            "print_type": "1",
        }
        for number, code, amount in rows
    ]
    award = Award.from_data(
        {
            "main": {
                "head_ban": seller,
                "year_month": PERIOD.code,
                "award_list_type": "1",
                "total_record_cnt": Decimal(len(rows)),
                "total_prize_amount": Decimal(sum(amount for _, _, amount in rows)),
                "rec_award_begin": "1160206",
                "rec_award_end": "1160506",
            },
            "details": details,
        }
    )
    return build_xml(award)


def test_each_prize_type_code_is_read_from_its_amount():
    world = World()
    a, b, c = world.invoice(10_000_001), world.invoice(10_000_002), world.invoice(10_000_003)
    report = world.service.load_e0504(PERIOD, _e0504([(a, "6", 200), (b, "3", 10_000), (c, "6", 200)]), actor="s")
    assert report.prize_types == {"6": Prize.SIXTH, "3": Prize.THIRD}
    assert prizes(report) == {a: Prize.SIXTH, b: Prize.THIRD, c: Prize.SIXTH}
    assert world.stored(b).prize_amount == Decimal(10_000)


def test_one_prize_type_code_with_two_amounts_is_refused_naming_the_row_and_nothing_is_recorded():
    world = World()
    a, b, c = world.invoice(10_000_001), world.invoice(10_000_002), world.invoice(10_000_003)
    with pytest.raises(RuleViolation) as refused:
        world.service.load_e0504(PERIOD, _e0504([(a, "6", 200), (b, "3", 10_000), (c, "6", 1000)]), actor="s")
    error = refused.value
    assert (error.code, error.field) == ("PRIZE_TYPE_MISMATCH", "Details.PrizeInvoice[2].PrizeType")
    assert c in error.message and a in error.message and "NT$1,000" in error.message
    assert c in error.message_zh and "中獎獎別" in error.message_zh
    assert world.books.commits == 0
    assert world.service.winners(SELLER, PERIOD) == []


def test_an_amount_outside_the_prize_table_is_another_prize():
    world = World()
    number = world.invoice(10_000_001)
    report = world.service.load_e0504(PERIOD, _e0504([(number, "A", 2000)]), actor="s")  # e.g. a cloud-invoice prize
    assert report.prize_types == {"A": Prize.OTHER}
    assert world.stored(number).prize_amount == Decimal(2000)

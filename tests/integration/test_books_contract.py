"""The write seam's contract for allowances and invoice changes, run against the in-memory books
(tests/fakes/books.py) and against DynamoDB Local through the real ledger and reads, as the
Chalice workshop runs one storage test class against both stores. What the service tests on the
fake rely on is proved here to be what DynamoDB does."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.adapters.dynamo_allowances import DynamoAllowances
from chalicelib.adapters.dynamo_exchange import DynamoExchangeTasks
from chalicelib.adapters.dynamo_filings import DynamoFilings
from chalicelib.adapters.dynamo_idempotency import DynamoIdempotency
from chalicelib.adapters.dynamo_invoices import DynamoInvoices
from chalicelib.adapters.dynamo_ledger import DynamoLedger
from chalicelib.adapters.dynamo_lottery import DynamoWinners
from chalicelib.domain.allowance_record import AllowanceRecord
from chalicelib.domain.exchange import ExchangeRecord, ExchangeState, Party
from chalicelib.domain.invoice_record import HistoryEntry, InvoiceRecord
from chalicelib.domain.lottery import (
    DELIVERED,
    NOTHING_TO_DELIVER,
    TO_DELIVER,
    WITHDRAWN,
    PeriodNumbers,
    Prize,
    WinnerRecord,
    WinningNumbers,
    revised,
    winner,
)
from chalicelib.domain.writes import (
    AddToTotals,
    AdjustAllowable,
    AlreadyRecorded,
    AppendHistory,
    CancelAllowance,
    CancelInvoice,
    ChangeExchange,
    ChangeExchangeAllowance,
    DropExchangeTask,
    MarkPrizeDelivered,
    PutAllowance,
    PutExchangeTask,
    PutInvoice,
    PutOutboxItem,
    PutWinner,
    PutWinningNumbers,
    RecordIdempotencyKey,
    ReduceAllowable,
    ReplaceAllowance,
    ReplaceInvoice,
    RequireUnfiled,
    ReserveAllowable,
    RestoreAllowable,
    ReviseWinner,
    StateChanged,
    WithdrawWinner,
)
from tests.api.conftest import random_ubn
from tests.fakes.books import IdempotencyView, MemoryBooks, WinnerView
from tests.fakes.records import b2b_invoice

NOW = datetime.now(UTC)
ENTRY = HistoryEntry(at=NOW.isoformat(), event="test", actor="contract")


@dataclass
class Books:
    """One face over either store: commit, and read back what a service reads."""

    ledger: Any
    invoices: Any
    allowances: Any
    idempotency: Any
    file_period: Any
    totals: Any
    tasks: Any
    winners: Any

    def commit(self, intents: list[Any]) -> None:
        self.ledger.commit(intents)


def _memory() -> Books:
    books = MemoryBooks()
    return Books(
        ledger=books,
        invoices=books,
        allowances=books,
        idempotency=IdempotencyView(books),
        file_period=lambda ubn, period: books.filed.add((ubn, period)),
        totals=books.group,
        tasks=books,
        winners=WinnerView(books),
    )


def _dynamodb() -> Books:
    return Books(
        ledger=DynamoLedger(),
        invoices=DynamoInvoices(),
        allowances=DynamoAllowances(),
        idempotency=DynamoIdempotency(),
        file_period=lambda ubn, period: DynamoFilings().mark(ubn, period, {"current_version": 1}),
        totals=lambda ubn, period, group: DynamoInvoices().totals(ubn, period, group) or {},
        tasks=DynamoExchangeTasks(),
        winners=DynamoWinners(),
    )


@pytest.fixture(params=["memory", "dynamodb"])
def books(request: pytest.FixtureRequest) -> Books:
    if request.param == "dynamodb":
        request.getfixturevalue("local_aws")
        return _dynamodb()
    return _memory()


def _issued(books: Books, **kwargs: Any) -> tuple[str, InvoiceRecord]:
    seller = random_ubn()
    record = b2b_invoice(seller, random_ubn(), **kwargs)
    books.commit([PutInvoice(seller, record)])
    return seller, record


def _allowance(seller: str, invoice: InvoiceRecord, number: str, amount: int) -> AllowanceRecord:
    return AllowanceRecord(
        allowance_number=number,
        allowance_date=invoice.invoice_date,
        period=invoice.period,
        invoice_type="07",
        issued_at=NOW,
        seller=invoice.seller,
        buyer=invoice.buyer,
        items=[],
        tax_amount=0,
        total_amount=amount,
        originals=[{"invoice_number": invoice.invoice_number, "invoice_date": invoice.invoice_date, "amount": amount}],
        prices_include_tax=False,
    )


def test_a_reduction_takes_from_what_remains_and_is_refused_beyond_it(books):
    seller, invoice = _issued(books, sales=1000, tax=50)
    books.commit([ReduceAllowable(seller, invoice.invoice_number, 700, 1050, ENTRY)])
    with pytest.raises(StateChanged):
        books.commit([ReduceAllowable(seller, invoice.invoice_number, 351, 1050, ENTRY)])
    stored = books.invoices.get(seller, invoice.invoice_number)
    assert (stored.allowance_remaining, stored.allowance_count) == (350, 1)
    books.commit([ReduceAllowable(seller, invoice.invoice_number, 350, 1050, ENTRY)])
    assert books.invoices.get(seller, invoice.invoice_number).allowance_remaining == 0


def test_a_refused_intent_leaves_every_other_intent_of_the_commit_unwritten(books):
    seller, invoice = _issued(books)
    first = _allowance(seller, invoice, "ALC1", 100)
    books.commit([PutAllowance(seller, first)])
    with pytest.raises(AlreadyRecorded) as refused:
        books.commit(
            [
                ReduceAllowable(seller, invoice.invoice_number, 100, 1050, ENTRY),
                AddToTotals(seller, invoice.period, "07", {"allowance_count": 1}),
                PutAllowance(seller, _allowance(seller, invoice, "ALC1", 200)),
            ]
        )
    assert isinstance(refused.value.intent, PutAllowance)
    stored = books.invoices.get(seller, invoice.invoice_number)
    assert (stored.allowance_remaining, stored.allowance_count) == (None, 0)
    assert books.totals(seller, invoice.period, "07").get("allowance_count", 0) == 0
    assert books.allowances.record(seller, "ALC1").total_amount == 100


def test_a_restore_needs_a_reduction_and_gives_back_exactly_it(books):
    seller, invoice = _issued(books)
    with pytest.raises(StateChanged):
        books.commit([RestoreAllowable(seller, invoice.invoice_number, 100, ENTRY)])
    books.commit([ReduceAllowable(seller, invoice.invoice_number, 300, 1050, ENTRY)])
    books.commit([RestoreAllowable(seller, invoice.invoice_number, 300, ENTRY)])
    stored = books.invoices.get(seller, invoice.invoice_number)
    assert (stored.allowance_remaining, stored.allowance_count) == (1050, 0)


def test_an_allowance_is_cancelled_once(books):
    seller, invoice = _issued(books)
    books.commit([PutAllowance(seller, _allowance(seller, invoice, "ALC2", 100))])
    fields = {"cancelled_at": NOW.isoformat(), "cancel_reason": "退貨取消"}
    books.commit([CancelAllowance(seller, "ALC2", fields, ENTRY)])
    with pytest.raises(StateChanged):
        books.commit([CancelAllowance(seller, "ALC2", fields, ENTRY)])
    stored = books.allowances.record(seller, "ALC2")
    assert (stored.status, stored.cancel_reason) == ("cancelled", "退貨取消")


def test_an_idempotency_key_is_refused_while_live_and_replaced_once_expired(books):
    key = f"{random_ubn()}#allowance#k1"
    now = int(NOW.timestamp())
    books.commit([RecordIdempotencyKey(key, "ALC3", "hash-1", now + 60, now, kind="allowance")])
    with pytest.raises(AlreadyRecorded) as refused:
        books.commit([RecordIdempotencyKey(key, "ALC4", "hash-2", now + 60, now, kind="allowance")])
    assert refused.value.stored is not None
    assert refused.value.stored["allowance_number"] == "ALC3"
    later = now + 120
    books.commit([RecordIdempotencyKey(key, "ALC5", "hash-3", later + 60, later, kind="allowance")])
    assert books.idempotency.get(key)["allowance_number"] == "ALC5"


def test_a_refused_idempotency_key_is_the_refusal_reported(books):
    seller, invoice = _issued(books)
    books.commit([PutAllowance(seller, _allowance(seller, invoice, "ALC6", 100))])
    key, now = f"{seller}#allowance#same", int(NOW.timestamp())
    books.commit([RecordIdempotencyKey(key, "ALC6", "h", now + 60, now, kind="allowance")])
    with pytest.raises(AlreadyRecorded) as refused:
        books.commit(
            [
                PutAllowance(seller, _allowance(seller, invoice, "ALC6", 100)),
                RecordIdempotencyKey(key, "ALC6", "h", now + 60, now, kind="allowance"),
            ]
        )
    assert isinstance(refused.value.intent, RecordIdempotencyKey)


def test_a_filed_period_refuses_what_requires_it_unfiled(books):
    seller, invoice = _issued(books)
    books.commit([RequireUnfiled(seller, invoice.period)])
    books.file_period(seller, invoice.period)
    with pytest.raises(StateChanged):
        books.commit([RequireUnfiled(seller, invoice.period), AddToTotals(seller, invoice.period, "07", {"x": 1})])
    assert books.totals(seller, invoice.period, "07").get("x", 0) == 0


def test_an_invoice_with_an_allowance_in_force_is_neither_cancelled_nor_replaced(books):
    seller, invoice = _issued(books)
    books.commit([ReduceAllowable(seller, invoice.invoice_number, 100, 1050, ENTRY)])
    corrected = invoice.model_copy(update={"random_number": "5678"})
    with pytest.raises(StateChanged):
        books.commit([CancelInvoice(seller, invoice.invoice_number, {"reason": "x"}, ENTRY)])
    with pytest.raises(StateChanged):
        books.commit([ReplaceInvoice(seller, corrected, "1234", reset_allowable=False)])
    books.commit([RestoreAllowable(seller, invoice.invoice_number, 100, ENTRY)])
    books.commit([CancelInvoice(seller, invoice.invoice_number, {"reason": "開錯"}, ENTRY)])
    stored = books.invoices.get(seller, invoice.invoice_number)
    assert (stored.status, stored.cancellation) == ("cancelled", {"reason": "開錯"})


def test_a_replacement_needs_the_version_it_was_made_from(books):
    seller, invoice = _issued(books)
    corrected = invoice.model_copy(update={"random_number": "5678", "buyer": {"ubn": None, "name": "顧客"}})
    with pytest.raises(StateChanged):
        books.commit([ReplaceInvoice(seller, corrected, "9999", reset_allowable=False)])
    books.commit([ReplaceInvoice(seller, corrected, "1234", reset_allowable=False)])
    stored = books.invoices.get(seller, invoice.invoice_number)
    assert (stored.random_number, stored.buyer.get("ubn")) == ("5678", None)
    with pytest.raises(StateChanged):  # the version it replaced is gone: a second replacement loses
        books.commit([ReplaceInvoice(seller, corrected, "1234", reset_allowable=False)])


def test_history_is_appended_and_an_outbox_item_is_written_once_unless_replacing(books):
    seller, invoice = _issued(books)
    books.commit([AppendHistory(seller, invoice.invoice_number, ENTRY)])
    assert [e.event for e in books.invoices.get(seller, invoice.invoice_number).history] == ["test"]
    item = PutOutboxItem(seller, invoice.invoice_number, "voided", {"xml": "pending"}, NOW.isoformat())
    books.commit([item])
    with pytest.raises(AlreadyRecorded):
        books.commit([item])
    books.commit(
        [PutOutboxItem(seller, invoice.invoice_number, "voided", {"xml": "pending"}, NOW.isoformat(), replace=True)]
    )


def test_totals_add_up_across_commits(books):
    seller, invoice = _issued(books)
    for _ in range(3):
        books.commit([AddToTotals(seller, invoice.period, "07", {"allowance_count": 1, "allowance_total": 105})])
    books.commit([AddToTotals(seller, invoice.period, "07", {"allowance_count": -1, "allowance_total": -105})])
    totals = books.totals(seller, invoice.period, "07")
    assert (totals["allowance_count"], totals["allowance_total"]) == (2, 210)


def test_an_adjustment_gives_back_and_takes_in_one_step_and_never_beyond_what_remains(books):
    seller, invoice = _issued(books, sales=1000, tax=50)
    books.commit([ReduceAllowable(seller, invoice.invoice_number, 1000, 1050, ENTRY)])  # 50 left
    # Giving back 1000 and taking 1051 needs 51 more than remains: refused, nothing moves.
    with pytest.raises(StateChanged):
        books.commit([AdjustAllowable(seller, invoice.invoice_number, 1000, 1051, (ENTRY,))])
    assert books.invoices.get(seller, invoice.invoice_number).allowance_remaining == 50
    books.commit([AdjustAllowable(seller, invoice.invoice_number, 1000, 1050, (ENTRY, ENTRY))])
    stored = books.invoices.get(seller, invoice.invoice_number)
    # 50 + 1000 - 1050 = 0; still one allowance in force; both history entries kept.
    assert (stored.allowance_remaining, stored.allowance_count, len(stored.history)) == (0, 1, 3)
    books.commit([AdjustAllowable(seller, invoice.invoice_number, 1050, 105, (ENTRY,))])
    assert books.invoices.get(seller, invoice.invoice_number).allowance_remaining == 945


def test_an_adjustment_needs_a_reduced_invoice(books):
    seller, invoice = _issued(books)
    with pytest.raises(StateChanged):
        books.commit([AdjustAllowable(seller, invoice.invoice_number, 0, 100, (ENTRY,))])


def test_an_allowance_is_replaced_only_from_the_version_it_was_made_from_and_only_while_issued(books):
    seller, invoice = _issued(books)
    books.commit([PutAllowance(seller, _allowance(seller, invoice, "ALV1", 100))])
    corrected = _allowance(seller, invoice, "ALV1", 80).model_copy(update={"void_count": 1})
    with pytest.raises(StateChanged):
        books.commit([ReplaceAllowance(seller, corrected, expected_void_count=1)])
    books.commit([ReplaceAllowance(seller, corrected, expected_void_count=0)])
    stored = books.allowances.record(seller, "ALV1")
    assert (stored.total_amount, stored.void_count) == (80, 1)
    with pytest.raises(StateChanged):  # the version it replaced is gone: a second replacement loses
        books.commit([ReplaceAllowance(seller, corrected, expected_void_count=0)])
    books.commit([CancelAllowance(seller, "ALV1", {"cancel_reason": "x"}, ENTRY)])
    again = corrected.model_copy(update={"void_count": 2})
    with pytest.raises(StateChanged):
        books.commit([ReplaceAllowance(seller, again, expected_void_count=1)])
    with pytest.raises(StateChanged):  # no allowance under that number at all
        books.commit([ReplaceAllowance(seller, _allowance(seller, invoice, "ALV-none", 1), expected_void_count=0)])


# --- B2B exchange (交換) -------------------------------------------------------------------------------


def _exchanged(books: Books) -> tuple[str, str, InvoiceRecord]:
    from chalicelib.services.exchange import issue_intents, issue_state

    seller, buyer = random_ubn(), random_ubn()
    record = b2b_invoice(seller, buyer)
    record = record.model_copy(update={"exchange": issue_state(record.issued_at)})
    books.commit([PutInvoice(seller, record), *issue_intents(record)])
    return seller, buyer, record


def _step(record: InvoiceRecord, expected: ExchangeState, target: ExchangeState, **changes: Any) -> ChangeExchange:
    assert record.exchange is not None
    after = record.exchange.model_copy(update={"state": target})
    return ChangeExchange(str(record.seller["ubn"]), record.invoice_number, expected.value, after, ENTRY, **changes)


def test_an_exchange_step_needs_the_state_it_was_decided_on(books):
    seller, _, record = _exchanged(books)
    confirmed = _step(record, ExchangeState.AWAITING_BUYER, ExchangeState.CONFIRMED)
    books.commit([confirmed])
    stored = books.invoices.get(seller, record.invoice_number)
    assert stored.exchange.state is ExchangeState.CONFIRMED and stored.status == "issued"
    assert [e.event for e in stored.history][-1] == "test"
    # A second answer decided on the same state (a reject racing the confirm) loses, and nothing of
    # its commit is written.
    rejected = _step(record, ExchangeState.AWAITING_BUYER, ExchangeState.REJECTED, status="rejected")
    with pytest.raises(StateChanged) as refused:
        books.commit([rejected, AddToTotals(seller, record.period, "07", {"invoice_count": -1})])
    assert isinstance(refused.value.intent, ChangeExchange)
    assert books.invoices.get(seller, record.invoice_number).exchange.state is ExchangeState.CONFIRMED
    assert books.totals(seller, record.period, "07").get("invoice_count", 0) == 0


def test_a_settling_step_sets_status_and_cancellation_with_the_state(books):
    seller, _, record = _exchanged(books)
    asked = _step(record, ExchangeState.AWAITING_BUYER, ExchangeState.CANCEL_REQUESTED)
    books.commit([asked])
    done = _step(
        record,
        ExchangeState.CANCEL_REQUESTED,
        ExchangeState.CANCELLED,
        status="cancelled",
        cancellation={"reason": "訂單取消", "cancelled_at": NOW.isoformat()},
    )
    books.commit([done])
    stored = books.invoices.get(seller, record.invoice_number)
    assert (stored.status, stored.exchange.state, stored.cancellation["reason"]) == (
        "cancelled",
        ExchangeState.CANCELLED,
        "訂單取消",
    )
    plain_seller, plain = _issued(books)
    storage_step = ChangeExchange(plain_seller, plain.invoice_number, "awaiting_buyer", ExchangeRecord(), ENTRY)
    with pytest.raises(StateChanged):  # a storage invoice has no exchange state to match
        books.commit([storage_step])


def test_each_party_keeps_its_to_do_entry_until_it_is_dropped(books):
    seller, buyer, record = _exchanged(books)
    (sellers,) = books.tasks.open_tasks(seller)
    (buyers,) = books.tasks.open_tasks(buyer)
    assert (sellers.role, buyers.role) == (Party.SELLER, Party.BUYER)
    assert sellers.id == buyers.id == f"{seller}-{record.invoice_number}"
    assert books.tasks.open_tasks(random_ubn()) == []

    moved = buyers.model_copy(update={"state": ExchangeState.REJECTED, "waiting_on": Party.SELLER})
    books.commit([PutExchangeTask(buyer, moved)])  # replaced, not added
    (again,) = books.tasks.open_tasks(buyer)
    assert (again.state, again.waiting_on) == (ExchangeState.REJECTED, Party.SELLER)

    books.commit([DropExchangeTask(seller, sellers.id), DropExchangeTask(buyer, buyers.id)])
    assert books.tasks.open_tasks(seller) == books.tasks.open_tasks(buyer) == []
    books.commit([DropExchangeTask(buyer, buyers.id)])  # dropping what is gone changes nothing


# --- the lottery: winners and a period's numbers -------------------------------------------------------


def _consumer_invoice(books: Books, carrier: dict[str, str] | None) -> tuple[str, InvoiceRecord]:
    seller = random_ubn()
    record = b2b_invoice(seller, random_ubn()).model_copy(update={"buyer": {"ubn": None, "name": "消費者"}})
    record = record.model_copy(update={"carrier": carrier})
    books.commit([PutInvoice(seller, record)])
    return seller, record


# --- B2B exchange allowances (交換折讓) ----------------------------------------------------------------


def _exchanged_in_state(books: Books, state: ExchangeState) -> tuple[str, InvoiceRecord]:
    seller = random_ubn()
    record = b2b_invoice(seller, random_ubn(), sales=1000, tax=50).model_copy(
        update={"exchange": ExchangeRecord(state=state)}
    )
    books.commit([PutInvoice(seller, record)])
    return seller, record


def _winner(books: Books, *, member: bool = True, prize: Prize = Prize.SIXTH) -> WinnerRecord:
    """A recorded winner: to deliver on a member carrier, else nothing to deliver (a printed proof)."""
    seller, record = _consumer_invoice(books, {"type": "EJ0113", "id": "m@example.com"} if member else None)
    won = winner(seller, record.period, record, prize, Decimal(200), source="numbers", at=NOW.isoformat(), actor="t")
    books.commit([PutWinner(won)])
    return won


def _stored(books: Books, won: WinnerRecord) -> WinnerRecord:
    found = books.winners.winner(won.ubn, won.period, won.invoice_number)
    assert found is not None
    return found


def test_a_winner_is_recorded_once_and_read_by_period_and_by_key(books):
    won = _winner(books)
    with pytest.raises(AlreadyRecorded):
        books.commit([PutWinner(won.model_copy(update={"prize": Prize.FIRST}))])
    assert [w.invoice_number for w in books.winners.winners(won.ubn, won.period)] == [won.invoice_number]
    assert _stored(books, won).prize is Prize.SIXTH
    at = books.winners.winners_at(won.ubn, won.period, [won.invoice_number, "ZZ00000000"])
    assert list(at) == [won.invoice_number]
    assert books.winners.winners_at(won.ubn, "11402", [won.invoice_number]) == {}  # another period


def test_a_prize_is_marked_delivered_once_and_only_when_there_is_a_proof_to_deliver(books):
    won = _winner(books)
    books.commit([MarkPrizeDelivered(won.ubn, won.period, won.invoice_number, ENTRY)])
    stored = _stored(books, won)
    assert (stored.status, stored.delivered_at, stored.delivered_by) == (DELIVERED, ENTRY.at, ENTRY.actor)
    with pytest.raises(StateChanged):
        books.commit([MarkPrizeDelivered(won.ubn, won.period, won.invoice_number, ENTRY)])
    printed = _winner(books, member=False)
    assert printed.status == NOTHING_TO_DELIVER
    with pytest.raises(StateChanged):
        books.commit([MarkPrizeDelivered(printed.ubn, printed.period, printed.invoice_number, ENTRY)])
    assert [h.event for h in _stored(books, won).history] == ["won", "test"]


def test_a_withdrawal_takes_an_undelivered_winner_once_and_never_a_delivered_one(books):
    for member in (True, False):  # to deliver, and nothing to deliver
        won = _winner(books, member=member)
        books.commit([WithdrawWinner(won.ubn, won.period, won.invoice_number, ENTRY)])
        stored = _stored(books, won)
        assert (stored.status, stored.withdrawn_at, stored.withdrawn_by) == (WITHDRAWN, ENTRY.at, ENTRY.actor)
        with pytest.raises(StateChanged):
            books.commit([WithdrawWinner(won.ubn, won.period, won.invoice_number, ENTRY)])
    delivered = _winner(books)
    books.commit([MarkPrizeDelivered(delivered.ubn, delivered.period, delivered.invoice_number, ENTRY)])
    with pytest.raises(StateChanged):
        books.commit([WithdrawWinner(delivered.ubn, delivered.period, delivered.invoice_number, ENTRY)])
    assert _stored(books, delivered).status == DELIVERED
    with pytest.raises(StateChanged):  # nobody recorded under that number
        books.commit([WithdrawWinner(delivered.ubn, delivered.period, "ZZ00000000", ENTRY)])


def test_a_refused_withdrawal_writes_neither_its_history_nor_its_notice(books):
    won = _winner(books)
    books.commit([MarkPrizeDelivered(won.ubn, won.period, won.invoice_number, ENTRY)])
    item = PutOutboxItem(won.ubn, won.invoice_number, "lottery_withdrawn#2", {"email": "pending"}, NOW.isoformat())
    with pytest.raises(StateChanged) as refused:
        books.commit(
            [
                WithdrawWinner(won.ubn, won.period, won.invoice_number, ENTRY),
                AppendHistory(won.ubn, won.invoice_number, ENTRY),
                item,
            ]
        )
    assert isinstance(refused.value.intent, WithdrawWinner)
    assert books.invoices.get(won.ubn, won.invoice_number).history == []
    books.commit([item])  # it was never written: writing it now is its first time


def test_a_revision_gives_another_prize_or_wins_again_but_never_touches_a_delivered_winner(books):
    won = _winner(books)
    record = books.invoices.get(won.ubn, won.invoice_number)
    second = revised(won, record, Prize.SECOND, Decimal(40_000), at=NOW.isoformat(), actor="t")
    books.commit([ReviseWinner(second, ENTRY)])
    stored = _stored(books, won)
    assert (stored.prize, stored.prize_amount, stored.status) == (Prize.SECOND, Decimal(40_000), TO_DELIVER)
    assert [h.event for h in stored.history] == ["won", "test"]
    books.commit([WithdrawWinner(won.ubn, won.period, won.invoice_number, ENTRY)])
    back = revised(stored, record, Prize.FIFTH, Decimal(1000), at=NOW.isoformat(), actor="t")
    books.commit([ReviseWinner(back, ENTRY)])
    stored = _stored(books, won)
    assert (stored.prize, stored.status, stored.withdrawn_at, stored.withdrawn_by) == (
        Prize.FIFTH,
        TO_DELIVER,
        None,
        None,
    )
    books.commit([MarkPrizeDelivered(won.ubn, won.period, won.invoice_number, ENTRY)])
    with pytest.raises(StateChanged):
        books.commit([ReviseWinner(second, ENTRY)])
    assert _stored(books, won).prize is Prize.FIFTH
    nobody = second.model_copy(update={"invoice_number": "ZZ00000001"})
    with pytest.raises(StateChanged):
        books.commit([ReviseWinner(nobody, ENTRY)])


def _numbers(period: str, special: str, version: int) -> PeriodNumbers:
    drawn = WinningNumbers.parse(special, "87654321", ["11112222"], ["777"])
    return PeriodNumbers.of(period, drawn, version=version, at=NOW.isoformat(), actor="t")


def test_a_periods_numbers_are_stored_once_then_replaced_only_from_the_version_read(books):
    period = f"{secrets.randbelow(700) + 200:03d}{secrets.choice(['02', '04', '06', '08', '10', '12'])}"
    assert books.winners.numbers(period) is None
    books.commit([PutWinningNumbers(_numbers(period, "12345678", 1))])
    with pytest.raises(StateChanged):  # a second first load
        books.commit([PutWinningNumbers(_numbers(period, "22345678", 1))])
    with pytest.raises(StateChanged):  # skipping a version
        books.commit([PutWinningNumbers(_numbers(period, "22345678", 3))])
    first = books.winners.numbers(period)
    books.commit([PutWinningNumbers(first.replaced_by(_numbers(period, "32345678", 2).winning(), at="t2", actor="b"))])
    with pytest.raises(StateChanged):  # two replacements from version 1: the second loses
        books.commit([PutWinningNumbers(_numbers(period, "42345678", 2))])
    stored = books.winners.numbers(period)
    assert (stored.special, stored.version, stored.first, stored.extra_sixth) == ("32345678", 2, ["11112222"], ["777"])
    assert [(d["special"], d["version"]) for d in stored.earlier] == [("12345678", 1)]
    assert [n.special for n in stored.every_draw()] == ["32345678", "12345678"]


def test_the_winners_still_to_deliver_are_read_newest_first(books):
    first = _winner(books)  # this period's
    later = first.model_copy(update={"period": "90004"})
    printed = first.model_copy(update={"period": "90006", "status": NOTHING_TO_DELIVER})
    books.commit([PutWinner(later), PutWinner(printed)])
    assert [(w.period, w.invoice_number) for w in books.winners.recent_to_deliver(first.ubn, 10)] == [
        ("90004", first.invoice_number),
        (first.period, first.invoice_number),
    ]
    # Only the newest two are read (90006, 90004), and of those only one is still to deliver.
    assert [w.period for w in books.winners.recent_to_deliver(first.ubn, 2)] == ["90004"]


def test_a_reservation_needs_the_invoices_confirmation_and_what_remains(books):
    waiting_seller, waiting = _exchanged_in_state(books, ExchangeState.AWAITING_BUYER)
    with pytest.raises(StateChanged):
        books.commit([ReserveAllowable(waiting_seller, waiting.invoice_number, 100, 1050, ENTRY)])
    seller, invoice = _exchanged_in_state(books, ExchangeState.CONFIRMED)
    books.commit([ReserveAllowable(seller, invoice.invoice_number, 1000, 1050, ENTRY)])
    with pytest.raises(StateChanged):
        books.commit([ReserveAllowable(seller, invoice.invoice_number, 51, 1050, ENTRY)])
    stored = books.invoices.get(seller, invoice.invoice_number)
    assert (stored.allowance_remaining, stored.allowance_count, len(stored.history)) == (50, 1, 1)
    assert books.invoices.get(waiting_seller, waiting.invoice_number).allowance_count == 0


def test_an_invoice_with_an_allowance_reserved_takes_no_step_that_must_be_allowance_free(books):
    seller, invoice = _exchanged_in_state(books, ExchangeState.CONFIRMED)
    cancel = ExchangeRecord(state=ExchangeState.CANCEL_REQUESTED)
    books.commit([ReserveAllowable(seller, invoice.invoice_number, 105, 1050, ENTRY)])
    with pytest.raises(StateChanged):
        books.commit([ChangeExchange(seller, invoice.invoice_number, "confirmed", cancel, ENTRY, allowance_free=True)])
    books.commit([RestoreAllowable(seller, invoice.invoice_number, 105, ENTRY)])
    books.commit([ChangeExchange(seller, invoice.invoice_number, "confirmed", cancel, ENTRY, allowance_free=True)])
    assert books.invoices.get(seller, invoice.invoice_number).exchange.state is ExchangeState.CANCEL_REQUESTED


def test_an_exchanged_allowance_steps_only_from_the_state_it_was_decided_on(books):
    seller, invoice = _exchanged_in_state(books, ExchangeState.CONFIRMED)
    pending = ExchangeRecord(state=ExchangeState.AWAITING_COUNTERPART, flow="allowance", issuer=Party.BUYER)
    record = _allowance(seller, invoice, "XA1", 105).model_copy(update={"status": "pending", "exchange": pending})
    books.commit([PutAllowance(seller, record)])
    confirmed = pending.model_copy(update={"state": ExchangeState.CONFIRMED, "messages": {"B0102": {"at": "x"}}})
    step = ChangeExchangeAllowance(seller, "XA1", "awaiting_counterpart", confirmed, ENTRY, {"status": "issued"})
    books.commit([step])
    with pytest.raises(StateChanged):  # the same step again: the state moved on
        books.commit([step])
    stored = books.allowances.record(seller, "XA1")
    assert (stored.status, stored.exchange.state, stored.exchange.issuer) == ("issued", "confirmed", "buyer")
    assert stored.exchange.confirmed and [entry.event for entry in stored.history] == ["test"]

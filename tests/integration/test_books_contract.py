"""The write seam's contract for allowances and invoice changes, run against the in-memory books
(tests/fakes/books.py) and against DynamoDB Local through the real ledger and reads, as the
Chalice workshop runs one storage test class against both stores. What the service tests on the
fake rely on is proved here to be what DynamoDB does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.adapters.dynamo_allowances import DynamoAllowances
from chalicelib.adapters.dynamo_filings import DynamoFilings
from chalicelib.adapters.dynamo_idempotency import DynamoIdempotency
from chalicelib.adapters.dynamo_invoices import DynamoInvoices
from chalicelib.adapters.dynamo_ledger import DynamoLedger
from chalicelib.domain.allowance_record import AllowanceRecord
from chalicelib.domain.exchange import ExchangeRecord, ExchangeState, Party
from chalicelib.domain.invoice_record import HistoryEntry, InvoiceRecord
from chalicelib.domain.writes import (
    AddToTotals,
    AdjustAllowable,
    AlreadyRecorded,
    AppendHistory,
    CancelAllowance,
    CancelInvoice,
    ChangeExchange,
    ChangeExchangeAllowance,
    PutAllowance,
    PutInvoice,
    PutOutboxItem,
    RecordIdempotencyKey,
    ReduceAllowable,
    ReplaceAllowance,
    ReplaceInvoice,
    RequireUnfiled,
    ReserveAllowable,
    RestoreAllowable,
    StateChanged,
)
from tests.api.conftest import random_ubn
from tests.fakes.books import IdempotencyView, MemoryBooks
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
    )


def _dynamodb() -> Books:
    return Books(
        ledger=DynamoLedger(),
        invoices=DynamoInvoices(),
        allowances=DynamoAllowances(),
        idempotency=DynamoIdempotency(),
        file_period=lambda ubn, period: DynamoFilings().mark(ubn, period, {"current_version": 1}),
        totals=lambda ubn, period, group: DynamoInvoices().totals(ubn, period, group) or {},
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


# --- B2B exchange allowances (交換折讓) ----------------------------------------------------------------


def _exchanged(books: Books, state: ExchangeState) -> tuple[str, InvoiceRecord]:
    seller = random_ubn()
    record = b2b_invoice(seller, random_ubn(), sales=1000, tax=50).model_copy(
        update={"exchange": ExchangeRecord(state=state)}
    )
    books.commit([PutInvoice(seller, record)])
    return seller, record


def test_a_reservation_needs_the_invoices_confirmation_and_what_remains(books):
    waiting_seller, waiting = _exchanged(books, ExchangeState.AWAITING_BUYER)
    with pytest.raises(StateChanged):
        books.commit([ReserveAllowable(waiting_seller, waiting.invoice_number, 100, 1050, ENTRY)])
    seller, invoice = _exchanged(books, ExchangeState.CONFIRMED)
    books.commit([ReserveAllowable(seller, invoice.invoice_number, 1000, 1050, ENTRY)])
    with pytest.raises(StateChanged):
        books.commit([ReserveAllowable(seller, invoice.invoice_number, 51, 1050, ENTRY)])
    stored = books.invoices.get(seller, invoice.invoice_number)
    assert (stored.allowance_remaining, stored.allowance_count, len(stored.history)) == (50, 1, 1)
    assert books.invoices.get(waiting_seller, waiting.invoice_number).allowance_count == 0


def test_an_invoice_with_an_allowance_reserved_takes_no_step_that_must_be_allowance_free(books):
    seller, invoice = _exchanged(books, ExchangeState.CONFIRMED)
    cancel = ExchangeRecord(state=ExchangeState.CANCEL_REQUESTED)
    books.commit([ReserveAllowable(seller, invoice.invoice_number, 105, 1050, ENTRY)])
    with pytest.raises(StateChanged):
        books.commit([ChangeExchange(seller, invoice.invoice_number, "confirmed", cancel, ENTRY, allowance_free=True)])
    books.commit([RestoreAllowable(seller, invoice.invoice_number, 105, ENTRY)])
    books.commit([ChangeExchange(seller, invoice.invoice_number, "confirmed", cancel, ENTRY, allowance_free=True)])
    assert books.invoices.get(seller, invoice.invoice_number).exchange.state is ExchangeState.CANCEL_REQUESTED


def test_an_exchanged_allowance_steps_only_from_the_state_it_was_decided_on(books):
    seller, invoice = _exchanged(books, ExchangeState.CONFIRMED)
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

"""B2B exchange (交換) as use cases on the in-memory books (tests/fakes/books.py, held to DynamoDB
by tests/integration/test_books_contract.py): who may answer what and when, what each answer does
to both parties' period totals and to-do lists, and that of two answers to one state only one wins."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.documents.mig import build_xml
from chalicelib.documents.mig.schema import check_message
from chalicelib.domain.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, RuleViolation
from chalicelib.domain.exchange import ExchangeAction, ExchangeState, Party
from chalicelib.domain.writes import AddToTotals, PutInvoice
from chalicelib.services.exchange import Answer, ExchangeService, issue_intents, issue_state
from chalicelib.services.exchange_documents import exchange_message
from chalicelib.services.invoice_building import totals_changes
from tests.fakes.books import MemoryBooks
from tests.fakes.records import b2b_invoice

SELLER, BUYER, STRANGER = "12345675", "04595257", "22099131"
# Taiwan 2026-12-07 10:00 (UTC+8): period 11512 (Nov–Dec 2026), its filing deadline 2027-01-15.
TODAY = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
PERIOD = "11512"
CONFIRM, REJECT, CONFIRM_REJECT, CANCEL, CONFIRM_CANCEL = (
    ExchangeAction.CONFIRM,
    ExchangeAction.REJECT,
    ExchangeAction.CONFIRM_REJECT,
    ExchangeAction.CANCEL,
    ExchangeAction.CONFIRM_CANCEL,
)


@dataclass
class Clock:
    at: datetime

    def now(self) -> datetime:
        return self.at


def _world(at: datetime = TODAY) -> tuple[MemoryBooks, ExchangeService, Clock]:
    books = MemoryBooks()
    clock = Clock(at)
    service = ExchangeService(
        invoices=books,
        tasks=books,
        ledger=books,
        filed=books,
        clock=clock,
    )
    return books, service, clock


def _sent(books: MemoryBooks, day: date = date(2026, 12, 7)) -> str:
    """An invoice issued for exchange, committed as issuing commits it (services/invoicing.py)."""
    record = b2b_invoice(SELLER, BUYER, sales=1000, tax=50, day=day)
    record = record.model_copy(update={"exchange": issue_state(record.issued_at)})
    books.commit(
        [
            PutInvoice(SELLER, record),
            AddToTotals(SELLER, record.period, "07", totals_changes(record)),
            *issue_intents(record),
        ]
    )
    return f"{SELLER}-{record.invoice_number}"


def _say(service: ExchangeService, who: str, ident: str, action: ExchangeAction, **answer: Any):
    if action in (REJECT, CANCEL):
        answer.setdefault("reason", "品項與訂單不符")
    return service.take(who, ident, action, Answer(**answer), actor=f"merchant:{who}")


def _sales_total(books: MemoryBooks) -> int:
    return books.group(SELLER, PERIOD, "07").get("total_amount", 0)


def _purchases(books: MemoryBooks) -> dict[str, int]:
    return {k: v for k, v in books.group(BUYER, PERIOD, "purchases").items() if v}


def _number(ident: str) -> str:
    return ident.split("-")[1]


def test_a_sent_invoice_waits_in_both_to_do_lists_and_counts_only_for_the_seller():
    books, service, _ = _world()
    ident = _sent(books)

    (theirs,) = service.inbox(BUYER)
    (mine,) = service.inbox(SELLER)
    assert (theirs.role, theirs.waiting_on, theirs.state) == (Party.BUYER, Party.BUYER, ExchangeState.AWAITING_BUYER)
    assert (mine.role, mine.waiting_on) == (Party.SELLER, Party.BUYER)
    # ⚠️ 7 days, from the issue (reference §1.5's B2B rule; docs/exchange.md).
    assert datetime.fromisoformat(theirs.deadline) == datetime(2026, 12, 7, tzinfo=UTC) + timedelta(days=7)
    assert service.inbox(STRANGER) == []
    assert _sales_total(books) == 1050 and _purchases(books) == {}
    assert (BUYER, ident, "event:exchange.received") in books.outbox


def test_the_buyers_confirmation_makes_it_its_purchase_and_settles_the_exchange():
    books, service, _ = _world()
    ident = _sent(books)
    confirmed = _say(service, BUYER, ident, CONFIRM, remark="已收到")

    assert confirmed.exchange.state is ExchangeState.CONFIRMED and confirmed.actions == []
    assert _purchases(books) == {"invoice_count": 1, "amount": 1000, "tax": 50}
    assert _sales_total(books) == 1050
    assert service.inbox(BUYER) == [] and service.inbox(SELLER) == []
    assert (SELLER, ident, "event:exchange.confirmed") in books.outbox
    stored = books.get(SELLER, _number(ident))
    assert stored is not None and stored.history[-1].event == "exchange_confirmed"
    assert stored.history[-1].detail == {"by": "buyer", "message": "A0102", "remark": "已收到"}
    # Its A0102 now exists and is valid for the official schema.
    check_message("A0102", build_xml(exchange_message(stored, "A0102")))


def test_a_rejected_invoice_counts_on_neither_side_and_waits_for_the_seller():
    books, service, _ = _world()
    ident = _sent(books)
    rejected = _say(service, BUYER, ident, REJECT, reason="單價錯誤")

    assert rejected.record.status == "rejected" and rejected.exchange.state is ExchangeState.REJECTED
    assert _sales_total(books) == 0 and _purchases(books) == {}
    (mine,) = service.inbox(SELLER)
    assert (mine.waiting_on, mine.state) == (Party.SELLER, ExchangeState.REJECTED)
    assert service.get(SELLER, ident).actions == [CONFIRM_REJECT]
    assert books.outbox[(SELLER, ident, "event:exchange.rejected")]["payload"]["reason"] == "單價錯誤"

    settled = _say(service, SELLER, ident, CONFIRM_REJECT)
    assert settled.exchange.state is ExchangeState.REJECTION_CONFIRMED
    assert service.inbox(SELLER) == [] and service.inbox(BUYER) == []
    assert _sales_total(books) == 0  # the confirmation changes nothing more
    stored = books.get(SELLER, _number(ident))
    assert stored is not None
    for message_type in ("A0101", "A0301", "A0302"):
        check_message(message_type, build_xml(exchange_message(stored, message_type)))


def test_an_answer_is_given_once_reject_after_confirm_and_confirm_after_reject_are_refused():
    books, service, _ = _world()
    confirmed, rejected = _sent(books), _sent(books)
    _say(service, BUYER, confirmed, CONFIRM)
    _say(service, BUYER, rejected, REJECT)
    for ident, action in ((confirmed, REJECT), (confirmed, CONFIRM), (rejected, CONFIRM), (rejected, REJECT)):
        with pytest.raises(Conflict) as refused:
            _say(service, BUYER, ident, action)
        assert (refused.value.code, refused.value.field) == ("EXCHANGE_STATE_CONFLICT", "state")
    assert _purchases(books) == {"invoice_count": 1, "amount": 1000, "tax": 50}
    assert _sales_total(books) == 1050  # the confirmed one only


def test_only_the_buyer_confirms_or_rejects_and_only_the_seller_cancels_or_confirms_a_rejection():
    books, service, _ = _world()
    ident = _sent(books)
    for who, action in ((SELLER, CONFIRM), (SELLER, REJECT), (BUYER, CANCEL), (SELLER, CONFIRM_CANCEL)):
        with pytest.raises(Forbidden) as refused:
            _say(service, who, ident, action)
        assert refused.value.code == "EXCHANGE_NOT_YOUR_STEP"
    _say(service, BUYER, ident, REJECT)
    with pytest.raises(Forbidden):
        _say(service, BUYER, ident, CONFIRM_REJECT)
    assert service.get(SELLER, ident).exchange.state is ExchangeState.REJECTED


def test_another_merchant_finds_nothing_whatever_it_tries():
    books, service, _ = _world()
    ident = _sent(books)
    for attempt in (
        lambda: service.get(STRANGER, ident),
        lambda: service.message(STRANGER, ident, "A0101"),
        lambda: service.message(BUYER, f"{SELLER}-ZZ00000000", "A0101"),
        lambda: service.get(BUYER, "not-an-id"),
        *(lambda action=action: _say(service, STRANGER, ident, action) for action in ExchangeAction),
    ):
        with pytest.raises(NotFound) as refused:
            attempt()
        assert refused.value.code == "EXCHANGE_NOT_FOUND"
    assert service.get(BUYER, ident).exchange.state is ExchangeState.AWAITING_BUYER


def test_a_cancel_counts_only_once_the_buyer_confirms_it():
    books, service, _ = _world()
    ident = _sent(books)
    _say(service, BUYER, ident, CONFIRM)
    asked = _say(service, SELLER, ident, CANCEL, reason="訂單取消")

    assert asked.record.status == "issued" and asked.exchange.state is ExchangeState.CANCEL_REQUESTED
    assert _sales_total(books) == 1050 and _purchases(books)["amount"] == 1000
    (theirs,) = service.inbox(BUYER)
    assert (theirs.waiting_on, theirs.state) == (Party.BUYER, ExchangeState.CANCEL_REQUESTED)
    assert service.get(BUYER, ident).actions == [CONFIRM_CANCEL]
    with pytest.raises(Conflict):  # the buyer cannot confirm receipt of an invoice being cancelled
        _say(service, BUYER, ident, CONFIRM)

    done = _say(service, BUYER, ident, CONFIRM_CANCEL)
    assert done.record.status == "cancelled" and done.record.cancellation["reason"] == "訂單取消"
    assert _sales_total(books) == 0 and _purchases(books) == {}
    assert books.group(SELLER, PERIOD, "07")["cancelled_count"] == 1
    assert service.inbox(BUYER) == [] and service.inbox(SELLER) == []
    assert (SELLER, ident, "event:exchange.cancelled") in books.outbox
    stored = books.get(SELLER, _number(ident))
    assert stored is not None
    assert [e.event for e in stored.history][-3:] == [
        "exchange_confirmed",
        "exchange_cancel_requested",
        "exchange_cancelled",
    ]
    for message_type in ("A0101", "A0102", "A0201", "A0202"):
        check_message(message_type, build_xml(exchange_message(stored, message_type)))


def test_an_unanswered_invoice_can_be_cancelled_and_never_touches_the_buyers_side():
    books, service, _ = _world()
    ident = _sent(books)
    _say(service, SELLER, ident, CANCEL)
    _say(service, BUYER, ident, CONFIRM_CANCEL)
    assert _sales_total(books) == 0 and _purchases(books) == {}


def test_a_cancel_needs_a_reason_and_an_open_period_or_the_approval_number():
    books, service, clock = _world()
    ident = _sent(books)
    with pytest.raises(InvalidInput) as missing:
        service.take(SELLER, ident, CANCEL, Answer(), actor="t")
    assert missing.value.field == "reason"

    books.filed.add((SELLER, PERIOD))
    with pytest.raises(RuleViolation) as filed:
        _say(service, SELLER, ident, CANCEL)
    assert (filed.value.code, filed.value.field) == ("PERIOD_FILED", "return_tax_document_number")

    clock.at = datetime(2027, 1, 20, 2, 0, tzinfo=UTC)  # past the filing deadline
    with pytest.raises(RuleViolation) as late:
        _say(service, SELLER, ident, CANCEL)
    assert late.value.code == "CANCEL_DEADLINE_PASSED"
    approved = _say(service, SELLER, ident, CANCEL, return_tax_document_number="北區國稅字第1130000001號")
    assert approved.exchange.state is ExchangeState.CANCEL_REQUESTED


class RacingLedger:
    """The books, with another answer committed just before the first commit it is handed: the
    answer decided on the state read then finds that state gone."""

    def __init__(self, books: MemoryBooks, race: Any) -> None:
        self._books = books
        self._race = race

    def commit(self, intents: Any) -> None:
        race, self._race = self._race, None
        if race is not None:
            race()
        self._books.commit(intents)


def test_of_two_answers_to_one_state_only_the_first_committed_counts():
    books, service, clock = _world()
    ident = _sent(books)
    racing = ExchangeService(
        invoices=books,
        tasks=books,
        ledger=RacingLedger(books, lambda: _say(service, BUYER, ident, CONFIRM)),
        filed=books,
        clock=clock,
    )
    with pytest.raises(Conflict) as lost:
        _say(racing, BUYER, ident, REJECT)
    assert lost.value.code == "EXCHANGE_STATE_CONFLICT"
    assert service.get(SELLER, ident).exchange.state is ExchangeState.CONFIRMED
    assert _purchases(books)["amount"] == 1000 and _sales_total(books) == 1050


def test_the_to_do_list_shows_what_waits_on_me_first_and_what_is_overdue():
    books, service, clock = _world()
    waiting_on_buyer = _sent(books)
    rejected = _sent(books)
    _say(service, BUYER, rejected, REJECT)
    mine = service.inbox(SELLER)
    assert [t.id for t in mine] == [rejected, waiting_on_buyer]  # the seller's own step first
    assert not service.get(SELLER, waiting_on_buyer).overdue
    clock.at = TODAY + timedelta(days=8)
    assert service.get(SELLER, waiting_on_buyer).overdue
    # Overdue changes nothing by itself: the buyer may still answer.
    _say(service, BUYER, waiting_on_buyer, CONFIRM)
    assert [t.id for t in service.inbox(SELLER)] == [rejected]


_PARTIES = {"seller": SELLER, "buyer": BUYER}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(list(_PARTIES)), st.sampled_from(list(ExchangeAction))), max_size=6))
def test_whatever_is_tried_in_whatever_order_the_totals_follow_the_rule(attempts):
    """The rule, read naively: the seller's sales hold the invoice while it is issued (not rejected,
    not cancel-confirmed); the buyer's purchases hold it while issued and once it confirmed it."""
    books, service, _ = _world()
    ident = _sent(books)
    for who, action in attempts:
        with contextlib.suppress(DomainError):  # the refused ones change nothing
            _say(service, _PARTIES[who], ident, action)
    record = books.get(SELLER, _number(ident))
    assert record is not None and record.exchange is not None
    issued = record.status == "issued"
    confirmed = "A0102" in record.exchange.messages
    assert _sales_total(books) == (1050 if issued else 0)
    assert _purchases(books).get("amount", 0) == (1000 if issued and confirmed else 0)
    # The to-do lists hold it exactly while someone is to answer.
    still_open = record.exchange.state in (
        ExchangeState.AWAITING_BUYER,
        ExchangeState.REJECTED,
        ExchangeState.CANCEL_REQUESTED,
    )
    assert len(service.inbox(SELLER)) == len(service.inbox(BUYER)) == (1 if still_open else 0)

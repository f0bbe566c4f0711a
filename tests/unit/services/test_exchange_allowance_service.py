"""Allowances by B2B exchange (交換折讓, B0101 → B0102, B0201 → B0202) as use cases, on the in-memory
books (held to DynamoDB by tests/integration/test_books_contract.py): who may issue and answer,
what the invoice and the period totals of both parties count at each step."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest

from chalicelib.documents.mig import build_xml
from chalicelib.documents.mig.schema import check_message
from chalicelib.domain.errors import Conflict, Forbidden, InvalidInput, NotFound, RuleViolation
from chalicelib.domain.exchange import ExchangeAction, ExchangeRecord, ExchangeState
from chalicelib.services.exchange import Answer, ExchangeService
from chalicelib.services.exchange_allowance_documents import exchange_allowance_message
from chalicelib.services.exchange_allowances import ExchangeAllowanceService
from tests.fakes.books import MemoryBooks
from tests.fakes.records import b2b_invoice

SELLER, BUYER, STRANGER = "12345675", "04595257", "22099131"
# Taiwan 2026-12-07 10:00 (UTC+8): period 11512 (Nov–Dec 2026).
TODAY = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
PERIOD = "11512"


@dataclass
class Clock:
    at: datetime

    def now(self) -> datetime:
        return self.at


@dataclass
class World:
    books: MemoryBooks
    allowances: ExchangeAllowanceService
    exchanges: ExchangeService


def _world() -> World:
    books = MemoryBooks()
    common: dict[str, Any] = {
        "invoices": books,
        "ledger": books,
        "filed": books,
        "clock": Clock(TODAY),
    }
    return World(
        books,
        ExchangeAllowanceService(allowances=books, **common),
        ExchangeService(tasks=books, **common),
    )


def _exchanged(books: MemoryBooks, state: ExchangeState = ExchangeState.CONFIRMED, status: str = "issued") -> str:
    """An exchanged invoice of NT$1,000 + 50 tax in ``state``; its exchange id."""
    record = b2b_invoice(SELLER, BUYER, sales=1000, tax=50, day=date(2026, 12, 1))
    messages = {"A0102": {"at": "2026-12-02T10:00:00+08:00", "by": "buyer"}} if state is ExchangeState.CONFIRMED else {}
    exchange = ExchangeRecord(state=state, messages=messages)
    books.invoices[(SELLER, record.invoice_number)] = record.model_copy(
        update={"exchange": exchange, "status": status}
    ).model_dump(mode="json")
    return f"{SELLER}-{record.invoice_number}"


def _invoice_number(ident: str) -> str:
    return ident.split("-", 1)[1]


def _lines(unit_price: str = "100", quantity: str = "1") -> dict[str, Any]:
    return {"items": [{"description": "退貨折讓", "quantity": quantity, "unit_price": unit_price, "tax_type": "1"}]}


def _seller_allowances(books: MemoryBooks) -> dict[str, int]:
    totals = books.group(SELLER, PERIOD, "07")
    return {k: totals.get(k, 0) for k in ("allowance_count", "allowance_sales", "allowance_tax", "allowance_total")}


def _buyer_allowances(books: MemoryBooks) -> dict[str, int]:
    totals = books.group(BUYER, PERIOD, "purchases")
    return {k: totals.get(k, 0) for k in ("allowance_count", "allowance_amount", "allowance_tax")}


NOTHING_COUNTED = (
    {"allowance_count": 0, "allowance_sales": 0, "allowance_tax": 0, "allowance_total": 0},
    {
        "allowance_count": 0,
        "allowance_amount": 0,
        "allowance_tax": 0,
    },
)
ONE_COUNTED = (
    {"allowance_count": 1, "allowance_sales": 100, "allowance_tax": 5, "allowance_total": 105},
    {
        "allowance_count": 1,
        "allowance_amount": 100,
        "allowance_tax": 5,
    },
)


def _counted(books: MemoryBooks) -> tuple[dict[str, int], dict[str, int]]:
    return _seller_allowances(books), _buyer_allowances(books)


def _events(books: MemoryBooks, ubn: str) -> list[str]:
    return sorted(event for (owner, _, event) in books.outbox if owner == ubn)


def test_a_sellers_allowance_reserves_its_amount_and_counts_once_the_buyer_confirms():
    world = _world()
    ident = _exchanged(world.books)
    number = _invoice_number(ident)

    issued = world.allowances.issue(SELLER, ident, _lines("100"), actor="seller")
    assert (issued.record.status, issued.exchange.state, issued.issuer) == ("pending", "awaiting_counterpart", "seller")
    # NT$100 before tax at 5%: NT$105 reserved on the invoice, nothing in any total yet.
    assert world.books.get(SELLER, number).allowance_remaining == 1050 - 105
    assert _counted(world.books) == NOTHING_COUNTED
    # The buyer is told and has it in its to-do list, waiting on it.
    assert _events(world.books, BUYER) == ["event:exchange.allowance_received"]
    [task] = world.books.open_tasks(BUYER)
    assert (task.kind, task.id, task.waiting_on, task.total_amount) == ("allowance", issued.id, "buyer", 105)
    assert world.allowances.get(SELLER, issued.id).actions == [ExchangeAction.CANCEL]
    assert world.allowances.get(BUYER, issued.id).actions == [ExchangeAction.CONFIRM]

    confirmed = world.allowances.take(BUYER, issued.id, ExchangeAction.CONFIRM, Answer(), actor="buyer")
    assert (confirmed.record.status, confirmed.exchange.state) == ("issued", "confirmed")
    assert _counted(world.books) == ONE_COUNTED
    assert world.books.get(SELLER, number).allowance_remaining == 945  # reserved once, never twice
    assert world.books.open_tasks(BUYER) == [] and world.books.open_tasks(SELLER) == []
    assert _events(world.books, SELLER) == ["event:exchange.allowance_confirmed"]
    history = [entry.event for entry in world.books.get(SELLER, number).history]
    assert history[-2:] == ["exchange_allowance", "exchange_allowance_confirmed"]


def test_a_buyers_allowance_is_confirmed_by_the_seller_and_says_it_is_the_buyers():
    world = _world()
    ident = _exchanged(world.books)
    issued = world.allowances.issue(BUYER, ident, {**_lines("200"), "allowance_number": "PO-RET-7"}, actor="buyer")
    assert (issued.issuer, issued.record.allowance_number) == ("buyer", "PO-RET-7")
    assert _events(world.books, SELLER) == ["event:exchange.allowance_received"]
    # Kept in the seller's books, whoever issued it.
    assert world.books.record(SELLER, "PO-RET-7") is not None

    b0101 = build_xml(exchange_allowance_message(issued.record, "B0101"))
    check_message("B0101", b0101)
    assert b"<AllowanceType>1</AllowanceType>" in b0101  # 買方開立折讓證明單

    with pytest.raises(Forbidden) as own:
        world.allowances.take(BUYER, issued.id, ExchangeAction.CONFIRM, Answer(), actor="buyer")
    assert own.value.code == "EXCHANGE_NOT_YOUR_STEP"
    world.allowances.take(SELLER, issued.id, ExchangeAction.CONFIRM, Answer(remark="同意"), actor="seller")
    assert _seller_allowances(world.books)["allowance_total"] == 210
    assert _buyer_allowances(world.books)["allowance_amount"] == 200
    b0102 = build_xml(exchange_allowance_message(world.allowances.get(BUYER, issued.id).record, "B0102"))
    check_message("B0102", b0102)
    assert b"<AllowanceType>1</AllowanceType>" in b0102 and "同意".encode() in b0102


def test_confirming_twice_is_refused_and_changes_nothing_more():
    world = _world()
    ident = _exchanged(world.books)
    issued = world.allowances.issue(SELLER, ident, _lines(), actor="seller")
    world.allowances.take(BUYER, issued.id, ExchangeAction.CONFIRM, Answer(), actor="buyer")
    with pytest.raises(Conflict) as again:
        world.allowances.take(BUYER, issued.id, ExchangeAction.CONFIRM, Answer(), actor="buyer")
    assert again.value.code == "EXCHANGE_STATE_CONFLICT"
    assert _counted(world.books) == ONE_COUNTED


def test_only_the_issuer_asks_to_cancel_and_only_the_counterpart_confirms_it():
    world = _world()
    ident = _exchanged(world.books)
    number = _invoice_number(ident)
    issued = world.allowances.issue(SELLER, ident, _lines(), actor="seller")
    world.allowances.take(BUYER, issued.id, ExchangeAction.CONFIRM, Answer(), actor="buyer")

    with pytest.raises(Forbidden):  # the counterpart cannot cancel the seller's allowance
        world.allowances.take(BUYER, issued.id, ExchangeAction.CANCEL, Answer(reason="不同意"), actor="buyer")
    with pytest.raises(InvalidInput) as no_reason:
        world.allowances.take(SELLER, issued.id, ExchangeAction.CANCEL, Answer(), actor="seller")
    assert no_reason.value.field == "reason"

    asked = world.allowances.take(SELLER, issued.id, ExchangeAction.CANCEL, Answer(reason="金額有誤"), actor="seller")
    assert (asked.exchange.state, asked.record.status) == ("cancel_requested", "issued")
    assert _counted(world.books) == ONE_COUNTED  # a cancel asked for changes nothing yet
    [task] = world.books.open_tasks(BUYER)
    assert (task.state, task.waiting_on) == ("cancel_requested", "buyer")
    with pytest.raises(Forbidden):
        world.allowances.take(SELLER, issued.id, ExchangeAction.CONFIRM_CANCEL, Answer(), actor="seller")

    done = world.allowances.take(BUYER, issued.id, ExchangeAction.CONFIRM_CANCEL, Answer(), actor="buyer")
    assert (done.exchange.state, done.record.status, done.record.cancel_reason) == (
        "cancelled",
        "cancelled",
        "金額有誤",
    )
    assert _counted(world.books) == NOTHING_COUNTED
    invoice = world.books.get(SELLER, number)
    assert (invoice.allowance_remaining, invoice.allowance_count) == (1050, 0)
    assert _events(world.books, BUYER) == [
        "event:exchange.allowance_cancel_requested",
        "event:exchange.allowance_received",
    ]
    assert "event:exchange.allowance_cancelled" in _events(world.books, SELLER)
    for message in ("B0201", "B0202"):
        check_message(message, build_xml(exchange_allowance_message(done.record, message)))


def test_a_pending_allowance_withdrawn_gives_back_its_reservation_and_never_counted():
    world = _world()
    ident = _exchanged(world.books)
    issued = world.allowances.issue(BUYER, ident, _lines("300"), actor="buyer")
    world.allowances.take(BUYER, issued.id, ExchangeAction.CANCEL, Answer(reason="開錯"), actor="buyer")
    world.allowances.take(SELLER, issued.id, ExchangeAction.CONFIRM_CANCEL, Answer(), actor="seller")
    assert _counted(world.books) == NOTHING_COUNTED
    assert world.books.get(SELLER, _invoice_number(ident)).allowance_remaining == 1050


def test_allowances_cannot_exceed_the_invoice_even_while_both_are_pending():
    world = _world()
    ident = _exchanged(world.books)
    with pytest.raises(RuleViolation) as beyond:
        world.allowances.issue(SELLER, ident, _lines("1001"), actor="seller")  # 1001 + 50 > 1050
    assert beyond.value.code == "ALLOWANCE_EXCEEDS_INVOICE"

    world.allowances.issue(SELLER, ident, _lines("600"), actor="seller")  # 630 reserved
    with pytest.raises(RuleViolation) as second:
        world.allowances.issue(BUYER, ident, _lines("500"), actor="buyer")  # 525 > 420 left
    assert second.value.code == "ALLOWANCE_EXCEEDS_INVOICE"
    world.allowances.issue(BUYER, ident, _lines("400"), actor="buyer")  # 420: exactly what is left
    assert world.books.get(SELLER, _invoice_number(ident)).allowance_remaining == 0


@pytest.mark.parametrize(
    ("state", "status"),
    [
        (ExchangeState.AWAITING_BUYER, "issued"),
        (ExchangeState.REJECTED, "rejected"),
        (ExchangeState.CANCEL_REQUESTED, "issued"),
        (ExchangeState.CANCELLED, "cancelled"),
    ],
)
def test_only_an_invoice_its_buyer_confirmed_and_not_being_cancelled_takes_an_allowance(state, status):
    world = _world()
    ident = _exchanged(world.books, state, status)
    for who in (SELLER, BUYER):
        with pytest.raises(Conflict) as refused:
            world.allowances.issue(who, ident, _lines(), actor="t")
        assert (refused.value.code, refused.value.field) == ("EXCHANGE_INVOICE_NOT_CONFIRMED", "exchange_id")
    assert world.books.allowances == {}


def test_a_line_that_is_not_whole_dollars_is_refused_as_b0101_states_whole_dollars():
    world = _world()
    ident = _exchanged(world.books)
    with pytest.raises(RuleViolation) as fraction:
        world.allowances.issue(SELLER, ident, _lines("10.5"), actor="seller")
    assert (fraction.value.code, fraction.value.field) == ("EXCHANGE_ALLOWANCE_WHOLE_DOLLARS", "items[0].unit_price")


def test_another_merchant_finds_nothing():
    world = _world()
    ident = _exchanged(world.books)
    issued = world.allowances.issue(SELLER, ident, _lines(), actor="seller")
    with pytest.raises(NotFound):
        world.allowances.issue(STRANGER, ident, _lines(), actor="x")
    with pytest.raises(NotFound):
        world.allowances.get(STRANGER, issued.id)
    with pytest.raises(NotFound):
        world.allowances.take(STRANGER, issued.id, ExchangeAction.CONFIRM, Answer(), actor="x")
    with pytest.raises(NotFound):
        world.allowances.get(SELLER, f"{SELLER}-ALW-nope")


def test_the_invoice_cannot_be_cancelled_while_an_allowance_reduces_it():
    world = _world()
    ident = _exchanged(world.books)
    issued = world.allowances.issue(SELLER, ident, _lines(), actor="seller")
    with pytest.raises(RuleViolation) as refused:
        world.exchanges.take(SELLER, ident, ExchangeAction.CANCEL, Answer(reason="訂單取消"), actor="seller")
    assert refused.value.code == "INVOICE_HAS_ALLOWANCES"
    world.allowances.take(SELLER, issued.id, ExchangeAction.CANCEL, Answer(reason="撤回"), actor="seller")
    world.allowances.take(BUYER, issued.id, ExchangeAction.CONFIRM_CANCEL, Answer(), actor="buyer")
    asked = world.exchanges.take(SELLER, ident, ExchangeAction.CANCEL, Answer(reason="訂單取消"), actor="seller")
    assert asked.exchange.state is ExchangeState.CANCEL_REQUESTED


def test_a_cancel_asked_for_on_the_invoice_meanwhile_is_reported_not_overridden():
    """The invoice's A0201 lands between this allowance's read and its commit: the reservation's
    condition refuses, and the next read names the reason."""
    world = _world()
    ident = _exchanged(world.books)
    key = (SELLER, _invoice_number(ident))
    real_commit = world.books.commit

    def commit_after_a_cancel(intents):
        world.books.invoices[key]["exchange"]["state"] = "cancel_requested"
        world.books.commit = real_commit  # type: ignore[method-assign]
        return real_commit(intents)

    world.books.commit = commit_after_a_cancel  # type: ignore[method-assign]
    with pytest.raises(Conflict) as refused:
        world.allowances.issue(SELLER, ident, _lines(), actor="seller")
    assert refused.value.code == "EXCHANGE_INVOICE_NOT_CONFIRMED"
    assert world.books.allowances == {} and world.books.get(*key).allowance_remaining is None


def test_a_confirmation_in_a_later_period_counts_in_the_allowances_own_and_needs_it_unfiled():
    world = _world()
    ident = _exchanged(world.books)
    issued = world.allowances.issue(SELLER, ident, _lines(), actor="seller")
    world.books.filed.add((SELLER, PERIOD))
    world.allowances._clock = Clock(datetime(2027, 1, 20, 2, 0, tzinfo=UTC))  # period 11602
    with pytest.raises(RuleViolation) as filed:
        world.allowances.take(BUYER, issued.id, ExchangeAction.CONFIRM, Answer(), actor="buyer")
    assert filed.value.code == "ALLOWANCE_PERIOD_FILED"
    assert _counted(world.books) == NOTHING_COUNTED
    # Unfiled, the later confirmation counts in the allowance's own period, not the confirmation's.
    world.books.filed.clear()
    world.allowances.take(BUYER, issued.id, ExchangeAction.CONFIRM, Answer(), actor="buyer")
    assert _counted(world.books) == ONE_COUNTED
    assert world.books.group(SELLER, "11602", "07") == {}

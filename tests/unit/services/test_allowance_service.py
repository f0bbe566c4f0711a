"""Allowances (折讓) and invoice cancels as use cases, on the in-memory books (tests/fakes/books.py,
held to DynamoDB's behaviour by tests/integration/test_books_contract.py): the rules a merchant
relies on, checked in milliseconds instead of over HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from chalicelib.domain.allowance_record import CancelRequest
from chalicelib.domain.errors import Conflict, RuleViolation
from chalicelib.domain.period import Period
from chalicelib.services.allowances import AllowanceService
from chalicelib.services.invoice_lifecycle import InvoiceLifecycleService
from tests.fakes.books import IdempotencyView, MemoryBooks
from tests.fakes.records import b2b_invoice

SELLER, BUYER = "12345675", "04595257"


@dataclass
class Clock:
    at: datetime

    def now(self) -> datetime:
        return self.at


def _world(today: datetime) -> tuple[MemoryBooks, AllowanceService]:
    books = MemoryBooks()
    books.profiles[SELLER] = {"ubn": SELLER, "name": "賣方股份有限公司", "address": "臺北市信義區"}
    service = AllowanceService(
        invoices=books,
        allowances=books,
        merchants=books,
        ledger=books,
        idempotency=IdempotencyView(books),
        filed=books,
        clock=Clock(today),
        sleep=lambda seconds: None,
    )
    return books, service


# Taiwan 2026-12-07 10:00 (UTC+8): period 11512 (Nov–Dec 2026).
TODAY = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def _line(number: str, unit_price: str, quantity: str = "1") -> dict[str, str]:
    return {
        "original_invoice_number": number,
        "description": "退貨",
        "quantity": quantity,
        "unit_price": unit_price,
        "tax_type": "1",
    }


def _issued(books: MemoryBooks, day: date = date(2026, 12, 1)) -> str:
    record = b2b_invoice(SELLER, BUYER, sales=1000, tax=50, day=day)
    books.invoices[(SELLER, record.invoice_number)] = record.model_dump(mode="json")
    return record.invoice_number


def test_an_allowance_reduces_its_invoice_and_the_totals_of_both_sides():
    books, service = _world(TODAY)
    number = _issued(books)
    issued = service.issue(SELLER, {"items": [_line(number, "100")]}, actor="t")

    # NT$100 before tax at 5%: NT$5 tax, NT$105 given back.
    assert (issued.record.total_amount, issued.record.tax_amount) == (100, 5)
    assert books.get(SELLER, number).allowance_remaining == 1050 - 105
    sales = books.group(SELLER, "11512", "07")
    assert {k: sales[k] for k in ("allowance_count", "allowance_sales", "allowance_tax", "allowance_total")} == {
        "allowance_count": 1,
        "allowance_sales": 100,
        "allowance_tax": 5,
        "allowance_total": 105,
    }
    assert books.group(BUYER, "11512", "purchases") == {
        "allowance_count": 1,
        "allowance_amount": 100,
        "allowance_tax": 5,
    }
    # Its documents and mail are owed in the same commit.
    assert (SELLER, issued.record.allowance_number, "allowance_issued") in books.outbox


def test_allowances_never_take_more_than_the_invoice_total():
    books, service = _world(TODAY)
    number = _issued(books)
    service.issue(SELLER, {"items": [_line(number, "900")]}, actor="t")  # 945 of 1050
    with pytest.raises(RuleViolation) as refused:
        service.issue(SELLER, {"items": [_line(number, "101")]}, actor="t")  # 106 > 105 left
    assert refused.value.code == "ALLOWANCE_EXCEEDS_INVOICE"
    assert "105" in refused.value.message
    service.issue(SELLER, {"items": [_line(number, "100")]}, actor="t")  # exactly what is left
    assert books.get(SELLER, number).allowance_remaining == 0


def test_the_same_idempotency_key_answers_the_first_allowance_and_refuses_a_different_body():
    books, service = _world(TODAY)
    number = _issued(books)
    body = {"items": [_line(number, "100")]}
    first = service.issue(SELLER, body, actor="t", idempotency_key="k-1")
    again = service.issue(SELLER, body, actor="t", idempotency_key="k-1")
    assert (again.replayed, again.record.allowance_number) == (True, first.record.allowance_number)
    assert books.get(SELLER, number).allowance_count == 1
    with pytest.raises(RuleViolation) as refused:
        service.issue(SELLER, {"items": [_line(number, "200")]}, actor="t", idempotency_key="k-1")
    assert refused.value.code == "IDEMPOTENCY_KEY_REUSED"


def test_cancelling_gives_back_everything_once():
    books, service = _world(TODAY)
    number = _issued(books)
    issued = service.issue(SELLER, {"items": [_line(number, "100")]}, actor="t")
    cancelled = service.cancel(SELLER, issued.record.allowance_number, CancelRequest(reason="誤開"), actor="t")
    assert cancelled.status == "cancelled"
    invoice = books.get(SELLER, number)
    assert (invoice.allowance_remaining, invoice.allowance_count) == (1050, 0)
    assert books.group(SELLER, "11512", "07")["allowance_total"] == 0
    with pytest.raises(Conflict) as twice:
        service.cancel(SELLER, issued.record.allowance_number, CancelRequest(reason="誤開"), actor="t")
    assert twice.value.code == "ALLOWANCE_ALREADY_CANCELLED"


def test_a_back_dated_allowance_is_refused_once_its_period_is_filed():
    # Taiwan 2026-11-10: period 11512; the previous period (11510) is due by 11-15 and still open.
    now = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
    books, service = _world(now)
    number = _issued(books, day=date(2026, 10, 20))
    body = {"items": [_line(number, "100")], "allowance_date": "2026-10-25"}
    assert service.issue(SELLER, body, actor="t").record.period == "11510"
    books.filed.add((SELLER, Period.parse("11510").code))
    with pytest.raises(RuleViolation) as refused:
        service.issue(SELLER, {**body, "items": [_line(number, "50")]}, actor="t")
    assert refused.value.code == "ALLOWANCE_PERIOD_FILED"
    assert books.get(SELLER, number).allowance_count == 1


def test_a_merchant_chosen_number_is_used_once():
    books, service = _world(TODAY)
    number = _issued(books)
    service.issue(SELLER, {"items": [_line(number, "100")], "allowance_number": "R-1"}, actor="t")
    with pytest.raises(Conflict) as taken:
        service.issue(SELLER, {"items": [_line(number, "100")], "allowance_number": "R-1"}, actor="t")
    assert taken.value.code == "ALLOWANCE_NUMBER_TAKEN"
    assert books.get(SELLER, number).allowance_count == 1  # nothing of the refused one was kept


def test_an_invoice_with_an_allowance_in_force_cannot_be_cancelled_until_it_is_cancelled():
    books, allowances = _world(TODAY)
    number = _issued(books)
    lifecycle = InvoiceLifecycleService(invoices=books, merchants=books, ledger=books, filed=books, clock=Clock(TODAY))
    issued = allowances.issue(SELLER, {"items": [_line(number, "100")]}, actor="t")
    with pytest.raises(Conflict) as refused:
        lifecycle.cancel(SELLER, number, reason="開錯", actor="t")
    assert refused.value.code == "HAS_ALLOWANCES"
    allowances.cancel(SELLER, issued.record.allowance_number, CancelRequest(reason="誤開"), actor="t")
    assert lifecycle.cancel(SELLER, number, reason="開錯", actor="t").status == "cancelled"
    # Counted among the period's cancellations (the return's attachment list).
    assert books.get(SELLER, number).status == "cancelled"
    assert books.group(SELLER, "11512", "07")["cancelled_count"] == 1

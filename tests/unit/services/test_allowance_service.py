"""Allowances (折讓) and invoice cancels as use cases, on the in-memory books (tests/fakes/books.py,
held to DynamoDB's behaviour by tests/integration/test_books_contract.py): the rules a merchant
relies on, checked in milliseconds instead of over HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.allowance_record import AllowanceVoidRequest, CancelRequest
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


def _sales_allowances(books: MemoryBooks) -> dict[str, int]:
    sales = books.group(SELLER, "11512", "07")
    return {k: sales[k] for k in ("allowance_count", "allowance_sales", "allowance_tax", "allowance_total")}


def test_an_allowance_reduces_its_invoice_and_the_totals_of_both_sides():
    books, service = _world(TODAY)
    number = _issued(books)
    issued = service.issue(SELLER, {"items": [_line(number, "100")]}, actor="t")

    # NT$100 before tax at 5%: NT$5 tax, NT$105 given back.
    assert (issued.record.total_amount, issued.record.tax_amount) == (100, 5)
    assert books.get(SELLER, number).allowance_remaining == 1050 - 105
    assert _sales_allowances(books) == {
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


# --- void and re-issue (註銷重開, G0701 + G0401) -----------------------------------------------------


def _void(service: AllowanceService, number: str, *lines: dict[str, str], **extra: object):
    request = AllowanceVoidRequest(reason="金額開錯", replacement={"items": list(lines), **extra})
    return service.void(SELLER, number, request, actor="t")


def test_a_void_gives_back_what_the_allowance_took_and_takes_the_correction_in_one_commit():
    books, service = _world(TODAY)
    number = _issued(books)
    issued = service.issue(SELLER, {"items": [_line(number, "100")]}, actor="t")  # 105 of 1050
    commits = books.commits
    reissued = _void(service, issued.record.allowance_number, _line(number, "300"))  # 300 + 15 tax

    assert books.commits == commits + 1  # the give-back and the new take are one commit
    assert (reissued.allowance_number, reissued.allowance_date) == (issued.record.allowance_number, TODAY.date())
    assert (reissued.total_amount, reissued.tax_amount, reissued.void_count) == (300, 15, 1)
    assert reissued.issued_at == issued.record.issued_at  # the void window keeps counting from the first issue
    invoice = books.get(SELLER, number)
    # Still one allowance in force; 1050 - 315 remains (not 1050 - 105 - 315).
    assert (invoice.allowance_remaining, invoice.allowance_count) == (735, 1)
    assert [e.event for e in invoice.history][-2:] == ["allowance_voided", "allowance"]
    # The period totals moved by the difference: they now hold only the corrected allowance.
    assert _sales_allowances(books) == {
        "allowance_count": 1,
        "allowance_sales": 300,
        "allowance_tax": 15,
        "allowance_total": 315,
    }
    assert books.group(BUYER, "11512", "purchases") == {
        "allowance_count": 1,
        "allowance_amount": 300,
        "allowance_tax": 15,
    }
    stored = books.record(SELLER, issued.record.allowance_number)
    assert [e.event for e in stored.history] == ["issued", "voided", "reissued"]
    assert stored.history[1].detail["sales_amount"] == 100  # the withdrawn version is kept in the history
    item = books.outbox[(SELLER, issued.record.allowance_number, "allowance_voided")]
    assert list(item["steps"]) == ["g0701_xml", "g0401_xml", "allowance_pdf", "email"]


def test_a_void_can_move_the_allowance_to_another_invoice_of_the_same_buyer():
    books, service = _world(TODAY)
    first, second = _issued(books), _issued(books)
    issued = service.issue(SELLER, {"items": [_line(first, "200")]}, actor="t")  # 210 off the first
    _void(service, issued.record.allowance_number, _line(second, "200"))
    assert (books.get(SELLER, first).allowance_remaining, books.get(SELLER, first).allowance_count) == (1050, 0)
    assert (books.get(SELLER, second).allowance_remaining, books.get(SELLER, second).allowance_count) == (840, 1)
    # Nothing moved in the totals: the same amounts, now against another invoice.
    assert books.group(SELLER, "11512", "07")["allowance_total"] == 210


def test_a_correction_may_take_again_what_the_voided_version_took_but_never_more_than_the_invoice():
    books, service = _world(TODAY)
    number = _issued(books)
    issued = service.issue(SELLER, {"items": [_line(number, "1000")]}, actor="t")  # all 1050
    _void(service, issued.record.allowance_number, _line(number, "1000"), prices_include_tax=False)
    assert books.get(SELLER, number).allowance_remaining == 0
    with pytest.raises(RuleViolation) as refused:
        _void(service, issued.record.allowance_number, _line(number, "1001"), prices_include_tax=False)
    assert refused.value.code == "ALLOWANCE_EXCEEDS_INVOICE"
    assert books.get(SELLER, number).allowance_remaining == 0  # nothing of the refused void was kept
    assert books.record(SELLER, issued.record.allowance_number).void_count == 1


def test_a_cancelled_allowance_cannot_be_voided():
    books, service = _world(TODAY)
    number = _issued(books)
    issued = service.issue(SELLER, {"items": [_line(number, "100")]}, actor="t")
    service.cancel(SELLER, issued.record.allowance_number, CancelRequest(reason="誤開"), actor="t")
    with pytest.raises(Conflict) as refused:
        _void(service, issued.record.allowance_number, _line(number, "50"))
    assert refused.value.code == "ALLOWANCE_NOT_ISSUED"
    assert books.get(SELLER, number).allowance_remaining == 1050


def test_a_void_after_48_hours_or_in_the_next_period_is_refused():
    books, service = _world(TODAY)
    number = _issued(books)
    issued = service.issue(SELLER, {"items": [_line(number, "100")]}, actor="t")
    later = AllowanceService(
        invoices=books,
        allowances=books,
        merchants=books,
        ledger=books,
        idempotency=IdempotencyView(books),
        filed=books,
        clock=Clock(TODAY + timedelta(hours=48, seconds=1)),
        sleep=lambda seconds: None,
    )
    with pytest.raises(RuleViolation) as refused:
        _void(later, issued.record.allowance_number, _line(number, "50"))
    assert refused.value.code == "VOID_WINDOW_PASSED"
    # Exactly 48 hours later it is still allowed.
    later._clock = Clock(TODAY + timedelta(hours=48))  # type: ignore[assignment]
    assert _void(later, issued.record.allowance_number, _line(number, "50")).total_amount == 50


def test_a_back_dated_allowance_cannot_be_voided_once_its_period_is_filed():
    now = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)  # period 11512; 11510 still open until 11-16
    books, service = _world(now)
    number = _issued(books, day=date(2026, 10, 20))
    body = {"items": [_line(number, "100")], "allowance_date": "2026-10-25"}
    issued = service.issue(SELLER, body, actor="t")
    books.filed.add((SELLER, "11510"))
    with pytest.raises(RuleViolation) as refused:
        _void(service, issued.record.allowance_number, _line(number, "50"))
    assert refused.value.code == "ALLOWANCE_PERIOD_FILED"
    assert books.get(SELLER, number).allowance_remaining == 1050 - 105
    assert books.group(SELLER, "11510", "07")["allowance_total"] == 105


def test_a_correction_for_another_buyer_is_refused():
    books, service = _world(TODAY)
    number = _issued(books)
    other = b2b_invoice(SELLER, "22099131", sales=1000, tax=50, day=date(2026, 12, 1))
    books.invoices[(SELLER, other.invoice_number)] = other.model_dump(mode="json")
    issued = service.issue(SELLER, {"items": [_line(number, "100")]}, actor="t")
    with pytest.raises(RuleViolation) as refused:
        _void(service, issued.record.allowance_number, _line(other.invoice_number, "100"))
    assert refused.value.code == "DIFFERENT_BUYERS"


def test_a_void_received_for_an_older_version_is_spent():
    books, service = _world(TODAY)
    number = _issued(books)
    issued = service.issue(SELLER, {"items": [_line(number, "100")]}, actor="t")
    _void(service, issued.record.allowance_number, _line(number, "90"))
    request = AllowanceVoidRequest(reason="再改", replacement={"items": [_line(number, "80")]})
    with pytest.raises(Conflict) as refused:
        service.void(SELLER, issued.record.allowance_number, request, actor="t", version=0)
    assert refused.value.code == "ALLOWANCE_CHANGED"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    first=st.integers(min_value=1, max_value=1000),
    second=st.integers(min_value=1, max_value=1000),
    cancel=st.booleans(),
)
def test_after_any_void_the_invoice_and_totals_hold_exactly_the_allowance_in_force(first, second, cancel):
    """Amounts are restored exactly: whatever was voided, what remains is the invoice total less
    what the allowance now in force took, and nothing once that is cancelled too."""
    books, service = _world(TODAY)
    number = _issued(books)  # NT$1,050 tax included
    issued = service.issue(SELLER, {"items": [_line(number, str(first))], "prices_include_tax": True}, actor="t")
    reissued = _void(service, issued.record.allowance_number, _line(number, str(second)), prices_include_tax=True)
    # Tax-inclusive NT$ input: the allowance takes exactly that many dollars off the invoice.
    assert reissued.total_amount + reissued.tax_amount == second
    assert books.get(SELLER, number).allowance_remaining == 1050 - second
    assert books.group(SELLER, "11512", "07")["allowance_total"] == second
    if cancel:
        service.cancel(SELLER, issued.record.allowance_number, CancelRequest(reason="取消"), actor="t")
        invoice = books.get(SELLER, number)
        assert (invoice.allowance_remaining, invoice.allowance_count) == (1050, 0)
        assert books.group(SELLER, "11512", "07")["allowance_total"] == 0
        assert books.group(BUYER, "11512", "purchases")["allowance_amount"] == 0

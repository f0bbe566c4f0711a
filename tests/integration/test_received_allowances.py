"""The buyer's side of allowances on DynamoDB Local: what other merchants allowed to a UBN (gsi2
``ALLOWANCES_TO#<buyer>``), by date, newest first, page by page, cancelled ones included, and
nothing of any other buyer."""

from __future__ import annotations

from datetime import UTC, date, datetime

from chalicelib.adapters.dynamo_allowances import DynamoAllowances
from chalicelib.adapters.dynamo_ledger import DynamoLedger
from chalicelib.domain.allowance_record import AllowanceRecord
from chalicelib.domain.invoice_record import HistoryEntry
from chalicelib.domain.period import Period
from chalicelib.domain.writes import CancelAllowance, PutAllowance
from tests.api.conftest import random_ubn

NOW = datetime.now(UTC)


def _allowance(seller: str, buyer: str | None, number: str, day: date, amount: int) -> AllowanceRecord:
    return AllowanceRecord(
        allowance_number=number,
        allowance_date=day,
        period=Period.from_date(day).code,
        invoice_type="07",
        issued_at=NOW,
        seller={"ubn": seller, "name": "賣方"},
        buyer={"ubn": buyer, "name": "買方"} if buyer else {"name": "消費者"},
        items=[],
        tax_amount=amount // 20,
        total_amount=amount,
        originals=[{"invoice_number": "ZZ00000001", "invoice_date": day, "amount": amount}],
        prices_include_tax=False,
    )


def _all(buyer: str, low: str, high: str, limit: int) -> list[AllowanceRecord]:
    found: list[AllowanceRecord] = []
    start = None
    while True:
        page, start = DynamoAllowances().received_page(buyer, low, high, limit, start)
        assert len(page) <= limit
        found += page
        if start is None:
            return found


def test_a_buyer_reads_every_allowance_issued_to_it_in_a_period_and_nothing_else() -> None:
    buyer, other_buyer = random_ubn(), random_ubn()
    first_seller, second_seller = random_ubn(), random_ubn()
    ledger = DynamoLedger()
    in_period = [
        (first_seller, "AL1", date(2025, 11, 3), 100),
        (first_seller, "AL2", date(2025, 12, 31), 200),
        (second_seller, "AL1", date(2025, 11, 20), 300),  # the same number from another seller
    ]
    for seller, number, day, amount in in_period:
        ledger.commit([PutAllowance(seller, _allowance(seller, buyer, number, day, amount))])
    ledger.commit([PutAllowance(first_seller, _allowance(first_seller, buyer, "AL0", date(2025, 10, 31), 400))])
    ledger.commit([PutAllowance(first_seller, _allowance(first_seller, other_buyer, "AL3", date(2025, 11, 4), 500))])
    ledger.commit([PutAllowance(second_seller, _allowance(second_seller, None, "AL4", date(2025, 11, 5), 600))])
    cancelled = HistoryEntry(at=NOW.isoformat(), event="cancelled", actor="test")
    ledger.commit([CancelAllowance(first_seller, "AL2", {"cancel_reason": "錯誤"}, cancelled)])

    period = Period.parse("11412")
    low, high = period.first_day.isoformat(), period.last_day.isoformat() + "~"
    found = _all(buyer, low, high, limit=1)
    assert [(r.seller["ubn"], r.allowance_number, r.total_amount) for r in found] == [
        (first_seller, "AL2", 200),  # newest first
        (second_seller, "AL1", 300),
        (first_seller, "AL1", 100),
    ]
    assert [r.status for r in found] == ["cancelled", "issued", "issued"]
    assert _all(other_buyer, low, high, limit=10)[0].allowance_number == "AL3"
    # The seller's own list is another index partition: nothing of its sales shows up as its purchases.
    assert _all(first_seller, low, high, limit=10) == []

"""The write seam on DynamoDB Local: all or nothing, and refusals named by the intent they concern."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import pytest

from chalicelib.adapters.clock import SystemClock
from chalicelib.adapters.dynamo_invoices import DynamoInvoices
from chalicelib.adapters.dynamo_ledger import DynamoLedger
from chalicelib.domain.writes import AlreadyRecorded, NumberTaken, PutOutboxItem, RecordOrderId
from chalicelib.services.numbering import NumberingService
from tests.integration.test_numbering import _period, _setup


def _outbox(ubn: str, subject: str) -> PutOutboxItem:
    return PutOutboxItem(ubn, subject, "issued", {"xml": "pending"}, datetime.now(UTC).isoformat())


def test_a_refused_record_is_named_and_nothing_of_the_transaction_is_written(local_aws):
    ubn, _, tracks = _setup({"api": 1})
    ledger = DynamoLedger()
    order = f"order-{secrets.token_hex(4)}"
    ledger.commit([RecordOrderId(ubn, order, "AB00000001", "first")])
    taken = NumberingService(tracks=tracks, clock=SystemClock()).next(ubn, "api")
    counter = tracks.counter(ubn, _period().code, "07", "api")
    assert counter == taken.counter

    again = RecordOrderId(ubn, order, "AB00000002", "second")
    with pytest.raises(AlreadyRecorded) as refused:
        ledger.commit([*taken.intents(), _outbox(ubn, "AB00000002"), again])

    assert refused.value.intent == again
    assert refused.value.stored is not None
    assert refused.value.stored["invoice_number"] == "AB00000001"
    # All or nothing: the counter did not move and no outbox item was written.
    assert tracks.counter(ubn, _period().code, "07", "api") == counter
    assert DynamoInvoices().outbox(ubn, "AB00000002", "issued") is None


def test_a_number_another_writer_took_comes_back_with_the_counter_as_it_is_now(local_aws):
    ubn, track_range, tracks = _setup({"api": 1})
    service = NumberingService(tracks=tracks, clock=SystemClock())
    ledger = DynamoLedger()
    first = service.next(ubn, "api")
    second = service.next(ubn, "api")  # read before the first commit: the same number
    assert first.number == second.number
    ledger.commit(first.intents())

    with pytest.raises(NumberTaken) as lost:
        ledger.commit([*second.intents(), _outbox(ubn, second.number.value)])

    assert lost.value.counter is not None
    assert lost.value.counter.next_no == track_range.begin + 1
    assert DynamoInvoices().outbox(ubn, second.number.value, "issued") is None
    retried = service.next(ubn, "api", seen=lost.value.counter)
    assert retried.number.serial_int == track_range.begin + 1


def test_an_empty_commit_writes_nothing_and_more_than_a_transaction_holds_is_refused(local_aws):
    ledger = DynamoLedger()
    ledger.commit([])
    ubn = "12345675"
    with pytest.raises(ValueError, match="at most 100"):
        ledger.commit([RecordOrderId(ubn, f"o{i}", "AB00000001", "x") for i in range(101)])

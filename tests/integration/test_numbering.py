"""Invoice numbers on DynamoDB Local: never twice, never skipped, in order within each booklet.

These drive the same NumberingService and unit of work that issuing uses, with a minimal invoice
record written in the same transaction as the counter.
"""

from __future__ import annotations

import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.adapters import dynamo_ledger
from chalicelib.adapters.clock import SystemClock
from chalicelib.adapters.dynamo import dynamodb, from_item, to_item
from chalicelib.adapters.dynamo_tracks import DynamoTracks
from chalicelib.domain.errors import Conflict
from chalicelib.domain.invoice_number import InvoiceNumber, TrackRange
from chalicelib.domain.invoice_type import InvoiceType
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.services.numbering import NextNumber, NumberingService
from chalicelib.settings import get_settings
from tests.api.conftest import random_ubn
from tests.numbers import take


def _period() -> Period:
    return Period.from_date(datetime.now(TAIWAN_TZ).date())


def _random_track() -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return secrets.choice(letters) + secrets.choice(letters)


def _range(booklets: int) -> TrackRange:
    begin = secrets.randbelow(1_000_000 - booklets) * 50
    return TrackRange.create(
        _period(), InvoiceType.GENERAL, _random_track(), f"{begin:08d}", f"{begin + booklets * 50 - 1:08d}"
    )


def _setup(channels: dict[str, int]) -> tuple[str, TrackRange, DynamoTracks]:
    """A merchant with one active range, its booklets split between channels in order."""
    ubn = random_ubn()
    tracks = DynamoTracks()
    track_range = _range(sum(channels.values()))
    assert tracks.allocate(ubn, track_range, status="active", source="test", actor="test", at=datetime.now(UTC))
    items = sorted(tracks.items(ubn, "BOOKLET", track_range.period.code), key=lambda b: int(b["begin"]))
    start = 0
    for channel, count in channels.items():
        tracks.assign(ubn, track_range.period.code, "07", channel, items[start : start + count])
        start += count
    return ubn, track_range, tracks


@dataclass(frozen=True)
class _PutProbe:
    """A minimal invoice item, written by the unit of work in the same transaction as the counter."""

    ubn: str
    number: str
    issued_at: str
    table: str | None = None


def _probe_action(intent: _PutProbe) -> dict[str, Any]:
    item = {"pk": f"MERCHANT#{intent.ubn}", "sk": f"INV#{intent.number}", "number": intent.number}
    item["issued_at"] = intent.issued_at
    table = intent.table or get_settings().invoices_table
    return {"Put": {"TableName": table, "Item": to_item(item), "ConditionExpression": "attribute_not_exists(pk)"}}


@pytest.fixture(autouse=True)
def _probe_intent(monkeypatch):
    monkeypatch.setitem(dynamo_ledger._ACTIONS, _PutProbe, _probe_action)


def _invoice_put(ubn: str):
    def intents(taken: NextNumber) -> list[_PutProbe]:
        return [_PutProbe(ubn, taken.number.value, taken.issued_at.isoformat())]

    return intents


def _stored_numbers(ubn: str) -> list[str]:
    response = dynamodb().query(
        TableName=get_settings().invoices_table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :inv)",
        ExpressionAttributeValues={":pk": {"S": f"MERCHANT#{ubn}"}, ":inv": {"S": "INV#"}},
        ConsistentRead=True,
    )
    items = response["Items"]
    while "LastEvaluatedKey" in response:
        response = dynamodb().query(
            TableName=get_settings().invoices_table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :inv)",
            ExpressionAttributeValues={":pk": {"S": f"MERCHANT#{ubn}"}, ":inv": {"S": "INV#"}},
            ConsistentRead=True,
            ExclusiveStartKey=response["LastEvaluatedKey"],
        )
        items += response["Items"]
    return sorted(item["number"]["S"] for item in items)


def _assert_in_order_within_booklets(taken: list[tuple[InvoiceNumber, datetime]]) -> None:
    by_booklet: dict[int, list[tuple[int, datetime]]] = {}
    for number, issued_at in taken:
        by_booklet.setdefault(number.serial_int // 50, []).append((number.serial_int, issued_at))
    for entries in by_booklet.values():
        entries.sort()
        times = [t for _, t in entries]
        assert times == sorted(times), "issue times go backwards within a booklet"


def _run(service: NumberingService, ubn: str, channel: str, count: int, sink: list, lock: threading.Lock) -> None:
    for _ in range(count):
        taken = take(service, ubn, channel, extra=_invoice_put(ubn))
        with lock:
            sink.append((taken.number, taken.issued_at))


def test_eight_threads_on_one_channel_never_duplicate_or_skip(local_aws):
    ubn, track_range, tracks = _setup({"pos:till-1": 32})
    service = NumberingService(tracks=tracks, clock=SystemClock())
    taken: list[tuple[InvoiceNumber, datetime]] = []
    lock = threading.Lock()
    with ThreadPoolExecutor(max_workers=8) as pool:
        for future in [pool.submit(_run, service, ubn, "pos:till-1", 200, taken, lock) for _ in range(8)]:
            future.result()

    numbers = sorted(n.serial_int for n, _ in taken)
    assert numbers == list(range(track_range.begin, track_range.begin + 1600))  # no duplicate, no gap
    assert _stored_numbers(ubn) == sorted(n.value for n, _ in taken)
    _assert_in_order_within_booklets(taken)


def test_eight_channels_each_use_their_own_booklets_in_order(local_aws):
    channels = {f"pos:till-{i}": 4 for i in range(8)}
    ubn, track_range, tracks = _setup(channels)
    service = NumberingService(tracks=tracks, clock=SystemClock())
    per_channel: dict[str, list[tuple[InvoiceNumber, datetime]]] = {c: [] for c in channels}
    lock = threading.Lock()
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(_run, service, ubn, c, 200, per_channel[c], lock) for c in channels]
        for future in futures:
            future.result()

    for index, channel in enumerate(channels):
        first = track_range.begin + index * 200
        assert [n.serial_int for n, _ in per_channel[channel]] == list(range(first, first + 200))
        _assert_in_order_within_booklets(per_channel[channel])
    assert len(_stored_numbers(ubn)) == 1600


def test_a_writer_dying_after_choosing_a_number_leaves_no_gap(local_aws):
    ubn, track_range, tracks = _setup({"api": 1})
    calls = {"n": 0}

    def die_on_third(number: InvoiceNumber) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("Lambda killed between choosing and committing")

    service = NumberingService(tracks=tracks, clock=SystemClock(), before_commit=die_on_third)
    issued = [take(service, ubn, "api", extra=_invoice_put(ubn)).number.serial_int for _ in range(2)]
    with pytest.raises(RuntimeError):
        take(service, ubn, "api", extra=_invoice_put(ubn))
    issued += [take(service, ubn, "api", extra=_invoice_put(ubn)).number.serial_int for _ in range(3)]
    assert issued == list(range(track_range.begin, track_range.begin + 5))


def test_a_failing_invoice_write_does_not_move_the_counter(local_aws):
    ubn, track_range, tracks = _setup({"api": 1})
    service = NumberingService(tracks=tracks, clock=SystemClock())

    def broken(taken: NextNumber) -> list[_PutProbe]:
        # A write DynamoDB rejects (it targets a table that does not exist) cancels the whole transaction.
        return [_PutProbe(ubn, taken.number.value, taken.issued_at.isoformat(), table="no-such-table")]

    with pytest.raises(Exception):  # noqa: B017 - whatever DynamoDB raises, nothing may be committed
        take(service, ubn, "api", extra=broken)
    first = take(service, ubn, "api", extra=_invoice_put(ubn))
    assert first.number.serial_int == track_range.begin


def test_a_channel_moves_to_its_next_booklet_and_then_stops_with_409(local_aws):
    ubn, track_range, tracks = _setup({"online": 2, "api": 1})
    service = NumberingService(tracks=tracks, clock=SystemClock())
    online = [take(service, ubn, "online", extra=_invoice_put(ubn)).number.serial_int for _ in range(100)]
    assert online == list(range(track_range.begin, track_range.begin + 100))
    with pytest.raises(Conflict) as refused:
        take(service, ubn, "online", extra=_invoice_put(ubn))
    assert refused.value.code == "NO_NUMBERS_AVAILABLE"
    # the api channel's booklet was never touched
    assert take(service, ubn, "api", extra=_invoice_put(ubn)).number.serial_int == track_range.begin + 100


def test_an_invoice_dated_in_another_period_gets_no_number_from_this_one(local_aws):
    ubn, _, tracks = _setup({"api": 1})
    service = NumberingService(tracks=tracks, clock=SystemClock())
    next_period_day = datetime.combine(_period().last_day, datetime.min.time(), TAIWAN_TZ).replace(day=1)
    next_period_day = (
        next_period_day.replace(month=next_period_day.month % 12 + 1)
        if next_period_day.month < 12
        else next_period_day.replace(year=next_period_day.year + 1, month=1)
    )
    with pytest.raises(Conflict):
        take(service, ubn, "api", extra=_invoice_put(ubn), at=next_period_day)


def _low_stock_notices(ubn: str) -> list[dict[str, Any]]:
    response = dynamodb().query(
        TableName=get_settings().invoices_table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :outbox)",
        ExpressionAttributeValues={":pk": {"S": f"MERCHANT#{ubn}"}, ":outbox": {"S": "OUTBOX#"}},
        ConsistentRead=True,
    )
    return [from_item(item) for item in response["Items"] if item["event"]["S"] == "low_stock"]


def test_low_stock_notice_is_queued_once_with_the_invoice(local_aws):
    ubn, _, tracks = _setup({"api": 1})
    service = NumberingService(tracks=tracks, clock=SystemClock())
    results = [take(service, ubn, "api", extra=_invoice_put(ubn), low_stock_threshold=45) for _ in range(10)]
    assert [r.low_stock_crossed for r in results].count(True) == 1
    assert results[5].low_stock_crossed  # 44 left after the sixth invoice
    [notice] = _low_stock_notices(ubn)
    assert notice["invoice_number"] == results[5].number.value
    assert (notice["period"], notice["channel"], notice["remaining"]) == (_period().code, "api", 44)
    assert notice["steps"] == {"email": "pending"}
    counter = tracks.counter(ubn, _period().code, "07", "api")
    assert counter is not None
    assert counter.low_stock_notice == results[5].number.value
    assert counter.low_stock_notified is False  # set by the outbox once the mail went out


def test_two_issuers_that_read_the_same_counter_queue_one_notice(local_aws):
    ubn, track_range, tracks = _setup({"api": 1})
    service = NumberingService(tracks=tracks, clock=SystemClock())
    # Both saw the counter before either committed: 50 left, threshold 50, nothing queued.
    stale = tracks.counter(ubn, track_range.period.code, "07", "api")
    first = take(service, ubn, "api", extra=_invoice_put(ubn), low_stock_threshold=50, seen=stale)
    second = take(service, ubn, "api", extra=_invoice_put(ubn), low_stock_threshold=50, seen=stale)
    assert (first.low_stock_crossed, second.low_stock_crossed) == (True, False)
    assert first.number != second.number
    assert [n["invoice_number"] for n in _low_stock_notices(ubn)] == [first.number.value]


def test_two_concurrent_overlapping_allocations_one_wins(local_aws):
    tracks = DynamoTracks()
    first, second = random_ubn(), random_ubn()
    base = _range(10)
    overlapping = TrackRange.create(
        base.period, InvoiceType.GENERAL, base.track, f"{base.begin + 250:08d}", f"{base.end + 250:08d}"
    )
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def allocate(ubn: str, track_range: TrackRange) -> None:
        barrier.wait()
        try:
            tracks.allocate(ubn, track_range, status="active", source="test", actor="test", at=datetime.now(UTC))
            outcomes[ubn] = "allocated"
        except Conflict as error:
            outcomes[ubn] = error.code

    threads = [threading.Thread(target=allocate, args=args) for args in ((first, base), (second, overlapping))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes.values()) == ["TRACK_RANGE_OVERLAP", "allocated"]
    loser = first if outcomes[first] != "allocated" else second
    assert tracks.items(loser, "RANGE", base.period.code) == []
    assert tracks.items(loser, "BOOKLET", base.period.code) == []


def test_allocating_the_same_range_again_is_harmless(local_aws):
    tracks = DynamoTracks()
    ubn = random_ubn()
    track_range = _range(2)
    assert tracks.allocate(ubn, track_range, status="active", source="test", actor="t", at=datetime.now(UTC)) is True
    assert tracks.allocate(ubn, track_range, status="active", source="test", actor="t", at=datetime.now(UTC)) is False
    assert len(tracks.items(ubn, "BOOKLET", track_range.period.code)) == 2

"""Numbering throughput: invoice numbers taken per second on one channel and on eight.

Eight writers (threads standing in for concurrent Lambdas) take numbers with the real
NumberingService against DynamoDB Local, each number committed with a minimal invoice record.
Baseline: the same two writes (counter update + invoice put) as one bare TransactWriteItems,
from one writer without reads or contention: the floor the database itself sets.
"""

from __future__ import annotations

import secrets
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from bench.harness import Figure, repeat, timed
from chalicelib.adapters.clock import SystemClock
from chalicelib.adapters.dynamo import dynamodb, to_item
from chalicelib.adapters.dynamo_tracks import DynamoTracks
from chalicelib.domain.invoice_number import InvoiceNumber, TrackRange
from chalicelib.domain.invoice_type import InvoiceType
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.services.numbering import NumberingService
from chalicelib.settings import get_settings

WRITERS = 8
PER_RUN = 400  # numbers per measured run
RUNS = 5


def _ubn() -> str:
    from chalicelib.domain.ubn import is_valid_ubn

    while True:
        stem = f"{secrets.randbelow(10**7):07d}"
        for last in "0123456789":
            if is_valid_ubn(stem + last):
                return stem + last


def _merchant(channels: int) -> tuple[str, DynamoTracks]:
    ubn, tracks = _ubn(), DynamoTracks()
    period = Period.from_date(datetime.now(TAIWAN_TZ).date())
    booklets = PER_RUN // 50 + channels
    begin = secrets.randbelow(1_000_000 - booklets) * 50
    track = secrets.choice("ABCDEFGHJK") + secrets.choice("LMNPQRSTUV")
    track_range = TrackRange.create(
        period, InvoiceType.GENERAL, track, f"{begin:08d}", f"{begin + booklets * 50 - 1:08d}"
    )
    tracks.allocate(ubn, track_range, status="active", source="bench", actor="bench", at=datetime.now(UTC))
    items = sorted(tracks.items(ubn, "BOOKLET", period.code), key=lambda b: int(b["begin"]))
    per_channel = len(items) // channels
    for index in range(channels):
        tracks.assign(ubn, period.code, "07", f"pos:b{index}", items[index * per_channel : (index + 1) * per_channel])
    return ubn, tracks


def _invoice(ubn: str):
    def actions(number: InvoiceNumber, issued_at: datetime) -> list[dict]:
        item = {"pk": f"MERCHANT#{ubn}", "sk": f"INV#{number.value}", "issued_at": issued_at.isoformat()}
        return [
            {
                "Put": {
                    "TableName": get_settings().invoices_table,
                    "Item": to_item(item),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ]

    return actions


def _rate(channels: int) -> float:
    ubn, tracks = _merchant(channels)
    service = NumberingService(tracks=tracks, clock=SystemClock())
    per_writer = PER_RUN // WRITERS

    def writer(index: int) -> None:
        channel = f"pos:b{index % channels}"
        for _ in range(per_writer):
            service.take(ubn, channel, actions_for=_invoice(ubn))

    def run() -> None:
        with ThreadPoolExecutor(max_workers=WRITERS) as pool:
            for future in [pool.submit(writer, i) for i in range(WRITERS)]:
                future.result()

    return PER_RUN / timed(run)


def _floor_rate() -> float:
    ubn = _ubn()
    table, invoices = get_settings().tracks_table, get_settings().invoices_table
    dynamodb().put_item(TableName=table, Item=to_item({"pk": f"MERCHANT#{ubn}", "sk": "COUNTER#bench", "next_no": 0}))
    state = {"n": 0}
    lock = threading.Lock()

    def one() -> None:
        with lock:
            n = state["n"]
            state["n"] += 1
        dynamodb().transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": f"MERCHANT#{ubn}"}, "sk": {"S": "COUNTER#bench"}},
                        "UpdateExpression": "SET next_no = :next",
                        "ConditionExpression": "next_no = :n",
                        "ExpressionAttributeValues": {":n": {"N": str(n)}, ":next": {"N": str(n + 1)}},
                    }
                },
                {
                    "Put": {
                        "TableName": invoices,
                        "Item": to_item({"pk": f"MERCHANT#{ubn}", "sk": f"INV#{n:010d}"}),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )

    def run() -> None:
        for _ in range(PER_RUN):
            one()

    return PER_RUN / timed(run)


def run() -> list[Figure]:
    floor, floor_spread, _ = repeat(_floor_rate, RUNS)
    figures = []
    for channels in (1, 8):
        median, spread, _ = repeat(lambda c=channels: _rate(c), RUNS)
        figures.append(
            Figure(
                benchmark="numbering",
                name=f"{WRITERS} writers on {channels} channel{'s' if channels > 1 else ''}",
                unit="numbers/s",
                median=median,
                spread=spread,
                runs=RUNS,
                baseline_name="bare TransactWriteItems, 1 writer, no contention",
                baseline=floor,
                higher_is_better=True,
                notes=(
                    "One counter shared by eight writers retries on every lost race (optimistic "
                    "concurrency); separate channels do not contend."
                    if channels == 1
                    else "Each writer has its own channel and counter."
                ),
                extra={"floor_spread": floor_spread},
            )
        )
    return figures

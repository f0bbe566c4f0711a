"""Issuing throughput: invoices per second with 1, 4 and 8 channels issuing at once, each channel on
its own booklets like a fleet of tills, over 5,000 invoices per configuration; then every number is
read back and the duplicates and gaps counted (both must be 0).

Each channel has one writer thread (a till, or a Lambda serving it) calling the real use case,
``InvoicingService.issue`` wired as ``chalicelib/api/deps.py`` wires it, against DynamoDB Local
alone (the outbox is woken by the table's stream, off the request path). The service is called
directly: the Chalice test client is not thread-safe.
An extra row puts eight writers on one channel, where they race for the same counter
(optimistic concurrency: the loser reads again and retries).

Baseline: one bare TransactWriteItems of the same four items the service writes per invoice
(counter, invoice, totals, outbox) from one writer, without reads, validation or retries: the
floor the database sets, in invoices per second. A floor run precedes every measured run, so each
configuration's ratio compares runs made under the same load (others share this machine).
"""

from __future__ import annotations

import contextlib
import math
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from bench.fixtures import B2C_BODY, Fleet, bare_issue, issuing_merchant
from bench.harness import Figure, timed
from chalicelib.adapters.dynamo import dynamodb, get
from chalicelib.adapters.dynamo_ledger import DynamoLedger
from chalicelib.adapters.dynamo_tracks import counter_sk
from chalicelib.api import deps
from chalicelib.domain.invoice_number import BOOKLET_SIZE
from chalicelib.domain.invoice_type import InvoiceType
from chalicelib.domain.writes import NumberTaken
from chalicelib.settings import get_settings

CHANNELS = (1, 4, 8)
RUNS = 5
PER_RUN = 1_000  # invoices per measured run: RUNS × PER_RUN = 5,000 per configuration
CONTENTION = (8, 3, 80)  # writers on one channel, runs, invoices per run (~5 lost races per invoice)
FLOOR_PER_RUN = 100  # bare transactions per floor run, one floor run before every measured run
# DynamoDB Local's JVM speeds up ~3× over its first several hundred invoices (19 → 55 invoices/s from one
# writer); without a warm-up the first configuration would measure the JIT compiler.
WARMUP = (4, 600)  # writers (one channel each), invoices


@dataclass
class _Races:
    """Lost races while issuing, counted at the unit of work (DynamoLedger.commit): a number another
    writer committed first (the counter's condition failed, NumberTaken with the counter), or a
    transaction DynamoDB cancelled because another transaction held one of its items (NumberTaken
    without a counter; the merchant's totals item is shared by all channels)."""

    numbers: int = 0
    conflicts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextlib.contextmanager
def _counting_races() -> Iterator[_Races]:
    races = _Races()
    original = DynamoLedger.commit

    def commit(self: DynamoLedger, intents: Any) -> None:
        try:
            original(self, intents)
        except NumberTaken as lost:
            with races.lock:
                if lost.counter is not None:
                    races.numbers += 1
                else:
                    races.conflicts += 1
            raise

    DynamoLedger.commit = commit  # type: ignore[method-assign]
    try:
        yield races
    finally:
        DynamoLedger.commit = original  # type: ignore[method-assign]


def _issue(fleet: Fleet, channel: str, count: int, sink: list[str]) -> None:
    for _ in range(count):
        # A new service per invoice, as each API request builds one.
        issued = deps.invoicing_service().issue(fleet.ubn, B2C_BODY, channel=channel, actor="bench")
        if issued.replayed:
            raise RuntimeError(f"invoice {issued.record.invoice_number} was a replay")
        sink.append(issued.record.invoice_number)


def _fleet(channels: int, total: int) -> Fleet:
    """A merchant whose channels hold enough booklets for ``total`` invoices between them, plus one
    spare booklet each (so the read-back also shows that nothing was issued past the high-water mark)."""
    booklets = math.ceil(total / channels / BOOKLET_SIZE) + 1
    return issuing_merchant({f"pos:till-{i + 1}": booklets for i in range(channels)})


@dataclass
class _Measured:
    rates: list[float]  # invoices/s of each run
    floors: list[float]  # invoices/s of the floor run just before each run
    returned: dict[str, list[str]]  # channel -> every number its writers got back


def _measure(
    fleet: Fleet, writers: int, runs: int, per_run: int, floor_run: Callable[[], float] | None = None
) -> _Measured:
    """``runs`` runs of ``per_run`` invoices, writer ``i`` on channel ``i mod channels``, each run
    preceded by ``floor_run`` (so figure and baseline see the same machine, however its load drifts)."""
    channels = list(fleet.booklets)
    if per_run % writers:
        raise ValueError(f"{per_run} invoices do not split evenly between {writers} writers")
    sinks: list[list[str]] = [[] for _ in range(writers)]
    measured = _Measured([], [], {c: [] for c in channels})
    for _ in range(runs):
        if floor_run is not None:
            measured.floors.append(floor_run())
        with ThreadPoolExecutor(max_workers=writers) as pool:

            def all_writers(pool: ThreadPoolExecutor = pool) -> None:
                futures = [
                    pool.submit(_issue, fleet, channels[i % len(channels)], per_run // writers, sinks[i])
                    for i in range(writers)
                ]
                for future in futures:
                    future.result()

            measured.rates.append(per_run / timed(all_writers))
    for index, sink in enumerate(sinks):
        measured.returned[channels[index % len(channels)]] += sink
    return measured


def _stored(ubn: str) -> list[tuple[str, str]]:
    """(invoice number, channel) of every invoice stored for ``ubn``, page after page."""
    paginator = dynamodb().get_paginator("query")
    pages = paginator.paginate(
        TableName=get_settings().invoices_table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :inv)",
        ExpressionAttributeValues={":pk": {"S": f"MERCHANT#{ubn}"}, ":inv": {"S": "INV#"}},
        ProjectionExpression="sk, #c",
        ExpressionAttributeNames={"#c": "channel"},
        ConsistentRead=True,
    )
    return [(item["sk"]["S"].removeprefix("INV#"), item["channel"]["S"]) for page in pages for item in page["Items"]]


def _consumed(fleet: Fleet, channel: str) -> set[str]:
    """Every number the channel's counter has moved past: its used-up booklets whole, and its
    current booklet from the first number up to the high-water mark (the next number, excluded)."""
    item = get(
        get_settings().tracks_table,
        f"MERCHANT#{fleet.ubn}",
        counter_sk(fleet.period, InvoiceType.GENERAL.value, channel),
    )
    if item is None:
        raise RuntimeError(f"no counter for {channel}")
    queued = set(item.get("queue") or ())
    numbers: set[str] = set()
    for begin in fleet.booklets[channel]:
        if item.get("cur_track") == fleet.track and item.get("cur_begin") == begin:
            end = int(item["next_no"])
        elif f"{fleet.track}#{begin:08d}" in queued or item.get("cur_begin") is None:
            continue  # not started
        else:
            end = begin + BOOKLET_SIZE
        numbers |= {f"{fleet.track}{n:08d}" for n in range(begin, end)}
    return numbers


def _check(fleet: Fleet, returned: dict[str, list[str]]) -> dict[str, int]:
    """Read back every invoice of the merchant and compare with what the writers got back.

    duplicates: a number handed to two writers, or stored twice (which its key forbids); gaps: a
    number the channel's counter moved past that no stored invoice of that channel holds;
    mismatches: a number a writer got that is not stored, a stored invoice no writer got, one stored
    under another channel than its writer's, or one past its channel's high-water mark.
    """
    stored = _stored(fleet.ubn)
    handed = [number for numbers in returned.values() for number in numbers]
    stored_numbers = {number for number, _ in stored}
    duplicates = (len(handed) - len(set(handed))) + (len(stored) - len(stored_numbers))
    mismatches = len(set(handed) - stored_numbers) + len(stored_numbers - set(handed))
    by_channel: dict[str, set[str]] = {}
    for number, channel in stored:
        by_channel.setdefault(channel, set()).add(number)
    gaps = 0
    for channel, numbers in returned.items():
        consumed = _consumed(fleet, channel)
        on_channel = by_channel.pop(channel, set())
        gaps += len(consumed - on_channel)
        mismatches += len((set(numbers) & stored_numbers) - on_channel) + len(on_channel - consumed)
    mismatches += sum(len(numbers) for numbers in by_channel.values())  # stored on channels nobody used
    return {"duplicates": duplicates, "gaps": gaps, "mismatches": mismatches}


def _warm_up() -> tuple[str, str]:
    """Issue WARMUP invoices on a merchant of its own; (ubn, last number) for the floor to copy."""
    writers, count = WARMUP
    fleet = _fleet(writers, count)
    returned = _measure(fleet, writers, 1, count).returned
    return fleet.ubn, returned[next(iter(returned))][-1]


def _floor_run(ubn: str, number: str) -> Callable[[], float]:
    """One run of the floor: the bare four-item transaction, copied from ``number``, FLOOR_PER_RUN
    times from one writer; returns invoices/s."""
    write = bare_issue(ubn, number)
    state = {"next": 0}

    def writes() -> None:
        for _ in range(FLOOR_PER_RUN):
            write(state["next"])
            state["next"] += 1

    return lambda: FLOOR_PER_RUN / timed(writes)


def _races_note(races: _Races, invoices: int) -> str:
    return (
        f"Lost races per invoice: {races.numbers / invoices:.2f} on the counter (number taken first), "
        f"{races.conflicts / invoices:.2f} transaction conflicts."
    )


def run() -> list[Figure]:
    return _run()


def _run() -> list[Figure]:
    floor_run = _floor_run(*_warm_up())
    for _ in range(3):  # the floor's own path warms up too (its first runs were ~3× slower)
        floor_run()
    baseline = "bare TransactWriteItems of the same 4 items, 1 writer, interleaved"
    figures = []
    configurations = [(c, c, RUNS, PER_RUN) for c in CHANNELS]
    configurations.append((1, *CONTENTION))
    for channels, writers, runs, per_run in configurations:
        started = time.perf_counter()
        total = runs * per_run
        fleet = _fleet(channels, total)
        with _counting_races() as races:
            measured = _measure(fleet, writers, runs, per_run, floor_run)
        returned = measured.returned
        median, floor = statistics.median(measured.rates), statistics.median(measured.floors)
        checks = _check(fleet, returned)
        if writers == channels == 1:
            name = "1 channel, 1 writer"
            notes = (
                "InvoicingService.issue called from threads, wired as the API wires it (profile and counter "
                "reads, validation, amounts, QR codes, one 4-item transaction); the writers, "
                "DynamoDB Local and moto share 2 cores. "
            )
        elif writers == channels:
            name = f"{channels} channels, 1 writer each"
            notes = "Each channel has its own counter and booklets; all share the merchant's totals item. "
        else:
            name = f"{writers} writers on 1 channel (contention)"
            notes = f"{writers} writers share one counter: a writer that loses the race reads it again and retries. "
        notes += _races_note(races, total)
        figures.append(
            Figure(
                benchmark="issue throughput",
                name=name,
                unit="invoices/s",
                median=median,
                spread=(min(measured.rates), max(measured.rates)),
                runs=runs,
                baseline_name=baseline,
                baseline=floor,
                higher_is_better=True,
                notes=notes,
                extra={
                    "runs": measured.rates,
                    "floor_runs": measured.floors,
                    "invoices_per_run": per_run,
                    "lost_number_races": races.numbers,
                    "transaction_conflicts": races.conflicts,
                    "per_channel": {c: len(n) for c, n in returned.items()},
                },
                checks=checks,
                checked=f"{total:,} invoices",
            )
        )
        verdict = "checks ok" if not any(checks.values()) else f"⚠ CHECKS FAILED {checks} (each must be 0)"
        print(
            f"  {name}: {median:,.1f} invoices/s (floor {floor:,.1f}) over {total:,} invoices, {verdict} "
            f"({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
    return figures

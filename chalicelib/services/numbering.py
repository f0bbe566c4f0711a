"""Taking invoice numbers: never twice, never skipped, in order within each booklet.

The number comes from the channel's counter, which moves in the same DynamoDB transaction that
writes the invoice; if anything in that transaction fails, the counter does not move and the
next attempt gets the same number. Two writers on one counter race on a condition (the number
they read); the loser reads again and takes the next one.

Nothing happens after the commit that could fail the caller's request: the low-stock notice is an
outbox item written in the same transaction (services/low_stock.py), sent later by the outbox.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.adapters.dynamo_tracks import Counter, DynamoTracks, NoNumbersLeft
from chalicelib.domain.clock import Clock
from chalicelib.domain.invoice_number import InvoiceNumber
from chalicelib.domain.invoice_type import InvoiceType
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.services import low_stock

# Contention on one counter is resolved by retrying; a few hundred tries covers even eight
# threads hammering one till, and stays far below the Lambda timeout.
MAX_ATTEMPTS = 400

ActionsFor = Callable[[InvoiceNumber, datetime], Iterable[dict[str, Any]]]


@dataclass(frozen=True)
class TakenNumber:
    number: InvoiceNumber
    issued_at: datetime
    channel: str
    remaining: int  # numbers left to this channel after this one
    low_stock_crossed: bool  # this issue queued the low-stock notice (outbox event ``low_stock``)


def _no_numbers(period: Period, channel: str) -> NoNumbersLeft:
    return NoNumbersLeft(
        "NO_NUMBERS_AVAILABLE",
        f"Channel {channel} has no invoice numbers left for period {period.code}; "
        "activate and assign more booklets (PUT /v1/tracks/{track_id}/channels)",
        f"通路 {channel} 在 {period.code} 期已無可用發票號碼，請取號並指派字軌本",
        "channel",
    )


class NumberingService:
    def __init__(
        self,
        *,
        tracks: DynamoTracks,
        clock: Clock,
        before_commit: Callable[[InvoiceNumber], None] | None = None,
    ) -> None:
        self._tracks = tracks
        self._clock = clock
        # A test seam: runs after a number is chosen and before it is committed, so a test can
        # make the writer die exactly there.
        self._before_commit = before_commit

    def take(
        self,
        ubn: str,
        channel: str,
        *,
        invoice_type: InvoiceType = InvoiceType.GENERAL,
        actions_for: ActionsFor,
        low_stock_threshold: int | None = None,
        at: datetime | None = None,
        counter: Counter | None = None,
    ) -> TakenNumber:
        """Commit ``actions_for(number, issued_at)`` together with the next number of ``channel``.

        The invoice's period is the period of its issue time; only that period's booklets serve.
        ``counter`` is the channel's counter if the caller has just read it (``counter_key``), which
        saves the first read: a stale one only costs a retry, as the commit checks the number.
        """
        seen = None
        if counter is not None and (counter.invoice_type, counter.channel) == (invoice_type.value, channel):
            seen = counter
        for attempt in range(MAX_ATTEMPTS):
            now = (at or self._clock.now()).astimezone(TAIWAN_TZ)
            period = Period.from_date(now.date())
            counter = seen if seen is not None and seen.period == period.code else None
            counter = counter or self._tracks.counter(ubn, period.code, invoice_type.value, channel)
            seen = None
            if counter is None:
                raise _no_numbers(period, channel)
            if counter.current_exhausted:
                if not counter.queue:
                    raise _no_numbers(period, channel)
                self._tracks.advance(ubn, counter)
                continue
            number, issued_at = self._next(counter, now)
            if self._before_commit is not None:
                self._before_commit(number)
            actions = list(actions_for(number, issued_at))
            remaining = counter.remaining - 1
            notice = None
            if low_stock_threshold is not None and low_stock.is_due(counter, remaining, low_stock_threshold):
                notice = number.value
                created = issued_at.isoformat()
                actions.append(low_stock.notice_action(ubn, counter, notice, remaining, low_stock_threshold, created))
            committed, seen = self._tracks.take(ubn, counter, issued_at.isoformat(), actions, low_stock_notice=notice)
            if committed:
                return TakenNumber(number, issued_at, channel, remaining, notice is not None)
            _backoff(attempt)
        raise RuntimeError(f"could not take a number for {ubn}/{channel} after {MAX_ATTEMPTS} attempts")

    def counter_key(
        self, ubn: str, channel: str, invoice_type: InvoiceType, at: datetime | None = None
    ) -> tuple[str, dict[str, Any]]:
        """``(table, key)`` of the counter ``take`` would use now, for a caller batching its reads."""
        now = (at or self._clock.now()).astimezone(TAIWAN_TZ)
        return self._tracks.counter_key(ubn, Period.from_date(now.date()).code, invoice_type.value, channel)

    @staticmethod
    def _next(counter: Counter, now: datetime) -> tuple[InvoiceNumber, datetime]:
        assert counter.track is not None and counter.next_no is not None  # noqa: S101 - checked above
        number = InvoiceNumber.from_parts(counter.track, counter.next_no)
        # Within a booklet issue times must not go backwards even if this host's clock lags the
        # one that issued the previous number.
        issued_at = now.replace(microsecond=0)
        if counter.last_issued_at:
            previous = datetime.fromisoformat(counter.last_issued_at)
            issued_at = max(issued_at, previous)
        return number, issued_at


def _backoff(attempt: int) -> None:
    # Short, jittered waits: the winner's transaction takes a few milliseconds.
    time.sleep(random.uniform(0, min(0.002 * (attempt + 1), 0.02)))  # noqa: S311 - jitter, not security

"""Taking invoice numbers: never twice, never skipped, in order within each booklet.

``NumberingService.next`` chooses the channel's next number; the caller commits it with the
invoice through the unit of work (the ``TakeNumber`` intent, domain/writes.py), all in one
transaction. If anything in it fails, the counter does not move and the next attempt gets the
same number. Two writers on one counter race on a condition (the number they read): the loser's
commit raises ``NumberTaken`` with the counter as it is now, and it asks ``next`` again with it.

Nothing happens after the commit that could fail the caller's request: the low-stock notice is an
outbox item committed with the issue that crosses the threshold (services/low_stock.py).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from chalicelib.domain.clock import Clock
from chalicelib.domain.counter import Counter, NoNumbersLeft
from chalicelib.domain.invoice_number import InvoiceNumber
from chalicelib.domain.invoice_type import InvoiceType
from chalicelib.domain.issuing_state import CounterKey
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.domain.writes import Intent, TakeNumber
from chalicelib.services import low_stock

# Contention on one counter is resolved by retrying; a few hundred tries covers even eight
# threads hammering one till, and stays far below the Lambda timeout.
MAX_ATTEMPTS = 400


class Counters(Protocol):
    def counter(self, ubn: str, period: str, invoice_type: str, channel: str) -> Counter | None: ...

    def advance(self, ubn: str, counter: Counter) -> bool:
        """Move a channel whose booklet is used up to its next queued booklet; False on a race."""


@dataclass(frozen=True)
class NextNumber:
    """The number a channel would issue now, and what committing it takes."""

    ubn: str
    number: InvoiceNumber
    issued_at: datetime
    channel: str
    counter: Counter
    remaining: int  # numbers left to this channel after this one
    low_stock_threshold: int | None

    @property
    def counter_key(self) -> CounterKey:
        return CounterKey(self.counter.period, self.counter.invoice_type, self.counter.channel)

    @property
    def counter_after(self) -> Counter:
        """The counter as committing this number leaves it."""
        notice = self.number.value if self.low_stock_crossed and self.low_stock_threshold is not None else None
        return self.counter.after_taking(self.issued_at.isoformat(), notice)

    @property
    def low_stock_crossed(self) -> bool:
        """Issuing this number queues the channel's low-stock notice (outbox event ``low_stock``)."""
        return low_stock.is_due(self.counter, self.remaining, self.low_stock_threshold)

    def intents(self) -> list[Intent]:
        """The counter's move, and the low-stock notice when this issue is the one to queue it."""
        created = self.issued_at.isoformat()
        if not self.low_stock_crossed or self.low_stock_threshold is None:
            return [TakeNumber(self.ubn, self.counter, created)]
        notice = self.number.value
        return [
            TakeNumber(self.ubn, self.counter, created, low_stock_notice=notice),
            low_stock.notice_intent(self.ubn, self.counter, notice, self.remaining, self.low_stock_threshold, created),
        ]


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
        tracks: Counters,
        clock: Clock,
        before_commit: Callable[[InvoiceNumber], None] | None = None,
    ) -> None:
        self._tracks = tracks
        self._clock = clock
        # A test seam: runs after a number is chosen and before it is committed, so a test can
        # make the writer die exactly there.
        self._before_commit = before_commit

    def next(
        self,
        ubn: str,
        channel: str,
        *,
        invoice_type: InvoiceType = InvoiceType.GENERAL,
        low_stock_threshold: int | None = None,
        at: datetime | None = None,
        seen: Counter | None = None,
    ) -> NextNumber:
        """The next number of ``channel`` now; the invoice's period is the period of its issue time,
        and only that period's booklets serve. ``seen`` is the channel's counter if the caller has
        just read it (or a lost race handed it back), which saves a read: a stale one only costs a
        retry, as the commit checks the number."""
        if seen is not None and (seen.invoice_type, seen.channel) != (invoice_type.value, channel):
            seen = None
        for _ in range(MAX_ATTEMPTS):
            now = (at or self._clock.now()).astimezone(TAIWAN_TZ)
            period = Period.from_date(now.date())
            counter = seen if seen is not None and seen.period == period.code else None
            if counter is not None and counter.current_exhausted:
                # A counter handed in may be out of date (remembered between requests): only one
                # just read may decide that the channel has no numbers left, or move its booklet.
                counter = None
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
            return NextNumber(ubn, number, issued_at, channel, counter, counter.remaining - 1, low_stock_threshold)
        raise RuntimeError(f"could not move {ubn}/{channel} to its next booklet after {MAX_ATTEMPTS} attempts")

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


def backoff(attempt: int) -> None:
    """Wait a little after losing a number to another writer (the winner's commit takes a few ms)."""
    time.sleep(random.uniform(0, min(0.002 * (attempt + 1), 0.02)))  # noqa: S311 - jitter, not security

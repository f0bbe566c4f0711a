"""Taking numbers in tests as issuing does: ``NumberingService.next``, then one commit through the
unit of work with whatever else the test writes, chosen again after a lost race."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from chalicelib.adapters.dynamo_ledger import DynamoLedger
from chalicelib.domain.counter import Counter
from chalicelib.domain.writes import NumberTaken
from chalicelib.services.numbering import MAX_ATTEMPTS, NextNumber, NumberingService, backoff


def take(
    service: NumberingService,
    ubn: str,
    channel: str,
    *,
    extra: Callable[[NextNumber], Sequence[Any]] | None = None,
    low_stock_threshold: int | None = None,
    at: datetime | None = None,
    seen: Counter | None = None,
) -> NextNumber:
    ledger = DynamoLedger()
    for attempt in range(MAX_ATTEMPTS):
        taken = service.next(ubn, channel, low_stock_threshold=low_stock_threshold, at=at, seen=seen)
        try:
            ledger.commit([*taken.intents(), *(extra(taken) if extra else [])])
        except NumberTaken as lost:
            seen = lost.counter
            backoff(attempt)
            continue
        return taken
    raise RuntimeError("no number after MAX_ATTEMPTS")

"""What issuing remembers between requests in one container: each merchant's profile and each
channel's counter, as the last issue read or left them.

A warm writer then issues with no read at all: one transaction. That is safe because the
transaction checks both: the counter's condition (the number and the booklet version it was
chosen from) refuses a counter another container moved, and hands back the counter as it is
(``NumberTaken``), and ``RequireProfile`` refuses a profile changed since (``StateChanged``). So
a stale entry costs one refused transaction and a retry, never a duplicate or a gap. An
Idempotency-Key or order id is not read either: a repeat is refused by its own record's condition
(``AlreadyRecorded``), which carries the first invoice's number.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from chalicelib.domain.counter import Counter
from chalicelib.domain.issuing_state import CounterKey
from chalicelib.domain.merchant import MerchantProfile

# Enough for the merchants one container serves in its life; the oldest are forgotten first.
MAX_MERCHANTS = 1024


class IssuingCache:
    def __init__(self, max_merchants: int = MAX_MERCHANTS) -> None:
        self._max = max_merchants
        self._profiles: OrderedDict[str, MerchantProfile] = OrderedDict()
        self._counters: dict[str, dict[CounterKey, Counter]] = {}
        self._lock = threading.Lock()  # API threads of `make run` share one container's cache

    def get(self, ubn: str, where: CounterKey) -> tuple[MerchantProfile, Counter] | None:
        """The remembered profile and counter, or None unless both are remembered."""
        with self._lock:
            profile = self._profiles.get(ubn)
            counter = self._counters.get(ubn, {}).get(where)
            if profile is None or counter is None:
                return None
            self._profiles.move_to_end(ubn)
            return profile, counter

    def remember(self, ubn: str, profile: MerchantProfile, where: CounterKey, counter: Counter) -> None:
        with self._lock:
            self._profiles[ubn] = profile
            self._profiles.move_to_end(ubn)
            counters = self._counters.setdefault(ubn, {})
            # A channel keeps one entry: last period's counter is never used again.
            for old in [k for k in counters if (k.invoice_type, k.channel) == (where.invoice_type, where.channel)]:
                del counters[old]
            counters[where] = counter
            while len(self._profiles) > self._max:
                gone, _ = self._profiles.popitem(last=False)
                self._counters.pop(gone, None)

    def forget(self, ubn: str) -> None:
        with self._lock:
            self._profiles.pop(ubn, None)
            self._counters.pop(ubn, None)

"""What issuing remembers between requests in one container: each merchant's profile and each
channel's counter, as the last issue read or left them.

A warm writer then issues with no read at all: one transaction.

- The counter needs no expiry: the transaction checks it. Its condition (the number and the
  booklet version it was chosen from) refuses a counter another container moved and hands back
  the counter as it is (``NumberTaken``), so a stale one costs one refused transaction and a
  retry, never a duplicate or a gap.
- The profile is not checked in the transaction: a condition on the merchant's one profile item
  in every issuing transaction would make that item a hot spot, since concurrent transactions on
  one item conflict, and a chain issues 200 invoices a second. It is remembered for
  ``PROFILE_TTL_S`` instead, as sessions are (services/auth.py checks them once per 5 s). A change
  made in this container is forgotten at once (``forget``, called by the merchants adapter); other
  containers see it within ``PROFILE_TTL_S``. A new address, a new QR key or a suspension may so
  reach an invoice up to that late, which is the same window in which a signed-out session still
  works.
- An Idempotency-Key or order id is not read either: a repeat is refused by its own record's
  condition (``AlreadyRecorded``), which carries the first invoice's number.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from chalicelib.domain.counter import Counter
from chalicelib.domain.issuing_state import CounterKey
from chalicelib.domain.merchant import MerchantProfile

# Enough for the merchants one container serves in its life; the oldest are forgotten first.
MAX_MERCHANTS = 1024
PROFILE_TTL_S = 5.0


class IssuingCache:
    def __init__(
        self,
        max_merchants: int = MAX_MERCHANTS,
        *,
        profile_ttl_s: float = PROFILE_TTL_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max = max_merchants
        self._ttl = profile_ttl_s
        self._now = monotonic
        self._profiles: OrderedDict[str, tuple[MerchantProfile, float]] = OrderedDict()
        self._counters: dict[str, dict[CounterKey, Counter]] = {}
        self._lock = threading.Lock()  # API threads of `make run` share one container's cache

    def get(self, ubn: str, where: CounterKey) -> tuple[MerchantProfile, Counter] | None:
        """The remembered profile and counter, or None unless both are remembered and the profile
        was read less than ``PROFILE_TTL_S`` ago."""
        with self._lock:
            remembered = self._profiles.get(ubn)
            counter = self._counters.get(ubn, {}).get(where)
            if remembered is None or counter is None:
                return None
            profile, read_at = remembered
            if self._now() - read_at > self._ttl:
                return None
            self._profiles.move_to_end(ubn)
            return profile, counter

    def remember(self, ubn: str, profile: MerchantProfile, where: CounterKey, counter: Counter, *, fresh: bool) -> None:
        """``fresh``: the profile was just read (its age starts now), not taken from this cache."""
        with self._lock:
            previous = self._profiles.get(ubn)
            read_at = self._now() if fresh or previous is None else previous[1]
            self._profiles[ubn] = (profile, read_at)
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
        """The merchant's profile changed: read it again next time (the counters stay: they are checked)."""
        with self._lock:
            self._profiles.pop(ubn, None)

"""The rate-limit store's contract (services/rate_limiter.RateStore) in memory."""

from __future__ import annotations

import threading

from chalicelib.domain.rate_limits import Policy, Refused, Taken, take


class MemoryRateStore:
    """One arrival time per (policy, subject), taken atomically under a lock."""

    def __init__(self) -> None:
        self.tats: dict[tuple[str, str], int] = {}
        self.calls = 0
        self._lock = threading.Lock()

    def take(self, policy: Policy, subject: str, now: int, n: int, *, busy: bool) -> Taken | Refused:
        with self._lock:
            self.calls += 1
            result = take(policy, self.tats.get((policy.name, subject)), now, n)
            if isinstance(result, Taken):
                self.tats[(policy.name, subject)] = result.tat
            return result

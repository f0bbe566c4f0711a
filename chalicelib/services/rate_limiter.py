"""Rate limiting across containers, without a DynamoDB call on most requests.

The shared state is one arrival time per subject in DynamoDB (domain/rate_limits.py), so the limit
holds however many Lambda containers serve the subject. A container does not ask for every request:
it takes a small *lease* of requests at once and serves the next ones from memory. A lease lives one
second; its size doubles while the container uses each lease up within that second and halves when
one expires unused, up to a twentieth of the burst (at most 50). So a till sending a steady stream
costs one update every few dozen requests, and a subject near its limit, or with a small burst,
gets leases of one: exact.

What leasing costs: requests another container holds but has not used count as taken, so a subject
may be refused up to (lease size − 1) requests per busy container before its limit. It is never
granted more than its limit.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

from chalicelib.domain.clock import Clock
from chalicelib.domain.rate_limits import (
    MICROS,
    Policy,
    Refused,
    Taken,
    remaining,
    reset_seconds,
    retry_after,
    take,
)

_LEASE_LIFE = MICROS
_MAX_LEASE = 50
_PRUNE_AT = 10_000  # leases kept in memory before expired ones are dropped (one per subject)


class RateStore(Protocol):
    def take(self, policy: Policy, subject: str, now: int, n: int, *, busy: bool) -> Taken | Refused:
        """Grant ``n`` requests at ``now`` (µs) to ``subject`` atomically across containers.
        ``busy``: the subject was probably still refilling when last seen (which update to try first)."""


@dataclass(frozen=True)
class Decision:
    """The answer for one request, and what its ``RateLimit-*`` headers say."""

    policy: Policy
    allowed: bool
    remaining: int
    reset: int
    retry_after: int = 0


@dataclass
class _Lease:
    tokens: int
    expires: int
    tat: int
    size: int
    # After a refusal: nothing can be granted before this (µs), whatever other containers do, so
    # a client hammering a refused limit is refused from memory and costs DynamoDB nothing.
    blocked_until: int = 0


def micros(clock: Clock) -> int:
    return int(clock.now().timestamp() * MICROS)


class RateLimiter:
    def __init__(self, *, store: RateStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._leases: dict[tuple[Policy, str], _Lease] = {}
        self._lock = threading.Lock()

    def check(self, policy: Policy, subject: str) -> Decision:
        """Count one request of ``subject`` under ``policy``; refused past the limit."""
        now = micros(self._clock)
        key = (policy, subject)
        with self._lock:
            lease = self._leases.get(key)
            if lease is not None and now < lease.blocked_until:
                return Decision(policy, False, 0, reset_seconds(lease.tat, now), retry_after(policy, lease.tat, now))
            if lease is not None and lease.tokens > 0 and now < lease.expires:
                lease.tokens -= 1
                return Decision(
                    policy,
                    True,
                    min(policy.burst, remaining(policy, lease.tat, now) + lease.tokens),
                    reset_seconds(lease.tat, now),
                )
        size = _next_size(policy, lease, now)
        busy = lease is not None and lease.tat > now
        result = self._store.take(policy, subject, now, size, busy=busy)
        if isinstance(result, Refused) and size > 1 and isinstance(take(policy, result.tat, now), Taken):
            size = 1  # near the limit: one at a time, so that nothing is held back
            result = self._store.take(policy, subject, now, 1, busy=True)
        with self._lock:
            if isinstance(result, Refused):
                self._leases[key] = _Lease(
                    tokens=0,
                    expires=now,
                    tat=result.tat,
                    size=1,
                    blocked_until=max(result.tat, now) + policy.interval - policy.capacity,
                )
                return Decision(policy, False, 0, reset_seconds(result.tat, now), retry_after(policy, result.tat, now))
            if len(self._leases) >= _PRUNE_AT:
                self._leases = {k: v for k, v in self._leases.items() if v.expires > now}
            self._leases[key] = _Lease(tokens=size - 1, expires=now + _LEASE_LIFE, tat=result.tat, size=size)
        return Decision(
            policy,
            True,
            min(policy.burst, remaining(policy, result.tat, now) + size - 1),
            reset_seconds(result.tat, now),
        )


def _next_size(policy: Policy, lease: _Lease | None, now: int) -> int:
    largest = max(1, min(_MAX_LEASE, policy.burst // 20))
    if lease is None:
        return 1
    if now < lease.expires:  # used up within its life: the subject is busy here
        return min(largest, lease.size * 2)
    if lease.tokens > 0:  # expired with requests left over: ask for fewer
        return max(1, lease.size // 2)
    return min(largest, lease.size)

"""Rate limits (流量限制): a burst and a sustained rate per minute, as one generic cell rate
(GCRA, the token bucket written as a single number).

A subject (an API key, a session, a client IP, a UBN) has a *theoretical arrival time* ``tat``:
the moment its bucket would be full again. Taking ``n`` requests at ``now`` costs ``n`` emission
intervals (60 s ÷ the rate per minute) and is allowed while the bucket stays within its burst:
``max(tat, now) + n·interval − now ≤ burst·interval``. A full bucket (``tat ≤ now``) takes exactly
``burst`` requests at once; after that one request per interval. One number per subject is what
makes the shared state one conditional update in DynamoDB (adapters/dynamo_rate_limits.py).

Times are integer microseconds since the epoch, so that every container and DynamoDB do the same
exact arithmetic; the interval is rounded *up* so that a limit never lets through more than it says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MICROS = 1_000_000
MINUTE_MICROS = 60 * MICROS


@dataclass(frozen=True)
class Policy:
    """At most ``burst`` requests at once, refilled at ``per_minute`` a minute. ``name`` is part of
    the counter's key and of the ``RateLimit-Policy`` header."""

    name: str
    burst: int
    per_minute: int

    def __post_init__(self) -> None:
        if self.burst < 1 or self.per_minute < 1:
            raise ValueError("a rate limit needs a burst and a rate of at least 1")

    @property
    def interval(self) -> int:
        """Microseconds one request costs (rounded up: never more than ``per_minute`` a minute)."""
        return -(-MINUTE_MICROS // self.per_minute)

    @property
    def capacity(self) -> int:
        return self.burst * self.interval

    def scaled(self, factor: float) -> Policy:
        """The same policy ``factor`` times as large (settings.rate_limit_scale), at least 1 each."""
        return Policy(self.name, max(1, round(self.burst * factor)), max(1, round(self.per_minute * factor)))

    def header(self) -> str:
        """``RateLimit-Policy``: the name, the burst and the sustained rate."""
        return f'"{self.name}";burst={self.burst};per-minute={self.per_minute}'


@dataclass(frozen=True)
class Taken:
    """``n`` requests granted; ``tat`` is the subject's new theoretical arrival time."""

    tat: int


@dataclass(frozen=True)
class Refused:
    """Not granted; ``tat`` is what the subject's arrival time was."""

    tat: int


def take(policy: Policy, tat: int | None, now: int, n: int = 1) -> Taken | Refused:
    """Grant ``n`` requests at ``now`` to a subject whose arrival time is ``tat`` (None: never seen)."""
    if n < 1:
        raise ValueError("take at least one request")
    start = now if tat is None or tat < now else tat
    after = start + n * policy.interval
    if after - now > policy.capacity:
        return Refused(now if tat is None else tat)
    return Taken(after)


def remaining(policy: Policy, tat: int, now: int) -> int:
    """Requests the subject could still make at ``now`` (``RateLimit-Remaining``)."""
    return max(0, min(policy.burst, (now + policy.capacity - max(tat, now)) // policy.interval))


def reset_seconds(tat: int, now: int) -> int:
    """Whole seconds until the bucket is full again (``RateLimit-Reset``), rounded up."""
    return max(0, math.ceil((tat - now) / MICROS))


def retry_after(policy: Policy, tat: int, now: int) -> int:
    """Whole seconds until one more request is granted (``Retry-After``), rounded up, at least 1."""
    return max(1, math.ceil((max(tat, now) + policy.interval - policy.capacity - now) / MICROS))

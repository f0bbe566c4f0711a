"""Login back-off after consecutive failures (OWASP API2: slow down online guessing).

A growing delay rather than a hard lock: a hard lock after N failures lets anyone who knows a UBN
(it is printed on every invoice) lock the merchant out; a delay capped at 15 minutes still limits a
guesser to about a hundred tries a day per account while the merchant can always get in eventually.
The caller counts consecutive failures per account and resets the count on a successful login.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from chalicelib.security._time import require_aware

#: Failures allowed before any delay: covers typos and a caps-lock key.
FREE_FAILURES = 3
MAX_DELAY = timedelta(minutes=15)
_MAX_DELAY_SECONDS = int(MAX_DELAY.total_seconds())


def delay_after(failures: int) -> timedelta:
    """The wait imposed after ``failures`` consecutive failures: 0 up to 3, then 2^(n-3) s, ≤ 15 min."""
    if failures < 0:
        raise ValueError("failures must not be negative")
    if failures <= FREE_FAILURES:
        return timedelta(0)
    # 2^10 s already exceeds the cap; bounding the exponent keeps a runaway counter from building
    # a huge integer.
    exponent = min(failures - FREE_FAILURES, _MAX_DELAY_SECONDS.bit_length())
    return timedelta(seconds=min(2**exponent, _MAX_DELAY_SECONDS))


def next_allowed_at(failures: int, last_failure_at: datetime | None) -> datetime | None:
    """When the next attempt may be made, or ``None`` if it may be made at once."""
    delay = delay_after(failures)
    if last_failure_at is None or not delay:
        return None
    return require_aware(last_failure_at, "last_failure_at") + delay


def is_locked(failures: int, last_failure_at: datetime | None, now: datetime) -> tuple[bool, int]:
    """``(locked, seconds_remaining)`` at ``now``.

    The remaining seconds are rounded up so that a client honouring ``Retry-After`` never arrives a
    fraction of a second early and gets refused again.
    """
    require_aware(now, "now")
    allowed_at = next_allowed_at(failures, last_failure_at)
    if allowed_at is None or now >= allowed_at:
        return False, 0
    return True, math.ceil((allowed_at - now).total_seconds())

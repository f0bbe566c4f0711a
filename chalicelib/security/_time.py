"""Guard for the ``now`` parameters the security policies take."""

from __future__ import annotations

from datetime import datetime


def require_aware(value: datetime, name: str) -> datetime:
    """Return ``value`` if it carries a UTC offset, else raise ``ValueError``.

    Comparing a naive with an aware datetime raises ``TypeError`` deep inside a check, and a naive
    one read as local time on a developer's laptop but as UTC on Lambda would shift every expiry by
    eight hours; refusing naive values at the door makes that a loud programming error.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value

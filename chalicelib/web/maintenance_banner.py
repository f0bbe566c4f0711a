"""The maintenance banner every console page shows while a maintenance window (維護時段) is under way
or starts within a day.

Every page renders it, so it must be cheap: the announcements are read with one query and kept per
container for ``CACHE_SECONDS``; a write in this container is seen at once (the adapter counts its
writes), another container's within the minute.
"""

from __future__ import annotations

import time
from typing import Any

from chalicelib.adapters import dynamo_announcements
from chalicelib.adapters.dynamo_announcements import DynamoAnnouncements
from chalicelib.api import deps
from chalicelib.domain.announcement import Announcement, Kind
from chalicelib.observability import logger
from chalicelib.security.tokens import Role

CACHE_SECONDS = 60.0

_cache: dict[str, Any] = {"until": 0.0, "writes": -1, "items": []}


def _maintenance() -> list[Announcement]:
    if time.monotonic() >= _cache["until"] or _cache["writes"] != dynamo_announcements.writes():
        writes = dynamo_announcements.writes()
        items = [a for a in DynamoAnnouncements().all() if a.kind is Kind.MAINTENANCE]
        _cache.update(until=time.monotonic() + CACHE_SECONDS, writes=writes, items=items)
    cached: list[Announcement] = _cache["items"]
    return cached


def banners_for(principal: Any) -> list[Announcement]:
    """The banners a signed-in merchant sees (none on public and staff pages); never fails a page."""
    if principal is None or principal.role is not Role.MERCHANT:
        return []
    try:
        items = _maintenance()
    except Exception:
        logger.exception("maintenance banner unavailable")
        return []
    now = deps.clock.now()
    ubn = principal.subject
    return sorted((a for a in items if a.visible_to(ubn, now) and a.banner_due(now)), key=lambda a: a.starts_at or now)

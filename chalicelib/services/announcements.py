"""Use cases of system announcements (系統公告): staff write, schedule and withdraw them; the public
reads the published ones for everyone; a merchant reads its own and marks them read."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain.announcement import Announcement, Kind, check
from chalicelib.domain.clock import Clock
from chalicelib.domain.errors import NotFound

#: The owner public cursors are bound to (they carry no merchant).
PUBLIC_OWNER = "PUBLIC"


class AnnouncementStore(Protocol):
    def put(self, announcement: Announcement) -> None: ...

    def get(self, announcement_id: str) -> Announcement | None: ...

    def all(self) -> list[Announcement]: ...

    def read_ids(self, ubn: str) -> set[str]: ...

    def mark_read(self, ubn: str, announcement_id: str, at: datetime) -> None: ...


class Cursors(Protocol):
    def encode(self, owner: str, last_key: dict[str, Any] | None) -> str | None: ...

    def decode(self, owner: str, cursor: str | None) -> dict[str, Any] | None: ...


class Audit(Protocol):
    def record(self, owner: str, event: str, actor: str, detail: Mapping[str, Any] | None = None) -> None: ...


@dataclass(frozen=True)
class Page:
    items: list[Announcement]
    next_cursor: str | None


def _newest_first(items: list[Announcement]) -> list[Announcement]:
    return sorted(items, key=lambda a: (a.publish_at.isoformat() if a.publish_at else "", a.id), reverse=True)


def _not_found(announcement_id: str) -> NotFound:
    return NotFound(
        "ANNOUNCEMENT_NOT_FOUND",
        f"No announcement {announcement_id!r}.",
        f"查無公告 {announcement_id}。",
        "id",
    )


class AnnouncementService:
    def __init__(self, store: AnnouncementStore, clock: Clock, cursors: Cursors, audit: Audit) -> None:
        self._store = store
        self._clock = clock
        self._cursors = cursors
        self._audit = audit

    # staff
    def create(self, fields: dict[str, Any], actor: str, owner: str) -> Announcement:
        now = self._clock.now()
        announcement = check(
            Announcement(
                id=secrets.token_hex(8),
                created_by=actor,
                created_at=now,
                updated_by=actor,
                updated_at=now,
                **fields,
            )
        )
        self._store.put(announcement)
        self._audit.record(owner, "announcement_created", actor, {"id": announcement.id})
        return announcement

    def update(self, announcement_id: str, changes: dict[str, Any], actor: str, owner: str) -> Announcement:
        current = self.get(announcement_id)
        changed = check(replace(current, **changes, updated_by=actor, updated_at=self._clock.now()))
        self._store.put(changed)
        self._audit.record(owner, "announcement_updated", actor, {"id": announcement_id, "fields": sorted(changes)})
        return changed

    def withdraw(self, announcement_id: str, actor: str, owner: str) -> Announcement:
        withdrawn = self.get(announcement_id).withdraw(actor, self._clock.now())
        self._store.put(withdrawn)
        self._audit.record(owner, "announcement_withdrawn", actor, {"id": announcement_id})
        return withdrawn

    def get(self, announcement_id: str) -> Announcement:
        found = self._store.get(announcement_id)
        if found is None:
            raise _not_found(announcement_id)
        return found

    def everything(self) -> list[Announcement]:
        """Every announcement in any state, newest first (drafts last)."""
        return _newest_first(self._store.all())

    def now(self) -> datetime:
        return self._clock.now()

    # readers
    def public_page(self, limit: int, cursor: str | None) -> Page:
        now = self._clock.now()
        visible = [a for a in _newest_first(self._store.all()) if a.visible_to(None, now)]
        start = self._cursors.decode(PUBLIC_OWNER, cursor)
        if start is not None:
            after = (str(start.get("publish_at", "")), str(start.get("id", "")))
            visible = [a for a in visible if (a.publish_at.isoformat() if a.publish_at else "", a.id) < after]
        items = visible[:limit]
        next_cursor = None
        if len(visible) > limit:
            last = items[-1]
            mark = {"publish_at": last.publish_at.isoformat() if last.publish_at else "", "id": last.id}
            next_cursor = self._cursors.encode(PUBLIC_OWNER, mark)
        return Page(items=items, next_cursor=next_cursor)

    def public_one(self, announcement_id: str) -> Announcement:
        found = self._store.get(announcement_id)
        if found is None or not found.visible_to(None, self._clock.now()):
            raise _not_found(announcement_id)
        return found

    def for_merchant(self, ubn: str) -> list[tuple[Announcement, bool]]:
        """The merchant's published announcements, newest first, each with whether it was read."""
        now = self._clock.now()
        read = self._store.read_ids(ubn)
        return [(a, a.id in read) for a in _newest_first(self._store.all()) if a.visible_to(ubn, now)]

    def one_for_merchant(self, ubn: str, announcement_id: str) -> tuple[Announcement, bool]:
        found = self._store.get(announcement_id)
        # Another merchant's announcement is as absent as one that never existed.
        if found is None or not found.visible_to(ubn, self._clock.now()):
            raise _not_found(announcement_id)
        return found, announcement_id in self._store.read_ids(ubn)

    def mark_read(self, ubn: str, announcement_id: str) -> Announcement:
        found, _ = self.one_for_merchant(ubn, announcement_id)
        self._store.mark_read(ubn, announcement_id, self._clock.now())
        return found

    def banners(self, ubn: str | None) -> list[Announcement]:
        """Maintenance windows under way or within a day that ``ubn`` may see."""
        now = self._clock.now()
        return [
            a for a in self._store.all() if a.kind is Kind.MAINTENANCE and a.visible_to(ubn, now) and a.banner_due(now)
        ]

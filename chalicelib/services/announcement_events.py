"""``announcement.published``: told to each merchant of an announcement's audience once it is out.

Publishing is not a write that happens at ``publish_at`` (a scheduled announcement simply becomes
visible), so a schedule walks the audience instead: for every announcement published now and not
yet told, it publishes one event per merchant (all merchants page by page, or the listed UBNs) and
keeps its place, so a run cut short resumes where it stopped. The events' ids are per merchant,
announcement and publication time, so a page told twice tells nobody twice; staff moving the
publication time of an announcement publish it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain.announcement import Announcement, Status
from chalicelib.domain.clock import Clock
from chalicelib.domain.events import ANNOUNCEMENT_PUBLISHED, Event
from chalicelib.services.ports import EventSink

PAGE = 100


class Announcements(Protocol):
    def all(self) -> list[Announcement]: ...


class FanOutState(Protocol):
    def state(self, announcement_id: str, stamp: str) -> dict[str, Any] | None: ...
    def save(self, announcement_id: str, stamp: str, *, cursor: str | None, done: bool) -> None: ...


#: A page of merchant profiles from ``cursor`` and the cursor after it (None: the last page).
MerchantPages = Callable[[str | None, int], tuple[list[dict[str, Any]], str | None]]


@dataclass
class FanOutReport:
    announcements: int = 0
    events: int = 0
    done: bool = True


def _data(announcement: Announcement) -> dict[str, Any]:
    return {
        "id": announcement.id,
        "kind": announcement.kind.value,
        "title_zh": announcement.title_zh,
        "title_en": announcement.title_en,
        "body_zh": announcement.body_zh,
        "body_en": announcement.body_en,
        "publish_at": announcement.publish_at.isoformat() if announcement.publish_at else None,
        "expire_at": announcement.expire_at.isoformat() if announcement.expire_at else None,
        "starts_at": announcement.starts_at.isoformat() if announcement.starts_at else None,
        "ends_at": announcement.ends_at.isoformat() if announcement.ends_at else None,
        "links": {"self": f"/v1/announcements/{announcement.id}"},
    }


class AnnouncementEvents:
    def __init__(
        self,
        *,
        announcements: Announcements,
        state: FanOutState,
        merchant_pages: MerchantPages,
        events: EventSink,
        clock: Clock,
    ) -> None:
        self._announcements = announcements
        self._state = state
        self._pages = merchant_pages
        self._events = events
        self._clock = clock

    def run(self, out_of_time: Callable[[], bool] = lambda: False) -> FanOutReport:
        report = FanOutReport()
        now = self._clock.now()
        for announcement in self._announcements.all():
            published = announcement.publish_at
            if announcement.status(now) is not Status.PUBLISHED or published is None:
                continue
            stamp = published.isoformat()
            state = self._state.state(announcement.id, stamp)
            if state and state.get("done"):
                continue
            report.announcements += 1
            if announcement.audience:
                self._tell(announcement, list(announcement.audience), published, report)
                self._state.save(announcement.id, stamp, cursor=None, done=True)
                continue
            cursor = (state or {}).get("cursor")
            while True:
                if out_of_time():
                    report.done = False
                    return report
                profiles, following = self._pages(cursor, PAGE)
                self._tell(announcement, [str(p["ubn"]) for p in profiles], published, report)
                cursor = following
                self._state.save(announcement.id, stamp, cursor=cursor, done=cursor is None)
                if cursor is None:
                    break
        return report

    def _tell(self, announcement: Announcement, ubns: list[str], published: datetime, report: FanOutReport) -> None:
        data = _data(announcement)
        source = f"announcement:{announcement.id}:{published.isoformat()}"
        events = [Event(ubn, ANNOUNCEMENT_PUBLISHED, source, published, data) for ubn in ubns]
        if events:
            self._events.publish(events)
            report.events += len(events)

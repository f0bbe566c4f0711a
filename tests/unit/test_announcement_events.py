"""announcement.published for every merchant: page by page, resumed where a run stopped, once each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.domain.announcement import Announcement, Kind
from chalicelib.domain.events import Event
from chalicelib.services import announcement_events
from chalicelib.services.announcement_events import AnnouncementEvents

NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


class Clock:
    def now(self) -> datetime:
        return NOW


class Store:
    def __init__(self, *announcements: Announcement) -> None:
        self.items = list(announcements)

    def all(self) -> list[Announcement]:
        return self.items


class State:
    def __init__(self) -> None:
        self.saved: dict[tuple[str, str], dict[str, Any]] = {}

    def state(self, announcement_id: str, stamp: str) -> dict[str, Any] | None:
        return self.saved.get((announcement_id, stamp))

    def save(self, announcement_id: str, stamp: str, *, cursor: str | None, done: bool) -> None:
        self.saved[(announcement_id, stamp)] = {"cursor": cursor, "done": done}


class Sink:
    """Keeps events by id, as the event store does: the same id twice is one event."""

    def __init__(self) -> None:
        self.events: dict[str, Event] = {}
        self.calls = 0

    def publish(self, events: list[Event]) -> None:
        self.calls += 1
        for event in events:
            self.events.setdefault(event.id, event)


UBNS = [f"{n:08d}" for n in range(1, 251)]


def pages(cursor: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    start = int(cursor or 0)
    following = start + limit
    return [{"ubn": u} for u in UBNS[start:following]], (str(following) if following < len(UBNS) else None)


def _announcement(**changes: Any) -> Announcement:
    fields: dict[str, Any] = {
        "id": "ann_1",
        "kind": Kind.SYSTEM,
        "title_zh": "公告",
        "title_en": "Notice",
        "body_zh": "內容",
        "body_en": "Body",
        "publish_at": NOW - timedelta(minutes=5),
    }
    return Announcement(**(fields | changes))


def _jobs(store: Store, state: State, sink: Sink) -> AnnouncementEvents:
    return AnnouncementEvents(announcements=store, state=state, merchant_pages=pages, events=sink, clock=Clock())


def test_everyone_is_told_once_even_when_runs_stop_midway():
    store, state, sink = Store(_announcement()), State(), Sink()
    calls = iter([False, True])  # the first run has time for one page only
    first = _jobs(store, state, sink).run(lambda: next(calls, True))
    assert not first.done and len(sink.events) == announcement_events.PAGE
    second = _jobs(store, state, sink).run()
    assert second.done
    assert sorted(e.ubn for e in sink.events.values()) == UBNS
    published_before = sink.calls
    _jobs(store, state, sink).run()  # finished: a later run tells nobody again
    assert sink.calls == published_before


def test_only_published_announcements_are_told():
    store = Store(
        _announcement(id="draft", publish_at=None),
        _announcement(id="later", publish_at=NOW + timedelta(hours=1)),
        _announcement(id="gone", withdrawn=True),
        _announcement(id="old", expire_at=NOW - timedelta(minutes=1)),
    )
    sink = Sink()
    _jobs(store, State(), sink).run()
    assert sink.events == {}


def test_an_audience_list_tells_only_those_merchants():
    sink = Sink()
    _jobs(Store(_announcement(audience=("00000007", "00000009"))), State(), sink).run()
    assert sorted(e.ubn for e in sink.events.values()) == ["00000007", "00000009"]


def test_moving_the_publication_time_publishes_it_again():
    store, state, sink = Store(_announcement(audience=("00000007",))), State(), Sink()
    _jobs(store, state, sink).run()
    store.items = [_announcement(audience=("00000007",), publish_at=NOW - timedelta(minutes=1))]
    _jobs(store, state, sink).run()
    assert len(sink.events) == 2

"""Publishing an event: store it once, then hand it to every subscriber (webhooks, the inbox).

Events come from the outbox: the transaction that makes a change also writes its outbox item
(services/outbox.py), so a committed change always has one and a rolled-back change never does.
The outbox worker turns the item into its events here, before any other step, and retries until
this succeeded; jobs that make their change step by step (period close, scheduled announcements)
publish directly after each step, idempotently. Either way the same change gives the same event id
(domain/events.py), so a retry finds the event already stored and subscribers, which are
idempotent per event id, add nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from chalicelib.domain.events import Event
from chalicelib.observability import logger


class EventStore(Protocol):
    def add(self, event: Event) -> bool:
        """Store ``event`` unless it is stored already; True when this call stored it."""

    def mark_published(self, ubn: str, event_id: str) -> None:
        """Note that every subscriber has the event (a retry then stops at the store)."""

    def published(self, ubn: str, event_id: str) -> bool: ...


class EventSubscriber(Protocol):
    def on_event(self, event: Event) -> None:
        """Take the event; doing it twice for one event id must change nothing the second time."""


class EventPublisher:
    def __init__(self, *, store: EventStore, subscribers: Sequence[EventSubscriber]) -> None:
        self._store = store
        self._subscribers = list(subscribers)

    def publish(self, events: Sequence[Event]) -> None:
        """Store and fan out ``events``; raises if any part failed, so the caller retries all of it."""
        for event in events:
            created = self._store.add(event)
            if not created and self._store.published(event.ubn, event.id):
                continue
            for subscriber in self._subscribers:
                subscriber.on_event(event)
            self._store.mark_published(event.ubn, event.id)
            logger.info("event published", extra={"event_id": event.id, "event_type": event.type, "ubn": event.ubn})

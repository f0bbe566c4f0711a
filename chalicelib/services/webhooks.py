"""Outgoing webhooks: the merchant's endpoints, the deliveries each event makes, and their sending.

- ``WebhookService``: endpoints (register, change, rotate the secret, delete), the delivery log,
  replay of one event.
- ``WebhookSubscriber``: for each event (services/events.py), one delivery per enabled endpoint
  that takes its type, due at once; keyed by endpoint and event, so a repeated event adds nothing.
- ``WebhookDispatcher``: sends what is due, signed (domain/webhooks.py), records every attempt,
  retries with backoff and jitter, gives up on a delivery after 3 days and disables an endpoint
  that failed for 24 h, telling its merchant. At least once: a receiver may see an event twice
  (it timed out after taking it) and deduplicates on the event id.

Secrets are derived, never stored: ``secret_for(ubn, endpoint id, generation)``. Rotating moves
the generation on; the previous one keeps signing alongside until its overlap ends.
"""

from __future__ import annotations

import json
import secrets as random_ids
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from chalicelib.domain import notifications as kinds
from chalicelib.domain.clock import Clock
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound
from chalicelib.domain.events import EVENT_TYPES, Event
from chalicelib.domain.notifications import Notice
from chalicelib.domain.webhooks import (
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    GIVE_UP_AFTER,
    MAX_OVERLAP,
    SIGNATURE_HEADER,
    check_url,
    next_attempt,
    should_disable,
    signature_header,
)
from chalicelib.observability import logger
from chalicelib.services.ports import Notices

#: How long one attempt holds a delivery (longer than any send's timeout).
CLAIM = timedelta(minutes=2)
MAX_ENDPOINTS = 16
USER_AGENT = "einvoice-webhooks/1"


class WebhookStore(Protocol):
    def add_endpoint(self, ubn: str, endpoint: dict[str, Any]) -> None: ...
    def endpoint(self, ubn: str, endpoint_id: str) -> dict[str, Any] | None: ...
    def endpoints(self, ubn: str) -> list[dict[str, Any]]: ...
    def change_endpoint(
        self, ubn: str, endpoint_id: str, fields: dict[str, Any], remove: tuple[str, ...] = ()
    ) -> dict[str, Any] | None: ...
    def failing(self, ubn: str, endpoint_id: str, at: datetime) -> dict[str, Any] | None: ...
    def disable(self, ubn: str, endpoint_id: str, at: datetime, reason: str) -> bool: ...
    def delete_endpoint(self, ubn: str, endpoint_id: str) -> bool: ...
    def add_delivery(
        self, ubn: str, delivery: dict[str, Any], *, created: datetime, due: datetime
    ) -> dict[str, Any] | None: ...
    def deliveries(
        self, ubn: str, endpoint_id: str, *, limit: int, start: dict[str, Any] | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]: ...
    def due(self, now: datetime, limit: int = 50) -> list[dict[str, Any]]: ...
    def claim(self, delivery: dict[str, Any], until: datetime) -> bool: ...
    def record(
        self, delivery: dict[str, Any], attempt: dict[str, Any], *, status: str, due: datetime | None
    ) -> None: ...
    def stop(self, delivery: dict[str, Any], status: str) -> None: ...


class EventBodies(Protocol):
    def body(self, ubn: str, event_id: str) -> str | None: ...
    def event(self, ubn: str, event_id: str) -> Event | None: ...
    def recent(
        self, ubn: str, *, limit: int = 50, start: dict[str, Any] | None = None, event_type: str | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]: ...


class Answer(Protocol):
    @property
    def status(self) -> int | None: ...
    @property
    def latency_ms(self) -> int: ...
    @property
    def snippet(self) -> str: ...
    @property
    def error(self) -> str | None: ...


class Sender(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer: ...


class Cursors(Protocol):
    def encode(self, owner: str, last_key: Mapping[str, Any] | None) -> str | None: ...
    def decode(self, owner: str, cursor: str | None) -> dict[str, Any] | None: ...


SecretFor = Callable[[str, str, int], str]


def endpoint_not_found() -> NotFound:
    return NotFound("WEBHOOK_ENDPOINT_NOT_FOUND", "No such webhook endpoint", "查無此 Webhook 端點")


def event_not_found() -> NotFound:
    return NotFound("EVENT_NOT_FOUND", "No such event", "查無此事件")


def check_types(values: Sequence[str], field: str = "event_types") -> list[str]:
    chosen = list(dict.fromkeys(values))
    if not chosen:
        raise InvalidInput(
            "NO_EVENT_TYPES",
            'Choose at least one event type (or "*" for all)',
            "請至少選擇一種事件類型（或 * 代表全部）",
            field,
        )
    for index, value in enumerate(chosen):
        if value != "*" and value not in EVENT_TYPES:
            raise InvalidInput(
                "UNKNOWN_EVENT_TYPE",
                f"No event type {value[:60]!r}; the types are: {', '.join(EVENT_TYPES)}",
                f"無此事件類型 {value[:60]!r}；可用類型：{'、'.join(EVENT_TYPES)}",
                f"{field}[{index}]",
            )
    return chosen


def takes(endpoint: Mapping[str, Any], event_type: str) -> bool:
    types = endpoint.get("event_types") or []
    return bool(endpoint.get("enabled")) and ("*" in types or event_type in types)


def secrets_in_force(endpoint: Mapping[str, Any], now: datetime, secret_for: SecretFor) -> list[str]:
    """The secrets that sign now: the current generation's, and the previous one until its overlap ends."""
    ubn, endpoint_id = str(endpoint["ubn"]), str(endpoint["id"])
    found = [secret_for(ubn, endpoint_id, int(endpoint["generation"]))]
    until = endpoint.get("previous_until")
    if until and datetime.fromisoformat(str(until)) > now and endpoint.get("previous_generation") is not None:
        found.append(secret_for(ubn, endpoint_id, int(endpoint["previous_generation"])))
    return found


class WebhookService:
    def __init__(
        self,
        *,
        store: WebhookStore,
        events: EventBodies,
        clock: Clock,
        secret_for: SecretFor,
        cursors: Cursors,
        local_stage: bool,
    ) -> None:
        self._store = store
        self._events = events
        self._clock = clock
        self._secret_for = secret_for
        self._cursors = cursors
        self._local = local_stage

    def create(
        self, ubn: str, url: str, event_types: Sequence[str], description: str | None
    ) -> tuple[dict[str, Any], str]:
        """The new endpoint and its secret (shown this once)."""
        if len(self._store.endpoints(ubn)) >= MAX_ENDPOINTS:
            raise InvalidInput(
                "TOO_MANY_ENDPOINTS",
                f"A merchant has at most {MAX_ENDPOINTS} webhook endpoints",
                f"每個營業人最多 {MAX_ENDPOINTS} 個 Webhook 端點",
                "url",
            )
        now = self._clock.now()
        endpoint = {
            "id": "we_" + random_ids.token_hex(8),
            "url": check_url(url, local_stage=self._local),
            "description": description,
            "event_types": check_types(event_types),
            "enabled": True,
            "generation": 1,
            "created_at": now.isoformat(),
            "updated_at": now.isoformat(),
        }
        self._store.add_endpoint(ubn, endpoint)
        return {"ubn": ubn, **endpoint}, self._secret_for(ubn, str(endpoint["id"]), 1)

    def endpoints(self, ubn: str) -> list[dict[str, Any]]:
        return self._store.endpoints(ubn)

    def get(self, ubn: str, endpoint_id: str) -> dict[str, Any]:
        wellformed = endpoint_id.startswith("we_") and len(endpoint_id) < 40
        found = self._store.endpoint(ubn, endpoint_id) if wellformed else None
        if found is None:
            raise endpoint_not_found()
        return found

    def change(self, ubn: str, endpoint_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        self.get(ubn, endpoint_id)
        fields: dict[str, Any] = {"updated_at": self._clock.now().isoformat()}
        remove: tuple[str, ...] = ()
        if changes.get("url") is not None:
            fields["url"] = check_url(str(changes["url"]), local_stage=self._local)
        if changes.get("event_types") is not None:
            fields["event_types"] = check_types(changes["event_types"])
        if "description" in changes:
            fields["description"] = changes["description"]
        if changes.get("enabled") is not None:
            fields["enabled"] = bool(changes["enabled"])
            if changes["enabled"]:
                # Turned back on: its failures so far no longer count towards disabling it again.
                remove = ("failing_since", "disabled_at", "disabled_reason")
        updated = self._store.change_endpoint(ubn, endpoint_id, fields, remove)
        if updated is None:
            raise endpoint_not_found()
        return updated

    def rotate(self, ubn: str, endpoint_id: str, overlap: timedelta) -> tuple[dict[str, Any], str]:
        if overlap < timedelta(0) or overlap > MAX_OVERLAP:
            raise InvalidInput(
                "INVALID_OVERLAP",
                "The overlap is 0 to 168 hours",
                "新舊密鑰並行時間須為 0 至 168 小時",
                "overlap_hours",
            )
        endpoint = self.get(ubn, endpoint_id)
        now = self._clock.now()
        generation = int(endpoint["generation"]) + 1
        updated = self._store.change_endpoint(
            ubn,
            endpoint_id,
            {
                "generation": generation,
                "previous_generation": generation - 1,
                "previous_until": (now + overlap).isoformat(),
                "updated_at": now.isoformat(),
            },
        )
        if updated is None:
            raise endpoint_not_found()
        return updated, self._secret_for(ubn, endpoint_id, generation)

    def delete(self, ubn: str, endpoint_id: str) -> None:
        self.get(ubn, endpoint_id)
        self._store.delete_endpoint(ubn, endpoint_id)

    def deliveries(
        self, ubn: str, endpoint_id: str, *, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        self.get(ubn, endpoint_id)
        owner = f"WEBHOOK#{ubn}#{endpoint_id}"
        items, last = self._store.deliveries(ubn, endpoint_id, limit=limit, start=self._cursors.decode(owner, cursor))
        return items, self._cursors.encode(owner, last)

    def events(
        self, ubn: str, *, limit: int, cursor: str | None, event_type: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """The merchant's events, newest first, as receivers get them (the envelope)."""
        if event_type is not None and event_type not in EVENT_TYPES:
            raise InvalidInput(
                "UNKNOWN_EVENT_TYPE",
                f"No event type {event_type[:60]!r}; the types are: {', '.join(EVENT_TYPES)}",
                f"無此事件類型 {event_type[:60]!r}；可用類型：{'、'.join(EVENT_TYPES)}",
                "type",
            )
        owner = f"EVENTS#{ubn}#{event_type or ''}"
        items, last = self._events.recent(
            ubn, limit=limit, start=self._cursors.decode(owner, cursor), event_type=event_type
        )
        return [json.loads(str(item["body"])) for item in items], self._cursors.encode(owner, last)

    def event(self, ubn: str, event_id: str) -> dict[str, Any]:
        body = self._events.body(ubn, event_id) if event_id.startswith("evt_") and len(event_id) < 64 else None
        if body is None:
            raise event_not_found()
        found: dict[str, Any] = json.loads(body)
        return found

    def replay(self, ubn: str, endpoint_id: str, event_id: str) -> dict[str, Any]:
        """Send one event to one endpoint again, now: a new delivery in the log, same event id."""
        endpoint = self.get(ubn, endpoint_id)
        event = self._events.event(ubn, event_id) if event_id.startswith("evt_") and len(event_id) < 64 else None
        if event is None:
            raise event_not_found()
        if not endpoint.get("enabled"):
            raise Conflict(
                "WEBHOOK_ENDPOINT_DISABLED",
                "The endpoint is disabled: enable it, then replay",
                "此端點已停用：請先啟用再重送",
            )
        now = self._clock.now()
        delivery = {"endpoint_id": endpoint["id"], "event_id": event.id, "event_type": event.type, "replay": True}
        added = self._store.add_delivery(ubn, delivery, created=now, due=now)
        if added is None:  # the same event replayed twice in one microsecond
            raise InvalidInput("REPLAY_PENDING", "This replay is already queued", "此事件的重送已排入佇列", "event_id")
        return added


class WebhookSubscriber:
    def __init__(self, *, store: WebhookStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def on_event(self, event: Event) -> None:
        now = self._clock.now()
        for endpoint in self._store.endpoints(event.ubn):
            if takes(endpoint, event.type):
                delivery = {"endpoint_id": endpoint["id"], "event_id": event.id, "event_type": event.type}
                self._store.add_delivery(event.ubn, delivery, created=event.created, due=now)


class WebhookDispatcher:
    def __init__(
        self,
        *,
        store: WebhookStore,
        events: EventBodies,
        sender: Sender,
        clock: Clock,
        secret_for: SecretFor,
        notices: Notices | None = None,
    ) -> None:
        self._store = store
        self._events = events
        self._sender = sender
        self._clock = clock
        self._secret_for = secret_for
        self._notices = notices

    def run_due(self, deadline: float | None = None) -> dict[str, int]:
        """Send every due delivery until ``deadline`` (``time.monotonic()``); counts by outcome."""
        report = {"succeeded": 0, "retrying": 0, "failed": 0, "stopped": 0}
        while deadline is None or time.monotonic() < deadline:
            due = self._store.due(self._clock.now())
            if not due:
                break
            sent = 0
            for delivery in due:
                if deadline is not None and time.monotonic() >= deadline:
                    break
                outcome = self._attempt(delivery)
                if outcome:
                    report[outcome] += 1
                    sent += 1
            if not sent:
                break
        return report

    def _attempt(self, delivery: dict[str, Any]) -> str | None:
        now = self._clock.now()
        if not self._store.claim(delivery, now + CLAIM):
            return None  # another dispatcher has it
        ubn, endpoint_id = str(delivery["ubn"]), str(delivery["endpoint_id"])
        endpoint = self._store.endpoint(ubn, endpoint_id)
        if endpoint is None or not endpoint.get("enabled"):
            self._store.stop(delivery, "endpoint_deleted" if endpoint is None else "endpoint_disabled")
            return "stopped"
        body = self._events.body(ubn, str(delivery["event_id"]))
        if body is None:
            self._store.stop(delivery, "event_missing")
            return "stopped"
        stamp = int(now.timestamp())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            EVENT_ID_HEADER: str(delivery["event_id"]),
            EVENT_TYPE_HEADER: str(delivery["event_type"]),
            SIGNATURE_HEADER: signature_header(secrets_in_force(endpoint, now, self._secret_for), stamp, body),
        }
        answer = self._sender.post(str(endpoint["url"]), body.encode(), headers)
        attempt = {
            "at": now.isoformat(),
            "status_code": answer.status,
            "latency_ms": answer.latency_ms,
            "response": answer.snippet,
            "error": answer.error,
        }
        if answer.status is not None and 200 <= answer.status < 300:
            self._store.record(delivery, attempt, status="succeeded", due=None)
            self._store.change_endpoint(
                ubn, endpoint_id, {"last_success_at": now.isoformat()}, remove=("failing_since",)
            )
            return "succeeded"
        return self._failed(delivery, endpoint, attempt, now)

    def _failed(
        self, delivery: dict[str, Any], endpoint: dict[str, Any], attempt: dict[str, Any], now: datetime
    ) -> str:
        ubn, endpoint_id = str(delivery["ubn"]), str(delivery["endpoint_id"])
        failures = int(delivery.get("attempt_count") or 0) + 1
        created = datetime.fromisoformat(str(delivery["created_at"]))
        marked = self._store.failing(ubn, endpoint_id, now) or endpoint
        since = datetime.fromisoformat(str(marked["failing_since"])) if marked.get("failing_since") else None
        if should_disable(since, now):
            self._store.record(delivery, attempt, status="failed", due=None)
            if self._store.disable(ubn, endpoint_id, now, "failed for 24 hours"):
                self._tell_disabled(endpoint, now)
            return "failed"
        if now - created >= GIVE_UP_AFTER:
            self._store.record(delivery, attempt, status="failed", due=None)
            return "failed"
        self._store.record(delivery, attempt, status="retrying", due=next_attempt(failures, now))
        return "retrying"

    def _tell_disabled(self, endpoint: Mapping[str, Any], now: datetime) -> None:
        logger.warning("webhook endpoint disabled", extra={"ubn": endpoint["ubn"], "endpoint": endpoint["id"]})
        if self._notices is None:
            return
        url = str(endpoint["url"])
        self._notices.notify(
            Notice(
                str(endpoint["ubn"]),
                kinds.WEBHOOK_DISABLED,
                f"webhook_disabled:{endpoint['id']}:{now.isoformat()}",
                "Webhook 端點已停用",
                "Webhook endpoint disabled",
                f"端點 {url} 已連續 24 小時無法接收事件，平台已停用它。修復後請至設定重新啟用，並可重送事件。",
                f"The endpoint {url} failed to take events for 24 hours and was disabled. Fix it, enable it "
                "again in the console, and replay the events it missed.",
                f"/console/settings/webhooks/{endpoint['id']}",
                {"endpoint_id": endpoint["id"], "url": url},
            )
        )

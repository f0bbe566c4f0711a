"""Signed outgoing webhooks: the merchant's endpoints, their delivery log and replays, the events
themselves, and the schedule that sends what is due. How a receiver checks a signature:
docs/webhooks.md."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalice.app import Blueprint, CloudWatchEvent, Rate
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.api import deps
from chalicelib.api.routing import operation
from chalicelib.domain.events import EVENT_TYPES
from chalicelib.services.principal import Principal

bp = Blueprint(__name__)
TAG = "Webhooks"
READ = "webhooks:read"
WRITE = "webhooks:write"
DISPATCH_BUDGET_S = 50.0
GUIDE = "Events, retries, disabling and replays: docs/webhooks.md."

_ENDPOINT: dict[str, Any] = {
    "id": "we_3f9a1c2b7d4e5f60",
    "url": "https://erp.example.com.tw/einvoice/events",
    "description": "ERP 總帳",
    "event_types": ["invoice.issued", "invoice.cancelled", "allowance.issued"],
    "enabled": True,
    "generation": 2,
    "previous_secret_until": "2026-12-08T10:00:00+08:00",
    "created_at": "2026-12-01T09:00:00+08:00",
    "updated_at": "2026-12-07T10:00:00+08:00",
    "failing_since": None,
    "last_success_at": "2026-12-07T10:02:11+08:00",
    "last_failure_at": None,
    "disabled_at": None,
    "disabled_reason": None,
}
_SECRET = "whsec_Jc9m0pXk2yq8Wn4t1bVfR6sLhD3eZaQuGo7iTxYw5E0"  # noqa: S105 - an example
_EVENT: dict[str, Any] = {
    "id": "evt_8c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f",
    "type": "invoice.issued",
    "created": "2026-12-07T10:02:10+08:00",
    "merchant": "24549210",
    "data": {"object": {"invoice_number": "AB12345678", "total_amount": "1050", "buyer_ubn": "04595257"}},
}
_ATTEMPT: dict[str, Any] = {
    "at": "2026-12-07T10:02:11+08:00",
    "status_code": 200,
    "latency_ms": 84,
    "response": '{"ok":true}',
    "error": None,
}
_DELIVERY: dict[str, Any] = {
    "delivery_id": "we_3f9a1c2b7d4e5f60#2026-12-07T02:02:10.000000Z#evt_8c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f",
    "event_id": _EVENT["id"],
    "event_type": "invoice.issued",
    "status": "succeeded",
    "replay": False,
    "attempt_count": 1,
    "created_at": "2026-12-07T10:02:10+08:00",
    "next_attempt_at": None,
    "last_attempt_at": "2026-12-07T10:02:11+08:00",
    "attempts": [_ATTEMPT],
}


def _event_types_field(default: Any = ...) -> Any:
    return Field(
        default,
        min_length=1,
        max_length=len(EVENT_TYPES) + 1,
        description='The event types to send, or ["*"] for all: ' + ", ".join(EVENT_TYPES),
    )


class EndpointCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://erp.example.com.tw/einvoice/events",
                    "event_types": ["invoice.issued", "invoice.cancelled"],
                    "description": "ERP 總帳",
                }
            ]
        },
    )

    url: str = Field(
        max_length=2000, description="HTTPS (http:// only to localhost on the local stage); no private addresses"
    )
    event_types: list[str] = _event_types_field()
    description: str | None = Field(default=None, max_length=200)


class EndpointUpdate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"enabled": True}, {"event_types": ["*"], "description": "全部事件"}]},
    )

    url: str | None = Field(default=None, max_length=2000)
    event_types: list[str] | None = _event_types_field(None)
    description: str | None = Field(default=None, max_length=200)
    enabled: bool | None = Field(
        default=None, description="Turn it off, or back on after it was disabled for failing (its count restarts)"
    )


class RotateSecret(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"overlap_hours": 24}]})

    overlap_hours: int = Field(
        default=24,
        ge=0,
        le=168,
        description="How long the old secret keeps signing alongside the new one (0: stop at once)",
    )


class EndpointView(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_ENDPOINT]})

    id: str
    url: str
    description: str | None
    event_types: list[str]
    enabled: bool
    generation: int = Field(description="The secret's generation: each rotation adds one")
    previous_secret_until: str | None = Field(
        description="Until then the previous secret signs too (a second v1= in the signature header)"
    )
    created_at: str
    updated_at: str
    failing_since: str | None = Field(description="First failed attempt since the last success")
    last_success_at: str | None
    last_failure_at: str | None
    disabled_at: str | None = Field(description="Set when the platform disabled it after 24 h of failures")
    disabled_reason: str | None


class EndpointWithSecret(EndpointView):
    model_config = ConfigDict(json_schema_extra={"examples": [{**_ENDPOINT, "secret": _SECRET}]})

    secret: str = Field(description="The signing secret, shown this once: keep it in the receiver's settings")


class EndpointList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_ENDPOINT]}]})

    items: list[EndpointView] = Field(description="Oldest first")


class AttemptView(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_ATTEMPT]})

    at: str
    status_code: int | None = Field(
        default=None, description="The receiver's HTTP status; null when there was no answer"
    )
    latency_ms: int
    response: str = Field(default="", description="The first 500 characters of the receiver's answer")
    error: str | None = Field(default=None, description="Why there was no answer (timeout, refused…)")


class DeliveryView(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_DELIVERY]})

    delivery_id: str
    event_id: str
    event_type: str
    status: str = Field(
        description="pending, retrying, succeeded, failed (gave up), endpoint_disabled or endpoint_deleted"
    )
    replay: bool
    attempt_count: int
    created_at: str
    next_attempt_at: str | None
    last_attempt_at: str | None
    attempts: list[AttemptView] = Field(description="Oldest first; the newest 50 are kept")


class DeliveryPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_DELIVERY], "next_cursor": None}]})

    items: list[DeliveryView] = Field(description="Newest first")
    next_cursor: str | None


class DeliveryQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=2000)


class EventQuery(DeliveryQuery):
    type: str | None = Field(default=None, max_length=40, description="Only events of this type")


class EventView(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_EVENT]})

    id: str = Field(description="The same on every delivery of this event: receivers deduplicate on it")
    type: str
    created: str
    merchant: str
    data: dict[str, Any] = Field(description="{object: the invoice, allowance, filing… as the API shows it}")


class EventPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_EVENT], "next_cursor": None}]})

    items: list[EventView] = Field(description="Newest first")
    next_cursor: str | None


def endpoint_view(item: dict[str, Any]) -> EndpointView:
    fields = {name: item.get(name) for name in EndpointView.model_fields}
    fields["previous_secret_until"] = item.get("previous_until")
    fields["description"] = item.get("description")
    return EndpointView.model_validate(fields)


def delivery_view(item: dict[str, Any]) -> DeliveryView:
    fields = {name: item.get(name) for name in DeliveryView.model_fields}
    fields["replay"] = bool(item.get("replay"))
    fields["attempt_count"] = int(item.get("attempt_count") or 0)
    fields["attempts"] = list(item.get("attempts") or [])
    return DeliveryView.model_validate(fields)


@operation(
    bp,
    "/v1/webhooks/endpoints",
    "POST",
    summary="Register an endpoint for signed event deliveries; the answer shows its secret once",
    description=GUIDE,
    tag=TAG,
    body=EndpointCreate,
    response=EndpointWithSecret,
    status=201,
    auth="merchant",
    scope=WRITE,
    errors=(400, 401, 403),
)
def create_endpoint(body: EndpointCreate, principal: Principal) -> EndpointWithSecret:
    endpoint, secret = deps.webhook_service().create(principal.ubn, body.url, body.event_types, body.description)
    return EndpointWithSecret(**endpoint_view(endpoint).model_dump(), secret=secret)


@operation(
    bp,
    "/v1/webhooks/endpoints",
    summary="The merchant's webhook endpoints",
    tag=TAG,
    response=EndpointList,
    auth="merchant",
    scope=READ,
    errors=(401, 403),
)
def list_endpoints(principal: Principal) -> EndpointList:
    return EndpointList(items=[endpoint_view(e) for e in deps.webhook_service().endpoints(principal.ubn)])


@operation(
    bp,
    "/v1/webhooks/endpoints/{endpoint_id}",
    summary="One webhook endpoint",
    tag=TAG,
    response=EndpointView,
    auth="merchant",
    scope=READ,
    errors=(401, 403, 404),
)
def get_endpoint(endpoint_id: str, principal: Principal) -> EndpointView:
    return endpoint_view(deps.webhook_service().get(principal.ubn, endpoint_id))


@operation(
    bp,
    "/v1/webhooks/endpoints/{endpoint_id}",
    "PATCH",
    summary="Change an endpoint's URL, event types or description, or turn it off and on",
    tag=TAG,
    body=EndpointUpdate,
    response=EndpointView,
    auth="merchant",
    scope=WRITE,
    errors=(400, 401, 403, 404),
)
def change_endpoint(endpoint_id: str, body: EndpointUpdate, principal: Principal) -> EndpointView:
    changes = body.model_dump(exclude_unset=True)
    return endpoint_view(deps.webhook_service().change(principal.ubn, endpoint_id, changes))


@operation(
    bp,
    "/v1/webhooks/endpoints/{endpoint_id}",
    "DELETE",
    summary="Delete an endpoint (its pending deliveries stop)",
    tag=TAG,
    status=204,
    auth="merchant",
    scope=WRITE,
    errors=(401, 403, 404),
)
def delete_endpoint(endpoint_id: str, principal: Principal) -> None:
    deps.webhook_service().delete(principal.ubn, endpoint_id)


@operation(
    bp,
    "/v1/webhooks/endpoints/{endpoint_id}/rotate-secret",
    "POST",
    summary="A new signing secret (shown once); the old one keeps signing alongside for the overlap",
    description=GUIDE,
    tag=TAG,
    body=RotateSecret,
    response=EndpointWithSecret,
    auth="merchant",
    scope=WRITE,
    errors=(400, 401, 403, 404),
)
def rotate_secret(endpoint_id: str, body: RotateSecret, principal: Principal) -> EndpointWithSecret:
    endpoint, secret = deps.webhook_service().rotate(principal.ubn, endpoint_id, timedelta(hours=body.overlap_hours))
    return EndpointWithSecret(**endpoint_view(endpoint).model_dump(), secret=secret)


@operation(
    bp,
    "/v1/webhooks/endpoints/{endpoint_id}/deliveries",
    summary="The endpoint's delivery log, newest first: every attempt's status, latency and answer",
    tag=TAG,
    query=DeliveryQuery,
    response=DeliveryPage,
    auth="merchant",
    scope=READ,
    errors=(400, 401, 403, 404),
)
def list_deliveries(endpoint_id: str, query: DeliveryQuery, principal: Principal) -> DeliveryPage:
    items, cursor = deps.webhook_service().deliveries(
        principal.ubn, endpoint_id, limit=query.limit, cursor=query.cursor
    )
    return DeliveryPage(items=[delivery_view(i) for i in items], next_cursor=cursor)


@operation(
    bp,
    "/v1/webhooks/endpoints/{endpoint_id}/events/{event_id}/replay",
    "POST",
    summary="Send one event to this endpoint again now (a new delivery, the same event id)",
    tag=TAG,
    response=DeliveryView,
    status=202,
    auth="merchant",
    scope=WRITE,
    errors=(400, 401, 403, 404, 409),
)
def replay_event(endpoint_id: str, event_id: str, principal: Principal) -> DeliveryView:
    service = deps.webhook_service()
    delivery = service.replay(principal.ubn, endpoint_id, event_id)
    return delivery_view(delivery)


@operation(
    bp,
    "/v1/events",
    summary="The merchant's events, newest first, exactly as webhook receivers get them",
    tag=TAG,
    query=EventQuery,
    response=EventPage,
    auth="merchant",
    scope=READ,
    errors=(400, 401, 403),
)
def list_events(query: EventQuery, principal: Principal) -> EventPage:
    items, cursor = deps.webhook_service().events(
        principal.ubn, limit=query.limit, cursor=query.cursor, event_type=query.type
    )
    return EventPage(items=[EventView.model_validate(i) for i in items], next_cursor=cursor)


@operation(
    bp,
    "/v1/events/{event_id}",
    summary="One event",
    tag=TAG,
    response=EventView,
    auth="merchant",
    scope=READ,
    errors=(401, 403, 404),
)
def get_event(event_id: str, principal: Principal) -> EventView:
    return EventView.model_validate(deps.webhook_service().event(principal.ubn, event_id))


@bp.schedule(
    Rate(1, unit=Rate.MINUTES),
    name="webhook_dispatch",
    description="Send the webhook deliveries that are due, retrying with backoff",
)
def scheduled_webhook_dispatch(event: CloudWatchEvent) -> None:
    del event
    import time

    deps.webhook_dispatcher().run_due(time.monotonic() + DISPATCH_BUDGET_S)

"""Outgoing webhooks in the console: register endpoints, see each one's delivery log, replay an
event, rotate the secret, turn an endpoint off and on, delete it.

Views call the service the JSON routes call (chalicelib/api/webhooks.py). A secret is shown on the
page that made it and never again, like an API key's.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.api import deps
from chalicelib.domain.errors import Conflict, DomainError, InvalidInput
from chalicelib.domain.events import EVENT_DESCRIPTIONS, EVENT_TYPES
from chalicelib.web.pages import PageContext, page
from chalicelib.web.rendering import taiwan_time

bp = Blueprint(__name__)
BASE = "/console/settings/webhooks"
SECTION = "webhooks"
LOG_SIZE = 20


_ENDPOINT_FIELDS = (
    "description",
    "failing_since",
    "last_success_at",
    "last_failure_at",
    "disabled_at",
    "disabled_reason",
    "previous_until",
)
_DELIVERY_FIELDS = ("next_attempt_at", "last_attempt_at", "replay", "attempt_count")
_ATTEMPT_FIELDS = ("status_code", "latency_ms", "response", "error")


def _filled(item: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """``item`` with the fields DynamoDB left out (it keeps no nulls) present as None."""
    return {**dict.fromkeys(names), **item}


def _endpoint(item: dict[str, Any]) -> dict[str, Any]:
    return _filled(item, _ENDPOINT_FIELDS)


def _delivery(item: dict[str, Any]) -> dict[str, Any]:
    shown = _filled(item, _DELIVERY_FIELDS)
    shown["attempts"] = [_filled(a, _ATTEMPT_FIELDS) for a in item.get("attempts") or []]
    return shown


def _types(ctx: PageContext) -> dict[str, str]:
    return {kind: ctx.t(*EVENT_DESCRIPTIONS[kind]) for kind in EVENT_TYPES}


def _chosen(ctx: PageContext) -> list[str]:
    return ["*"] if ctx.form.get("all_types") == "1" else ctx.form.all("event_types")


def _errors(ctx: PageContext, refused: DomainError) -> dict[str, str]:
    errors = ctx.field_errors(refused)
    # event_types[0] names one box of the group: the group shows it
    return {("event_types" if name.startswith("event_types") else name): text for name, text in errors.items()}


def _list(ctx: PageContext, status: int = 200, errors: dict[str, str] | None = None) -> Response:
    return ctx.render(
        "settings/webhooks.html",
        status=status,
        section=SECTION,
        endpoints=[_endpoint(e) for e in deps.webhook_service().endpoints(ctx.ubn)],
        types=_types(ctx),
        values={"url": ctx.form.get("url"), "description": ctx.form.get("description")},
        chosen=_chosen(ctx) if ctx.request.method == "POST" else [],
        errors=errors or {},
        when=taiwan_time,
        done=ctx.query.get("done", ""),
    )


@page(bp, BASE, ("GET", "POST"), auth="merchant")
def endpoints_page(ctx: PageContext) -> Response:
    if ctx.request.method == "GET":
        return _list(ctx)
    try:
        endpoint, secret = deps.webhook_service().create(
            ctx.ubn, ctx.form.get("url").strip(), _chosen(ctx), ctx.form.get("description").strip() or None
        )
    except DomainError as refused:
        return _list(ctx, 422, _errors(ctx, refused))
    return _secret_page(ctx, endpoint, secret, rotated=False)


def _secret_page(ctx: PageContext, endpoint: dict[str, Any], secret: str, *, rotated: bool) -> Response:
    return ctx.render(
        "settings/webhook_endpoint_secret.html",
        section=SECTION,
        endpoint=endpoint,
        secret=secret,
        rotated=rotated,
        when=taiwan_time,
    )


def _detail(ctx: PageContext, endpoint_id: str, status: int = 200, errors: dict[str, str] | None = None) -> Response:
    service = deps.webhook_service()
    endpoint = service.get(ctx.ubn, endpoint_id)  # 404 for another merchant's
    cursor = ctx.query.get("cursor") or None
    try:
        deliveries, next_cursor = service.deliveries(ctx.ubn, endpoint_id, limit=LOG_SIZE, cursor=cursor)
    except InvalidInput:  # a cursor from another page: start from the newest
        deliveries, next_cursor = service.deliveries(ctx.ubn, endpoint_id, limit=LOG_SIZE, cursor=None)
    posted = ctx.request.method == "POST"
    return ctx.render(
        "settings/webhook_endpoint.html",
        status=status,
        section=SECTION,
        endpoint=_endpoint(endpoint),
        deliveries=[_delivery(d) for d in deliveries],
        next_cursor=next_cursor,
        types=_types(ctx),
        values={
            "url": ctx.form.get("url") if posted else endpoint["url"],
            "description": ctx.form.get("description") if posted else (endpoint.get("description") or ""),
        },
        chosen=_chosen(ctx) if posted else list(endpoint.get("event_types") or []),
        errors=errors or {},
        when=taiwan_time,
        done=ctx.query.get("done", ""),
    )


@page(bp, BASE + "/{endpoint_id}", ("GET", "POST"), auth="merchant")
def endpoint_page(ctx: PageContext, endpoint_id: str) -> Response:
    if ctx.request.method == "GET":
        return _detail(ctx, endpoint_id)
    changes = {
        "url": ctx.form.get("url").strip(),
        "description": ctx.form.get("description").strip() or None,
        "event_types": _chosen(ctx),
    }
    try:
        deps.webhook_service().change(ctx.ubn, endpoint_id, changes)
    except InvalidInput as refused:
        return _detail(ctx, endpoint_id, 422, _errors(ctx, refused))
    return ctx.redirect(f"{BASE}/{endpoint_id}?done=saved")


@page(bp, BASE + "/{endpoint_id}/enabled", ("POST",), auth="merchant")
def switch_endpoint(ctx: PageContext, endpoint_id: str) -> Response:
    on = ctx.form.get("enabled") == "1"
    deps.webhook_service().change(ctx.ubn, endpoint_id, {"enabled": on})
    return ctx.redirect(f"{BASE}/{endpoint_id}?done={'enabled' if on else 'disabled'}")


@page(bp, BASE + "/{endpoint_id}/rotate", ("POST",), auth="merchant")
def rotate_secret(ctx: PageContext, endpoint_id: str) -> Response:
    raw = ctx.form.get("overlap_hours").strip() or "24"
    try:
        hours = int(raw)
    except ValueError:
        hours = -1  # refused below by the service's own rule and message
    try:
        endpoint, secret = deps.webhook_service().rotate(ctx.ubn, endpoint_id, timedelta(hours=hours))
    except InvalidInput as refused:
        return _detail(ctx, endpoint_id, 422, _errors(ctx, refused))
    return _secret_page(ctx, endpoint, secret, rotated=True)


@page(bp, BASE + "/{endpoint_id}/delete", ("GET", "POST"), auth="merchant")
def delete_endpoint(ctx: PageContext, endpoint_id: str) -> Response:
    """A page that asks first, so deleting needs no script: the POST is the confirmation."""
    service = deps.webhook_service()
    endpoint = service.get(ctx.ubn, endpoint_id)
    if ctx.request.method == "POST":
        service.delete(ctx.ubn, endpoint_id)
        return ctx.redirect(f"{BASE}?done=deleted")
    return ctx.render("settings/webhook_endpoint_delete.html", section=SECTION, endpoint=endpoint)


@page(bp, BASE + "/{endpoint_id}/replay", ("POST",), auth="merchant")
def replay(ctx: PageContext, endpoint_id: str) -> Response:
    try:
        deps.webhook_service().replay(ctx.ubn, endpoint_id, ctx.form.get("event_id").strip())
    except (InvalidInput, Conflict) as refused:
        return _detail(ctx, endpoint_id, 422, _errors(ctx, refused))
    return ctx.redirect(f"{BASE}/{endpoint_id}?done=replayed")

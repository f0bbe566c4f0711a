"""System announcements (系統公告) in the console: staff write, schedule, edit and withdraw them;
a merchant lists its own, opens one and marks it read.

Views call the service the JSON routes call (chalicelib/api/announcements.py) with the same pydantic
models, so a form is refused exactly as the API refuses it, next to the field it names. Times are
typed as Taiwan time (UTC+8), the time merchants read the notices in.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from chalice.app import Blueprint, Response
from pydantic import ValidationError

from chalicelib.api.announcements import (
    AnnouncementChanges,
    AnnouncementRequest,
    announcement_service,
    domain_fields,
)
from chalicelib.domain.announcement import Announcement, Kind, Status
from chalicelib.domain.errors import DomainError, InvalidInput
from chalicelib.domain.period import TAIWAN_TZ
from chalicelib.web.pages import PageContext, page
from chalicelib.web.rendering import taiwan_time

bp = Blueprint(__name__)

TEXT_FIELDS = ("title_zh", "title_en", "body_zh", "body_en")
TIME_FIELDS = ("publish_at", "expire_at", "starts_at", "ends_at")
_LOCAL_INPUT = "%Y-%m-%dT%H:%M"


def _kind_options(ctx: PageContext) -> list[tuple[str, str]]:
    return [
        (Kind.POLICY.value, ctx.t("稅務政策", "Tax policy")),
        (Kind.MAINTENANCE.value, ctx.t("系統維護", "Maintenance")),
        (Kind.SYSTEM.value, ctx.t("系統公告", "System notice")),
    ]


def status_label(ctx: PageContext, status: Status) -> str:
    return {
        Status.DRAFT: ctx.t("草稿", "Draft"),
        Status.SCHEDULED: ctx.t("已排程", "Scheduled"),
        Status.PUBLISHED: ctx.t("已發布", "Published"),
        Status.EXPIRED: ctx.t("已下架", "Expired"),
        Status.WITHDRAWN: ctx.t("已撤回", "Withdrawn"),
    }[status]


def _local_time(name: str, raw: str) -> str | None:
    """A ``datetime-local`` input (no zone) as an ISO time in Taiwan; empty stays empty."""
    if not raw:
        return None
    try:
        return datetime.strptime(raw, _LOCAL_INPUT).replace(tzinfo=TAIWAN_TZ).isoformat()
    except ValueError:
        raise InvalidInput(
            "INVALID_DATETIME",
            f"{name} must be a date and time, e.g. 2026-12-20T09:00.",
            f"{name} 須為日期與時間，例如 2026-12-20T09:00。",
            name,
        ) from None


def _form_payload(ctx: PageContext) -> dict[str, Any]:
    payload: dict[str, Any] = {"kind": ctx.form.get("kind") or ""}
    for name in TEXT_FIELDS:
        payload[name] = ctx.form.get(name) or ""
    for name in TIME_FIELDS:
        payload[name] = _local_time(name, (ctx.form.get(name) or "").strip())
    ubns = [u for u in re.split(r"[\s,，、]+", ctx.form.get("audience") or "") if u]
    payload["audience"] = ubns or "all"
    return payload


def _form_values(ctx: PageContext) -> dict[str, str]:
    names = ("kind", *TEXT_FIELDS, *TIME_FIELDS, "audience")
    return {name: ctx.form.get(name) or "" for name in names}


def _values_of(a: Announcement) -> dict[str, str]:
    values = {"kind": a.kind.value, **{n: getattr(a, n) for n in TEXT_FIELDS}, "audience": " ".join(a.audience)}
    for name in TIME_FIELDS:
        moment: datetime | None = getattr(a, name)
        values[name] = moment.astimezone(TAIWAN_TZ).strftime(_LOCAL_INPUT) if moment else ""
    return values


def _errors(ctx: PageContext, exc: DomainError | ValidationError) -> dict[str, str]:
    # "audience[0]" and the like are shown at the one audience input
    return {re.sub(r"\[\d+\]$", "", name): text for name, text in ctx.field_errors(exc).items()}


def _staff_render(ctx: PageContext, template: str, status: int = 200, **variables: Any) -> Response:
    return ctx.render(
        template,
        status=status,
        when=taiwan_time,
        kinds=_kind_options(ctx),
        status_label=lambda s: status_label(ctx, s),
        **variables,
    )


@page(bp, "/staff/announcements", ("GET", "POST"), auth="staff")
def staff_list(ctx: PageContext) -> Response:
    service = announcement_service()
    errors: dict[str, str] = {}
    values: dict[str, str] = {"kind": Kind.POLICY.value}
    if ctx.request.method == "POST":
        values = _form_values(ctx)
        try:
            body = AnnouncementRequest.model_validate(_form_payload(ctx))
            service.create(domain_fields(body.model_dump()), ctx.actor, ctx.me.owner)
        except (ValidationError, DomainError) as exc:
            errors = _errors(ctx, exc)
        else:
            return ctx.redirect("/staff/announcements?created=1")
    now = service.now()
    return _staff_render(
        ctx,
        "announcements/staff_list.html",
        status=422 if errors else 200,
        items=[(a, a.status(now)) for a in service.everything()],
        errors=errors,
        values=values,
        created=ctx.query.get("created") == "1",
    )


@page(bp, "/staff/announcements/{announcement_id}", ("GET", "POST"), auth="staff")
def staff_edit(ctx: PageContext, announcement_id: str) -> Response:
    service = announcement_service()
    current = service.get(announcement_id)
    errors: dict[str, str] = {}
    values = _values_of(current)
    if ctx.request.method == "POST":
        values = _form_values(ctx)
        try:
            changes = AnnouncementChanges.model_validate(_form_payload(ctx))
            service.update(announcement_id, domain_fields(changes.model_dump()), ctx.actor, ctx.me.owner)
        except (ValidationError, DomainError) as exc:
            errors = _errors(ctx, exc)
        else:
            return ctx.redirect(f"/staff/announcements/{announcement_id}?saved=1")
    return _staff_render(
        ctx,
        "announcements/staff_edit.html",
        status=422 if errors else 200,
        item=current,
        state=current.status(service.now()),
        errors=errors,
        values=values,
        saved=ctx.query.get("saved") == "1",
    )


@page(bp, "/staff/announcements/{announcement_id}/withdraw", ("POST",), auth="staff")
def staff_withdraw(ctx: PageContext, announcement_id: str) -> Response:
    announcement_service().withdraw(announcement_id, ctx.actor, ctx.me.owner)
    return ctx.redirect(f"/staff/announcements/{announcement_id}?saved=1")


@page(bp, "/console/announcements", auth="merchant")
def merchant_list(ctx: PageContext) -> Response:
    entries = announcement_service().for_merchant(ctx.ubn)
    return ctx.render("announcements/list.html", entries=entries, when=taiwan_time, kinds=dict(_kind_options(ctx)))


@page(bp, "/console/announcements/{announcement_id}", ("GET", "POST"), auth="merchant")
def merchant_detail(ctx: PageContext, announcement_id: str) -> Response:
    service = announcement_service()
    if ctx.request.method == "POST":
        service.mark_read(ctx.ubn, announcement_id)
        return ctx.redirect(f"/console/announcements/{announcement_id}")
    item, read = service.one_for_merchant(ctx.ubn, announcement_id)
    return ctx.render(
        "announcements/detail.html", item=item, read=read, when=taiwan_time, kinds=dict(_kind_options(ctx))
    )

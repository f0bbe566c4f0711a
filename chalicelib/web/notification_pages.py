"""The merchant's notification inbox (通知) in the console: list, filter, open, mark read.

Views call the notifier the JSON routes call (chalicelib/api/notifications.py). Opening a notice
marks it read, as a mail client does; the list can be narrowed to unread ones or to one kind.
"""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.api import deps
from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.notifications import NOTICE_KINDS
from chalicelib.web.pages import PageContext, page
from chalicelib.web.rendering import taiwan_time

bp = Blueprint(__name__)
PAGE_SIZE = 25


def _kinds(ctx: PageContext) -> dict[str, str]:
    return {kind: ctx.t(zh, en) for kind, (zh, en) in NOTICE_KINDS.items()}


@page(bp, "/console/notifications", auth="merchant")
def inbox(ctx: PageContext) -> Response:
    unread_only = ctx.query.get("unread") == "1"
    kind = ctx.query.get("kind") or None
    error = None
    try:
        found = deps.notices().page(
            ctx.ubn, limit=PAGE_SIZE, cursor=ctx.query.get("cursor") or None, unread_only=unread_only, kind=kind
        )
    except InvalidInput as refused:
        error = ctx.t(refused.message_zh, refused.message)
        found = deps.notices().page(ctx.ubn, limit=PAGE_SIZE, cursor=None)
        kind = None
    return ctx.render(
        "notifications/list.html",
        page=found,
        unread_only=unread_only,
        kind=kind,
        kinds=_kinds(ctx),
        when=taiwan_time,
        error=error,
        done=ctx.query.get("done", ""),
    )


@page(bp, "/console/notifications/read-all", ("POST",), auth="merchant")
def read_all(ctx: PageContext) -> Response:
    deps.notices().mark_all_read(ctx.ubn)
    return ctx.redirect("/console/notifications?done=read-all")


@page(bp, "/console/notifications/{notification_id}", auth="merchant")
def detail(ctx: PageContext, notification_id: str) -> Response:
    item = deps.notices().mark_read(ctx.ubn, notification_id)  # 404 for another merchant's
    return ctx.render("notifications/detail.html", item=item, kinds=_kinds(ctx), when=taiwan_time)

"""Static files of the console (vendored htmx, our stylesheet and scripts) and the site's root."""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib import resources

from chalice.app import Blueprint, Response

from chalicelib.web.pages import PageContext, page

bp = Blueprint(__name__)

_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,80}")


def _console_page(fn: Callable[..., Response]) -> Callable[..., Response]:
    fn.is_console_page = True  # type: ignore[attr-defined]  # left out of the API's OpenAPI
    return fn


@bp.route("/static/{name}", methods=["GET"])
@_console_page
def static_file(name: str) -> Response:
    suffix = name[name.rfind(".") :] if "." in name else ""
    folder = resources.files("chalicelib.web").joinpath("static")
    if not _NAME.fullmatch(name) or suffix not in _TYPES or not folder.joinpath(name).is_file():
        return Response(body="Not found", status_code=404, headers={"Content-Type": "text/plain; charset=utf-8"})
    return Response(
        body=folder.joinpath(name).read_text(encoding="utf-8"),
        status_code=200,
        headers={
            "Content-Type": _TYPES[suffix],
            # URLs carry the file's hash (?v=), so a changed file is a new URL.
            "Cache-Control": "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
        },
    )


@page(bp, "/", auth="public")
def root(ctx: PageContext) -> Response:
    if ctx.principal is not None and ctx.principal.role.value == "staff":
        return ctx.redirect("/staff")
    return ctx.redirect("/console" if ctx.principal is not None else "/login")

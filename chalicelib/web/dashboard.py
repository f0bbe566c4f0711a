"""個人專區: the merchant's dashboard."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.web.pages import PageContext, page

bp = Blueprint(__name__)


@page(bp, "/console", auth="merchant")
def dashboard(ctx: PageContext) -> Response:
    return ctx.render("dashboard.html")

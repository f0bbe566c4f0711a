"""個人專區 (the merchant's dashboard) and the staff home page."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.web.pages import PageContext, page

bp = Blueprint(__name__)


@page(bp, "/console", auth="merchant")
def dashboard(ctx: PageContext) -> Response:
    return ctx.render("dashboard.html")


@page(bp, "/staff", auth="staff")
def staff_home(ctx: PageContext) -> Response:
    return ctx.render("staff_home.html")

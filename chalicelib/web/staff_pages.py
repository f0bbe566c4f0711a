"""The tax office's (稽徵機關) screens."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.web.pages import PageContext, page

bp = Blueprint(__name__)


@page(bp, "/staff", auth="staff")
def staff_home(ctx: PageContext) -> Response:
    return ctx.render("staff_home.html")

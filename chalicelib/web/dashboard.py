"""個人專區: the merchant's dashboard. Who the merchant is, the current period (期別) and its
deadlines, the numbers left per issuing channel, the latest invoices, what is missing before
the first invoice can be issued, and winning invoices (中獎) whose proof is still to deliver."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.api import deps
from chalicelib.api.announcements import announcement_service
from chalicelib.domain.working_days import blank_number_deadline, filing_deadline
from chalicelib.services.invoice_query import InvoiceQuery, find_invoices
from chalicelib.services.merchant_profile import MerchantView, view
from chalicelib.web.pages import PageContext, page
from chalicelib.web.track_summary import Stock, channel_label, current_period, period_title, stock_of

bp = Blueprint(__name__)

RECENT_INVOICES = 5


LATEST_ANNOUNCEMENTS = 3


def _announcements(ctx: PageContext) -> list[dict[str, Any]]:
    """The merchant's latest unread announcements (系統公告), each with its page."""
    unread = [a for a, read in announcement_service().for_merchant(ctx.ubn) if not read]
    return [
        {"title": a.title_en if ctx.lang == "en" else a.title_zh, "href": f"/console/announcements/{a.id}"}
        for a in unread[:LATEST_ANNOUNCEMENTS]
    ]


def _winners_to_deliver(ctx: PageContext) -> list[tuple[str, int]]:
    """(period, how many) of the merchant's winning proofs still to deliver, latest period first."""
    counted: dict[str, int] = {}
    for found in deps.lottery_service().to_deliver(ctx.ubn):
        counted[found.period] = counted.get(found.period, 0) + 1
    return sorted(counted.items(), reverse=True)


def _missing_setup(ctx: PageContext, profile: MerchantView, stock: Stock) -> list[tuple[str, str]]:
    """What stops the merchant from issuing online, each with the page that fixes it."""
    missing = []
    if not profile.address:
        missing.append((ctx.t("設定營業地址", "Set your business address"), "/console/settings/profile"))
    if not profile.settings.qr_aes_key_set:
        missing.append((ctx.t("設定 QR Code 加密金鑰", "Set your QR-code AES key"), "/console/settings/qr-key"))
    if not any(c.channel == "online" and c.remaining for c in stock.by_channel):
        missing.append((ctx.t("為線上開立指派字軌", "Assign track booklets to online issuing"), "/console/tracks"))
    return missing


@page(bp, "/console", auth="merchant")
def dashboard(ctx: PageContext) -> Response:
    profile = view(deps.profile_service().get(ctx.ubn))
    period = current_period()
    stock = stock_of(deps.track_service().overview(ctx.ubn, period))
    recent = find_invoices(
        ctx.ubn, InvoiceQuery(limit=RECENT_INVOICES), deps.cursor_codec(), deps.invoice_search()
    ).items
    calendar = deps.working_calendar()
    return ctx.render(
        "dashboard.html",
        profile=profile,
        period=period,
        # The deadlines the merchant is held to: moved off a Saturday, Sunday or holiday.
        filing_due=filing_deadline(period, calendar),
        blank_due=blank_number_deadline(period, calendar),
        period_text=period_title(period, ctx.lang),
        stock=stock,
        low_stock=profile.settings.low_stock_threshold,
        channel_label=lambda channel: channel_label(channel, ctx.t),
        recent=recent,
        announcements=_announcements(ctx),
        unread_notices_count=deps.notices().unread(ctx.ubn),
        missing=_missing_setup(ctx, profile, stock),
        winners_to_deliver=_winners_to_deliver(ctx),
    )

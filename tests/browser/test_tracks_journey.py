"""Tracks (字軌) in Chromium: the tax office allocates a range, the merchant activates it (取號),
assigns booklets to online issuing, and the dashboard then shows the numbers left for online."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, open_from_menu, pages_fit_a_phone, sign_in
from tests.web.tracks_setup import allocate


def test_activate_a_track_assign_it_online_and_see_the_numbers_on_the_dashboard(
    page: Page, new_merchant, client, staff_headers
) -> None:
    merchant = new_merchant()
    _, track, begin = allocate(client, staff_headers, merchant.ubn, 3)
    sign_in(page, merchant.ubn)
    open_from_menu(page, "字軌")
    expect(page.get_by_role("row", name=re.compile(track))).to_contain_text(f"{begin:08d}")
    page.get_by_role("link", name=f"{track} {begin:08d}–{begin + 149:08d}").click()

    page.get_by_role("button", name="取號", exact=True).click()  # the count left empty: all 3 booklets
    expect(page.get_by_role("status")).to_have_text("已取號。")

    expect(page.get_by_label("POS 裝置代號")).to_be_hidden()  # only a POS needs a device id
    page.get_by_label("開立通路", exact=True).select_option("pos")
    expect(page.get_by_label("POS 裝置代號")).to_be_visible()
    page.get_by_label("開立通路", exact=True).select_option("online")
    page.get_by_label("指派本數").fill("2")
    page.get_by_role("button", name="指派", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("已指派給開立通路。")
    expect(page.get_by_role("row", name=re.compile(f"{begin:08d}"))).to_contain_text("線上開立")

    open_from_menu(page, "個人專區")
    online = page.get_by_role("row", name=re.compile("線上開立"))
    expect(online.get_by_role("cell").first).to_have_text("100")  # 2 booklets × 50 numbers
    expect(page.get_by_text("已取號未指派：50")).to_be_visible()


def test_the_dashboard_and_tracks_pages_fit_a_phone(new_page, new_merchant, client, staff_headers) -> None:
    merchant = new_merchant()
    track_id, _, _ = allocate(client, staff_headers, merchant.ubn, 2)
    phone = new_page(PHONE)
    sign_in(phone, merchant.ubn)
    pages_fit_a_phone(
        phone,
        (
            ("/console", "dashboard-375"),
            ("/console/tracks", "tracks-list-375"),
            (f"/console/tracks/{track_id}", "tracks-range-375"),
            ("/console/tracks/import", "tracks-import-375"),
            ("/console/tracks/blank-report", "tracks-blank-report-375"),
        ),
    )

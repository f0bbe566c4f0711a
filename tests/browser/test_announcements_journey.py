"""Announcements (系統公告) in Chromium: an officer publishes a maintenance notice for a business;
the business sees the banner on its console pages, on a phone, opens the notice and marks it read."""

from __future__ import annotations

from datetime import datetime, timedelta

from playwright.sync_api import Page, expect

from chalicelib.domain.period import TAIWAN_TZ
from tests.browser.conftest import PHONE, fits_a_phone, menu, named, screenshot, sign_in, sign_in_staff

_LOCAL = "%Y-%m-%dT%H:%M"


def test_staff_publish_a_maintenance_notice_and_the_merchant_reads_it(
    page: Page, new_page, staff_headers, new_merchant
) -> None:
    merchant = new_merchant()
    now = datetime.now(TAIWAN_TZ)
    starts = now + timedelta(hours=3)

    # The officer writes the notice: published now, for this business, the window three hours ahead.
    sign_in_staff(page)
    menu(page).get_by_role("link", name="系統公告").click()
    expect(page.get_by_role("heading", name="系統公告", exact=True)).to_be_visible()
    page.get_by_label("類別").select_option("maintenance")
    page.get_by_label(named("標題（中文）")).fill("發票系統停機維護")
    page.get_by_label(named("標題（英文）")).fill("Invoice platform downtime")
    page.get_by_label(named("內容（中文）")).fill("維護期間暫停開立發票，請提前處理。")
    page.get_by_label(named("內容（英文）")).fill("Invoices cannot be issued during the window.")
    page.get_by_label("發布時間").fill((now - timedelta(minutes=1)).strftime(_LOCAL))
    page.get_by_label("維護開始").fill(starts.strftime(_LOCAL))
    page.get_by_label("維護結束").fill((starts + timedelta(hours=2)).strftime(_LOCAL))
    page.get_by_label("對象統一編號").fill(merchant.ubn)
    page.get_by_role("button", name="建立公告").click()
    expect(page.get_by_role("status")).to_contain_text("公告已建立")
    row = page.get_by_role("row").filter(has_text="發票系統停機維護")
    expect(row).to_contain_text("已發布")

    # The business, on a phone, sees the banner on every page of its console.
    phone = new_page(PHONE)
    sign_in(phone, merchant.ubn)
    banner = phone.get_by_role("status").filter(has_text="發票系統停機維護")
    expect(banner).to_be_visible()
    fits_a_phone(phone, "dashboard with banner")
    screenshot(phone, "announcements-banner-375")
    menu(phone).get_by_role("link", name="發票查詢").click()
    expect(phone.get_by_role("status").filter(has_text="發票系統停機維護")).to_be_visible()

    # It opens the notice from the list and marks it read.
    menu(phone).get_by_role("link", name="公告").click()
    expect(phone.get_by_role("heading", name="系統公告", level=1)).to_be_visible()
    expect(phone.get_by_role("listitem").filter(has_text="發票系統停機維護")).to_contain_text("未讀")
    fits_a_phone(phone, "announcement list")
    screenshot(phone, "announcements-list-375")
    phone.get_by_role("link", name="發票系統停機維護", exact=True).first.click()
    expect(phone.get_by_role("heading", name="發票系統停機維護", level=1)).to_be_visible()
    fits_a_phone(phone, "announcement detail")
    screenshot(phone, "announcements-detail-375")
    phone.get_by_role("button", name="標示為已讀").click()
    expect(phone.get_by_role("button", name="標示為已讀")).to_have_count(0)
    expect(phone.get_by_role("status").filter(has_text="已讀")).to_be_visible()
    menu(phone).get_by_role("link", name="公告").click()
    expect(phone.get_by_role("listitem").filter(has_text="發票系統停機維護")).to_contain_text("已讀")

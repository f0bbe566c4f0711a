"""The tax office's journey in Chromium: an officer registers a business, issues its initial
password and allocates it numbers (配號); the business then signs in with that password in a browser
of its own, must choose a new one, and reaches its dashboard."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from playwright.sync_api import Page, expect

from chalicelib.domain.period import TAIWAN_TZ, Period
from tests.api.conftest import random_ubn
from tests.browser.conftest import PHONE, fits_a_phone, menu, named, screenshot, sign_in_staff

NEW_PASSWORD = "Breakfast-shop-2026!"


def _fits_a_phone(page: Page, name: str) -> None:
    fits_a_phone(page, name)
    screenshot(page, name)


def test_an_officer_opens_an_account_and_the_business_signs_in(page: Page, new_page, staff_headers) -> None:
    problems: list[str] = []
    # Script errors and CSP refusals; a 4xx answer (the favicon, a refused form) is logged too, and is not one.
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmation before the password is issued
    ubn = random_ubn()
    track = "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(2))
    begin = secrets.randbelow(999_000) * 50
    period = Period.from_date(datetime.now(TAIWAN_TZ).date())

    # The officer signs in and registers a new business.
    sign_in_staff(page)
    menu(page).get_by_role("link", name="稅籍資料").click()
    page.get_by_role("link", name="登記新營業人").click()
    page.get_by_label(named("統一編號")).fill(ubn)
    page.get_by_label("營業人名稱").fill("晨光早餐店")
    page.get_by_label("營業地址").fill("臺北市大安區復興南路一段390號")
    page.get_by_label("稅籍狀態").select_option("active")
    page.get_by_role("button", name="登記").click()
    expect(page.get_by_role("heading", name="晨光早餐店")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("已儲存")

    # It finds the business by its UBN, then issues the initial password, shown once.
    page.goto("/staff/registry")
    page.get_by_label("以統一編號查詢").fill(ubn)
    page.get_by_role("button", name="查詢").click()
    expect(page.get_by_role("heading", name="晨光早餐店")).to_be_visible()
    page.get_by_role("button", name="核發初始密碼").click()
    expect(page.get_by_role("heading", name="初始密碼已核發")).to_be_visible()
    initial = page.get_by_test_id("initial-password").inner_text().strip()
    assert len(initial) >= 12
    expect(page.get_by_role("button", name="複製密碼")).to_be_visible()  # staff.js, after htmx's swap
    expect(page.get_by_role("main")).to_contain_text(ubn)
    expect(page.get_by_role("main")).to_contain_text("/login")

    # It allocates the business a range of two booklets.
    page.get_by_role("link", name="為此營業人配號").click()
    expect(page.get_by_label(named("統一編號"))).to_have_value(ubn)
    expect(page.get_by_label(named("期別"))).to_have_value(period.code)
    page.get_by_label(named("字軌")).fill(track)
    page.get_by_label("起號").fill(f"{begin:08d}")
    page.get_by_label("迄號").fill(f"{begin + 99:08d}")
    page.get_by_role("button", name="配號", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(f"{track}{begin:08d}–{track}{begin + 99:08d}")
    expect(page.get_by_role("table")).to_contain_text(ubn)

    # The same range again for another business is refused next to the first number.
    page.get_by_label(named("統一編號")).fill(ubn)
    page.get_by_label(named("字軌")).fill(track)
    page.get_by_label("起號").fill(f"{begin + 50:08d}")
    page.get_by_label("迄號").fill(f"{begin + 149:08d}")
    page.get_by_role("button", name="配號", exact=True).click()
    expect(page.locator("#f-begin_no-error")).to_contain_text("已經配號")

    # The registry, allocations and jobs pages on a phone.
    page.set_viewport_size(PHONE)
    page.goto("/staff/registry")
    _fits_a_phone(page, "staff-registry-375")
    page.goto(f"/staff/registry/{ubn}")
    expect(page.get_by_text("待啟用")).to_be_visible()
    _fits_a_phone(page, "staff-business-375")
    page.goto("/staff/registry/import")
    _fits_a_phone(page, "staff-import-375")
    page.goto(f"/staff/allocations?ubn={ubn}")
    expect(page.get_by_role("table")).to_contain_text(f"{track}{begin:08d}")
    _fits_a_phone(page, "staff-allocations-375")
    page.goto("/staff/jobs")
    expect(page.get_by_role("button", name=re.compile("執行|繼續"))).to_have_count(4)
    _fits_a_phone(page, "staff-jobs-375")
    assert problems == [], problems

    # In a browser of its own, the business signs in with the initial password ...
    merchant = new_page()
    merchant.goto("/login")
    merchant.get_by_label("統一編號").fill(ubn)
    merchant.get_by_label(named("密碼")).fill(initial)
    merchant.get_by_role("button", name="登入").click()
    # ... must choose its own password first ...
    merchant.wait_for_url(re.compile(r"/console/password$"))
    expect(merchant.get_by_text("初始密碼")).to_be_visible()
    merchant.get_by_label(named("目前密碼")).fill(initial)
    merchant.get_by_label(named("新密碼")).fill(NEW_PASSWORD)
    confirm = merchant.get_by_label(re.compile("再次輸入新密碼"))
    if confirm.count():  # the password page may ask for it twice
        confirm.fill(NEW_PASSWORD)
    merchant.get_by_role("button", name="變更密碼").click()
    # ... and lands on its dashboard.
    merchant.wait_for_url(re.compile(r"/console$"))
    expect(merchant.get_by_role("heading", name="個人專區")).to_be_visible()

    # The officer now sees the account in use.
    page.goto(f"/staff/registry/{ubn}")
    expect(page.get_by_text("使用中")).to_be_visible()


def test_a_merchant_is_sent_to_the_staff_sign_in(page: Page, new_merchant) -> None:
    merchant = new_merchant()
    page.goto("/login")
    page.get_by_label("統一編號").fill(merchant.ubn)
    page.get_by_label(named("密碼")).fill(merchant.password)
    page.get_by_role("button", name="登入").click()
    page.wait_for_url(re.compile(r"/console$"))
    page.goto("/staff/allocations")
    expect(page).to_have_url(re.compile(r"/staff/login\?next=/staff/allocations$"))
    expect(page.get_by_role("heading", name="稽徵機關登入")).to_be_visible()


def test_a_job_is_run_from_the_jobs_page_after_a_confirmation(page: Page, staff_headers) -> None:
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in_staff(page)
    menu(page).get_by_role("link", name="期別作業").click()
    period = Period(secrets.randbelow(80) + 20, 2 * (secrets.randbelow(6) + 1))
    page.get_by_label("期別").fill(period.code)
    page.get_by_role("button", name="顯示").click()
    expect(page.get_by_role("heading", name=f"期別 {period.code}")).to_be_visible()
    row = page.get_by_role("listitem").filter(has_text="空白字軌提醒")
    expect(row).to_contain_text("尚未執行")
    row.get_by_role("button", name="執行").click()
    report = page.locator("section.report")
    expect(report).to_contain_text(f"空白字軌提醒 · {period.code}")
    expect(report).to_contain_text("已處理營業人")
    expect(page.get_by_role("listitem").filter(has_text="空白字軌提醒")).to_contain_text(re.compile("已完成|進行中"))

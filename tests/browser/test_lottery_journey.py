"""The invoice lottery (統一發票給獎) in Chromium: a merchant issues consumer invoices, the tax office
enters the period's winning numbers (built from one of them) in the staff console, and the merchant,
on a phone, is pointed at the winner by its dashboard, downloads the winning proof (中獎 on it) and
marks it delivered.

The invoices are issued in a period of the test's own (tests/lottery_setup.py): a period has one set
of winning numbers, and other tests load theirs."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, fits_a_phone, named, open_from_menu, screenshot, sign_in, sign_in_staff
from tests.lottery_setup import fresh_period, shop_in
from tests.unit.documents.test_pdf import pdf_tools, text_of  # noqa: F401 - pdf_tools fails without poppler

MEMBER = {"type": "EJ0113", "id": "regular@example.com"}


def test_staff_load_the_winning_numbers_and_the_merchant_delivers_the_proof(
    page: Page, new_page, client, new_merchant, tmp_path: Path
) -> None:
    problems: list[str] = []
    # Script errors and CSP refusals; a 4xx answer (the favicon) is logged too, and is not one.
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None
        ),
    )
    shop = shop_in(fresh_period(), client, new_merchant)
    period = shop.period.code
    winner = shop.issue(buyer={"name": "熟客", "email": f"regular-{shop.ubn}@example.com"}, carrier=MEMBER)
    also = shop.issue(buyer={"name": "消費者"}, print=True)
    serial = winner["invoice_number"][2:]
    far = f"{(int(serial) + 500_000) % 10**8:08d}"  # outside the merchant's 300 numbers

    # The officer opens the lottery from the menu, chooses the period and enters its numbers:
    # 特別獎 is the member-carrier invoice; nothing else is drawn near the merchant's numbers.
    sign_in_staff(page)
    open_from_menu(page, "統一發票給獎")
    expect(page.get_by_role("heading", name="統一發票給獎", level=1)).to_be_visible()
    page.get_by_label(named("期別")).fill(period)
    page.get_by_role("button", name="選擇").click()
    expect(page.get_by_role("heading", name=re.compile(f"期別 {period}"))).to_be_visible()
    expect(page.get_by_text("此期尚未載入中獎號碼。")).to_be_visible()
    page.get_by_label(named("特別獎（1,000 萬元）")).fill(serial)
    page.get_by_label(named("特獎（200 萬元）")).fill(far)
    # Its last 3 digits are 500 past the winner's: no invoice of the merchant (two, one after the other) ends so.
    page.get_by_label(named("頭獎（20 萬元）第 1 組")).fill(f"{(int(far) + 500) % 10**8:08d}")
    page.get_by_role("button", name="載入中獎號碼").click()
    report = page.get_by_role("status").filter(has_text="找到中獎發票")
    expect(report).to_contain_text("找到中獎發票 1 張")
    prizes = page.get_by_role("table", name="各獎別中獎張數")
    expect(prizes.get_by_role("row", name=re.compile("特別獎"))).to_contain_text("NT$10,000,000")
    expect(page.get_by_role("heading", name="更正中獎號碼")).to_be_visible()  # loaded: the form corrects now
    page.set_viewport_size(PHONE)
    fits_a_phone(page, "staff lottery")
    screenshot(page, "staff-lottery-375")
    assert problems == [], problems

    # The merchant, on a phone: the dashboard points at the proof to deliver.
    phone = new_page(PHONE)
    phone.on("dialog", lambda dialog: dialog.accept())  # "has the proof been handed over?"
    sign_in(phone, shop.ubn, shop.password)
    reminder = phone.get_by_role("region", name="中獎發票待交付")
    expect(reminder).to_contain_text(f"{period} 期：1 張中獎證明聯待列印交付")
    fits_a_phone(phone, "dashboard with a winner")
    screenshot(phone, "dashboard-winner-375")
    reminder.get_by_role("link").click()
    expect(phone.get_by_role("heading", name="中獎發票", level=1)).to_be_visible()
    row = phone.get_by_role("row", name=re.compile(winner["invoice_number"]))
    expect(row).to_contain_text("特別獎")
    expect(row).to_contain_text("NT$10,000,000")
    expect(row).to_contain_text("會員載具發票")
    expect(row).to_contain_text("待交付")
    expect(phone.get_by_role("row", name=re.compile(also["invoice_number"]))).to_have_count(0)
    fits_a_phone(phone, "the winners")
    screenshot(phone, "lottery-winners-375")

    # The winning proof: the 5.7 cm proof with 中獎 and the prize on it.
    with phone.expect_download() as downloaded:
        row.get_by_role("link", name=re.compile("下載中獎證明聯")).click()
    pdf = Path(downloaded.value.path()).read_bytes()
    text = text_of(pdf, tmp_path)
    assert "中獎" in text and "特別獎 NT$10,000,000" in text
    assert f"{winner['invoice_number'][:2]}-{winner['invoice_number'][2:]}" in text

    # Delivered: the row says so, in place, with the time; nothing is left on the dashboard.
    row.get_by_role("button", name=re.compile("標記已交付")).click()
    delivered = phone.get_by_role("row", name=re.compile(winner["invoice_number"]))
    expect(delivered).to_contain_text("已交付")
    expect(delivered.get_by_role("button")).to_have_count(0)
    expect(delivered).to_contain_text(re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}"))
    expect(phone.locator("#to-deliver")).to_contain_text("都已交付")
    fits_a_phone(phone, "a winner delivered")
    screenshot(phone, "lottery-delivered-375")
    phone.reload()
    expect(phone.get_by_role("row", name=re.compile(winner["invoice_number"]))).to_contain_text("已交付")
    phone.goto("/console")
    expect(phone.get_by_role("heading", name="個人專區")).to_be_visible()
    expect(phone.get_by_role("region", name="中獎發票待交付")).to_have_count(0)

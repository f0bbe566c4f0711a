"""交換發票 in Chromium: the buyer chooses to receive by exchange, the seller issues two invoices for
exchange from the issue form. The buyer (on a phone) finds the first in its to-do list and rejects
it, the seller confirms the rejection; the buyer confirms the second, the seller asks to cancel it
and the buyer confirms the cancel. Both sides' pages and messages say what happened."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.api.conftest import body_of
from tests.api.test_invoices import make_issuer
from tests.browser.conftest import PHONE, fits_a_phone, menu, named, screenshot, sign_in
from tests.browser.test_issue_journey import fill_item, issue_now, total_row


def issue_for_exchange(page: Page, buyer_ubn: str, buyer_name: str, price: str) -> str:
    page.goto("/console/issue")
    page.get_by_label("營業人，打統編（B2B）").check()
    page.get_by_label("買受人統一編號").fill(buyer_ubn)
    expect(page.get_by_label("買受人名稱")).to_have_value(buyer_name)  # from the tax registry
    expect(page.get_by_text("此買方的接收方式為「交換」")).to_be_visible()
    page.get_by_label("未稅（另加 5% 營業稅）").check()
    fill_item(page, 1, "顧問服務", "1", price)
    expect(total_row(page, "總計")).to_contain_text(f"{int(price) * 21 // 20:,}")
    page.get_by_label(re.compile("以交換方式開立")).check()
    number = issue_now(page)
    expect(page.get_by_role("link", name="前往交換頁")).to_be_visible()
    return number


def open_to_do(page: Page, tab: str | None = None) -> None:
    menu(page).get_by_role("link", name="交換待辦", exact=True).click()
    expect(page.get_by_role("heading", name="交換發票待辦事項", level=1)).to_be_visible()
    if tab:
        page.get_by_role("link", name=re.compile("^" + re.escape(tab))).click()


def answer(page: Page, button: str) -> None:
    page.get_by_role("button", name=button, exact=True).click()


def test_reject_then_confirm_and_cancel_between_two_merchants(new_page, client, staff_headers, new_merchant) -> None:
    seller = make_issuer(client, staff_headers, new_merchant)
    buyer = new_merchant()

    phone = new_page(PHONE)
    sign_in(phone, buyer.ubn)
    phone.goto("/console/settings/receiving")
    phone.get_by_label(re.compile("^交換：")).check()
    phone.get_by_role("button", name="儲存").click()
    expect(phone.get_by_role("status").filter(has_text="已儲存")).to_be_visible()

    desk = new_page()
    sign_in(desk, seller.ubn)
    first = issue_for_exchange(desk, buyer.ubn, buyer.name, "1000")

    # The buyer finds it in its to-do list, its turn, with the deadline.
    open_to_do(phone)
    row = phone.get_by_role("row").filter(has_text=first)
    expect(row).to_contain_text("待您處理")
    expect(row).to_contain_text("1,050")
    expect(row).to_contain_text(seller.ubn)
    fits_a_phone(phone, "to-do list")
    screenshot(phone, "exchange-todo-375")
    row.get_by_role("link", name=first).click()
    expect(phone.get_by_role("heading", name=re.compile(first), level=1)).to_be_visible()
    expect(phone.get_by_role("button", name="確認收受", exact=True)).to_be_visible()
    fits_a_phone(phone, "exchange detail")
    screenshot(phone, "exchange-detail-375")

    # A reject needs its reason; then the answer is shown in place.
    answer(phone, "退回")
    expect(phone.get_by_label(named("退回原因"))).to_have_attribute("aria-invalid", "true")
    phone.get_by_label(named("退回原因")).fill("單價錯誤")
    answer(phone, "退回")
    expect(phone.get_by_role("status").filter(has_text="已退回此發票")).to_be_visible()
    expect(phone.get_by_role("button", name="確認收受", exact=True)).to_have_count(0)

    # The seller sees the rejection waiting on it and confirms it.
    open_to_do(desk, "開出的（我是賣方）")
    rejected = desk.get_by_role("row").filter(has_text=first)
    expect(rejected).to_contain_text("買方已退回，待賣方確認")
    rejected.get_by_role("link", name=first).click()
    expect(desk.get_by_text("單價錯誤")).to_be_visible()
    answer(desk, "確認退回")
    expect(desk.get_by_role("status").filter(has_text="已確認買方退回")).to_be_visible()
    with desk.expect_download() as download:
        desk.get_by_role("link", name="下載 A0302 XML").click()
    assert download.value.suggested_filename == f"{first}-A0302.xml"

    # The second: confirmed by the buyer, a cancel asked by the seller, confirmed by the buyer.
    second = issue_for_exchange(desk, buyer.ubn, buyer.name, "2000")
    open_to_do(phone)
    expect(phone.get_by_role("row").filter(has_text=first)).to_have_count(0)  # settled: off the list
    phone.get_by_role("row").filter(has_text=second).get_by_role("link", name=second).click()
    answer(phone, "確認收受")
    expect(phone.get_by_role("status").filter(has_text="已確認收受此發票")).to_be_visible()

    desk.get_by_role("link", name="前往交換頁").click()
    expect(desk.get_by_role("heading", name=re.compile(second), level=1)).to_be_visible()
    desk.get_by_label(named("作廢原因")).fill("訂單取消")
    answer(desk, "作廢")
    expect(desk.get_by_role("status").filter(has_text="已送出作廢")).to_be_visible()

    open_to_do(phone)
    cancel = phone.get_by_role("row").filter(has_text=second)
    expect(cancel).to_contain_text("作廢待買方確認")
    cancel.get_by_role("link", name=second).click()
    expect(phone.get_by_text("訂單取消")).to_be_visible()
    answer(phone, "確認作廢")
    expect(phone.get_by_role("status").filter(has_text="此發票已作廢")).to_be_visible()
    fits_a_phone(phone, "cancel confirmed")

    # What both sides now hold, as the API tells it.
    for number, state, status in ((first, "rejection_confirmed", "rejected"), (second, "cancelled", "cancelled")):
        view = body_of(client.http.get(f"/v1/exchange/{seller.ubn}-{number}", headers=buyer.headers))
        assert (view["state"], view["invoice"]["status"]) == (state, status)
    assert body_of(client.http.get("/v1/exchange/inbox", headers=seller.headers))["items"] == []
    desk.goto(f"/console/invoices/{second}")
    expect(desk.get_by_text("買方確認作廢（A0202）")).to_be_visible()

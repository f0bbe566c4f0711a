"""In Chromium: the current period's return follows an invoice; then, the period over, it is filed."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect

from tests.api.conftest import post_json
from tests.api.test_filings import _at, _current, _due_by, _move_to
from tests.api.test_invoices import B2B, make_issuer
from tests.browser.conftest import PHONE, fits_a_phone, menu, screenshot, sign_in


def _box(page: Page, code: str):
    """The amount cell of box ``code`` in the return's table, found by its row as a reader finds it."""
    return page.locator(f"#box-{code} td.num")


def test_the_return_follows_an_invoice_and_a_past_period_is_filed(
    page: Page, new_page, client, staff_headers, new_merchant, monkeypatch
) -> None:
    merchant = make_issuer(client, staff_headers, new_merchant)
    period = _current()
    sign_in(page, merchant.ubn)
    menu(page).get_by_role("link", name="申報", exact=True).click()
    expect(page.get_by_role("heading", name="營業稅申報")).to_be_visible()
    page.get_by_role("link", name=period.label_zh).click()
    expect(page.get_by_role("heading", name=re.compile("營業人銷售額與稅額申報書"))).to_be_visible()
    expect(page.get_by_text("本期進行中")).to_be_visible()
    expect(_box(page, "5")).to_have_text("0")
    expect(page.get_by_role("row", name=re.compile("^21 合計 應稅銷售額"))).to_contain_text("0")

    # An invoice issued meanwhile (through the JSON API): the live return moves with it.
    response = post_json(client, "/v1/invoices", B2B, merchant.headers)  # 1,380 = 1,314 + 66 tax
    assert response.status_code == 201, response.body
    page.reload()
    expect(_box(page, "5")).to_have_text("1,314")
    expect(_box(page, "6")).to_have_text("66")
    expect(_box(page, "111")).to_have_text("66")

    # Time passes: the period is over, and its return can be filed until the 15th of the next month.
    _move_to(monkeypatch, _at(period.next().first_day + timedelta(days=3)))
    page.reload()
    expect(page.get_by_text("待申報", exact=True)).to_be_visible()
    page.get_by_role("button", name="檢查並申報…").click()
    expect(page.get_by_role("heading", name=re.compile("確認申報"))).to_be_visible()
    expect(page.get_by_text(re.compile("申報期限："))).to_contain_text(_due_by(period).isoformat())
    expect(page.get_by_text(re.compile("第 1 版"))).to_be_visible()
    page.get_by_role("button", name="確認申報").click()

    expect(page.get_by_text("申報書已送出。")).to_be_visible()
    expect(page.get_by_text("已申報", exact=True)).to_be_visible()
    versions = page.get_by_role("region", name="已申報版本")
    expect(versions.get_by_role("link", name=re.compile("申報書 PDF"))).to_have_attribute(
        "href", f"/console/filings/{period.code}/versions/1/pdf"
    )
    expect(page.get_by_role("region", name="繳稅")).to_contain_text("66")

    phone = new_page(PHONE)
    sign_in(phone, merchant.ubn)
    phone.goto(f"/console/filings/{period.code}")
    expect(phone.get_by_role("heading", name=re.compile("營業人銷售額與稅額申報書"))).to_be_visible()
    fits_a_phone(phone)
    screenshot(phone, "filings-period-375")
    # A correction (更正申報) is reviewed the same way, with its reason.
    phone.get_by_label("更正原因").fill("補列紙本進項發票")
    phone.get_by_label("其他進項金額（代號 28）").fill("200")
    phone.get_by_label("其他進項稅額（代號 29）").fill("10")
    phone.get_by_role("button", name="檢查並更正申報…").click()
    expect(phone.get_by_role("heading", name=re.compile("確認更正申報"))).to_be_visible()
    expect(phone.get_by_text("補列紙本進項發票")).to_be_visible()
    figures = phone.get_by_role("region", name="將申報的主要數字")
    expect(figures.get_by_role("listitem").filter(has_text="代號 111")).to_contain_text("56")  # 66 - 10
    fits_a_phone(phone)
    screenshot(phone, "filings-confirm-375")
    phone.get_by_role("button", name="確認送出更正申報").click()
    expect(phone.get_by_text("申報書已送出。")).to_be_visible()
    expect(_box(phone, "111")).to_have_text("56")  # 66 - 10 of input tax on the paper invoices
    phone.goto("/console/filings")
    fits_a_phone(phone)
    screenshot(phone, "filings-list-375")

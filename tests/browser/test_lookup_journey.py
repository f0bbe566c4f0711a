"""A buyer's look-up in Chromium on a 375-px phone, signed in nowhere: from the sign-in page to the
look-up form, a wrong random number gets the neutral message, the right one shows the invoice and
its proof downloads, and the codes on that proof are the invoice's."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from tests.api.conftest import body_of, post_json
from tests.api.test_invoices import B2C_CARRIER
from tests.browser.conftest import PHONE, fits_a_phone, screenshot
from tests.browser.test_invoices_journey import codes_on
from tests.browser.test_issue_journey import ready_merchant
from tests.unit.documents.test_pdf import pdf_tools  # noqa: F401 - pdf_tools fails without poppler/zbar


def test_a_buyer_looks_up_an_invoice_and_downloads_its_proof(client, staff_headers, new_merchant, new_page, tmp_path):
    issuer = ready_merchant(client, staff_headers, new_merchant)
    sold = {**B2C_CARRIER, "buyer": {"ubn": None, "name": "陳小明", "email": "chen@example.com"}}
    invoice = body_of(post_json(client, "/v1/invoices", sold, issuer.headers))
    number, code = invoice["invoice_number"], invoice["random_number"]

    phone = new_page(PHONE)
    phone.goto("/login")
    phone.get_by_role("link", name="消費者：查詢您的發票（免登入）").click()
    expect(phone.get_by_role("heading", level=1, name="發票查詢")).to_be_visible()
    fits_a_phone(phone, "the look-up form")

    phone.get_by_role("textbox", name="發票號碼").fill(f"{number[:2]}-{number[2:]}")
    phone.get_by_label("隨機碼（4 位數字）").fill(f"{(int(code) + 1) % 10000:04d}")
    phone.get_by_label("開立日期").fill(invoice["invoice_date"])
    phone.get_by_role("button", name="查詢", exact=True).first.click()
    expect(phone.get_by_role("alert")).to_contain_text("查無符合的發票")
    expect(phone.get_by_text(invoice["seller"]["name"])).to_have_count(0)

    phone.get_by_label("隨機碼（4 位數字）").fill(code)
    phone.get_by_role("button", name="查詢", exact=True).first.click()
    found = phone.get_by_role("region", name=re.compile(f"^發票 {number[:2]}-{number[2:]}"))
    expect(found).to_be_visible()
    expect(found).to_contain_text(invoice["seller"]["name"])
    expect(found).to_contain_text("陳*明")
    expect(found).to_contain_text("已開立")
    expect(phone.get_by_role("region", name="品項與金額")).to_contain_text("拿鐵咖啡")
    fits_a_phone(phone, "the invoice found")
    screenshot(phone, "lookup-found-phone")

    with phone.expect_download() as downloaded:
        phone.get_by_role("link", name="下載電子發票證明聯（PDF）").click()
    pdf = Path(downloaded.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    assert sorted(codes_on(pdf, tmp_path)) == sorted([invoice["barcode"], invoice["qr_left"], invoice["qr_right"]])

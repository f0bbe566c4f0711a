"""發票查詢 in Chromium on a 375-px phone: the merchant issues a consumer and a business invoice in
the form, finds each with the filters, downloads the 5.7 cm proof and its QR codes decode, cancels
one (作廢) and gives an allowance (折讓) on the other, then voids and re-issues it (註銷重開)."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.api.conftest import random_ubn, register_business
from tests.api.test_invoices import Issuer
from tests.browser.conftest import PHONE, api, fits_a_phone, screenshot, sign_in
from tests.browser.test_issue_journey import issue_b2b, issue_b2c_carrier, ready_merchant
from tests.unit.documents.test_pdf import pdf_tools, scan  # noqa: F401 - pdf_tools fails without poppler/zbar


def listed_numbers(page: Page) -> list[str]:
    table = page.get_by_role("region", name="查詢結果")
    return re.findall(r"[A-Z]{2}[0-9]{8}", table.inner_text()) if table.count() else []


def codes_on(pdf: bytes, tmp: Path) -> list[str]:
    """The symbols on the PDF. zbar guesses the text encoding of QR byte data and may read UTF-8
    Chinese as Shift-JIS; that guess is undone (the proof's own flag says UTF-8)."""
    decoded = []
    for text in scan(pdf, tmp):
        try:
            decoded.append(text.encode("cp932").decode("utf-8"))
        except (UnicodeEncodeError, UnicodeDecodeError):
            decoded.append(text)
    return decoded


def more_filters(page: Page) -> None:
    """Open the less common filters, as a person taps "更多條件"."""
    if page.locator("details.more-filters[open]").count() == 0:
        page.get_by_text("更多條件").click()


def search(page: Page, **filters: str) -> None:
    page.goto("/console/invoices")
    for label, value in filters.items():
        if not page.get_by_label(label).is_visible():
            more_filters(page)
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="查詢", exact=True).click()
    page.wait_for_load_state()


def _issuer_on_a_phone(client, staff_headers, new_merchant, new_page) -> tuple[Issuer, str, str, Page]:
    """A merchant ready to issue, signed in on a phone, and a registered business to sell to:
    (the merchant, the buyer's UBN, the buyer's name, the phone)."""
    issuer = ready_merchant(client, staff_headers, new_merchant)
    buyer = random_ubn()
    buyer_name = register_business(client, staff_headers, buyer)
    phone = new_page(PHONE)
    sign_in(phone, issuer.ubn)
    return issuer, buyer, buyer_name, phone


def test_find_download_cancel_and_allow_on_a_phone(
    client, staff_headers, new_merchant, new_page, base_url: str, tmp_path: Path
) -> None:
    issuer, buyer, buyer_name, phone = _issuer_on_a_phone(client, staff_headers, new_merchant, new_page)
    consumer = issue_b2c_carrier(phone, "/ABC+123")
    business = issue_b2b(phone, buyer, buyer_name)

    # Both are listed, newest first; the filters find each, and the search is its own address.
    phone.get_by_role("link", name="發票查詢").first.click()
    expect(phone.get_by_role("heading", name="發票查詢")).to_be_visible()
    assert listed_numbers(phone) == [business, consumer]
    fits_a_phone(phone)
    screenshot(phone, "invoices-list-375")
    search(phone, **{"買受人統一編號": buyer})
    assert listed_numbers(phone) == [business]
    assert f"buyer_ubn={buyer}" in phone.url
    search(phone, **{"載具號碼": "/ABC+123"})
    assert listed_numbers(phone) == [consumer]
    phone.goto("/console/invoices")
    more_filters(phone)
    phone.get_by_label("總計下限").fill("316")
    phone.get_by_role("button", name="查詢", exact=True).click()
    expect(phone.get_by_text("沒有符合條件的發票")).to_be_visible()

    # The consumer invoice: its page, its proof, whose codes decode to what the API says it holds.
    phone.goto("/console/invoices?carrier_id=%2FABC%2B123")
    phone.get_by_role("link", name=consumer).click()
    expect(phone.get_by_role("heading", name=re.compile(consumer))).to_be_visible()
    fits_a_phone(phone)
    screenshot(phone, "invoices-detail-375")
    with phone.expect_download() as downloaded:
        phone.get_by_role("link", name="下載證明聯 PDF").click()
    pdf = Path(downloaded.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    status, invoice = api(base_url, "GET", f"/v1/invoices/{consumer}", headers=issuer.headers)
    assert status == 200
    codes = codes_on(pdf, tmp_path)
    assert invoice["qr_left"] in codes and invoice["qr_right"] in codes and invoice["barcode"] in codes
    assert invoice["qr_left"].startswith(consumer)

    # Cancel it: the page says what happens and by when, then it is done.
    phone.get_by_role("link", name="作廢發票").click()
    expect(phone.get_by_role("heading", name="作廢後會發生什麼")).to_be_visible()
    expect(phone.get_by_text(re.compile(r"不需核准文號即可作廢至 \d{4}-\d{2}-15"))).to_be_visible()
    fits_a_phone(phone)
    screenshot(phone, "invoices-cancel-375")
    phone.get_by_label("作廢原因").fill("客戶退貨")
    phone.get_by_role("button", name=f"確認作廢 {consumer}").click()
    expect(phone.get_by_role("status").filter(has_text="發票已作廢")).to_be_visible()
    expect(phone.get_by_role("heading", name=re.compile(consumer))).to_contain_text("已作廢")

    # An allowance on the business invoice: 1 x 105 tax-inclusive is 100 + 5 tax; 210 remains.
    phone.goto(f"/console/invoices/{business}")
    phone.get_by_role("link", name="開立折讓單").click()
    phone.get_by_label("折讓數量").fill("1")
    fits_a_phone(phone)
    screenshot(phone, "invoices-allowance-375")
    phone.get_by_role("button", name="檢視折讓內容").click()
    computed = phone.get_by_role("region", name="系統計算的折讓金額")
    expect(computed.get_by_role("row", name=re.compile(r"^折讓合計\s"))).to_contain_text("105")
    expect(computed.get_by_role("row", name=re.compile(r"^折讓稅額\s"))).to_contain_text("5")
    expect(computed.get_by_role("row", name=re.compile(r"^原發票剩餘可折讓"))).to_contain_text("210")
    fits_a_phone(phone)
    screenshot(phone, "invoices-allowance-confirm-375")
    phone.get_by_role("button", name="確認開立折讓單 NT$ 105").click()
    expect(phone.get_by_role("status").filter(has_text="折讓單已開立")).to_be_visible()
    allowances = phone.get_by_role("region", name="折讓單")
    expect(allowances).to_contain_text("有效")
    status, after = api(base_url, "GET", f"/v1/invoices/{business}", headers=issuer.headers)
    assert (after["allowance_count"], after["allowance_remaining"]) == (1, 210)

    # The allowance was for one item; it should have been two: void and re-issue it (註銷重開)
    # under the same number, and the invoice gives back 105 and takes 210, leaving 105.
    status, listed = api(base_url, "GET", "/v1/allowances", headers=issuer.headers)
    allowance_number = listed["items"][0]["allowance_number"]
    phone.get_by_role("link", name=f"註銷重開 {allowance_number}").click()
    expect(phone.get_by_role("heading", name="註銷重開會發生什麼")).to_be_visible()
    phone.get_by_label("註銷原因").fill("數量誤植")
    phone.get_by_label("折讓數量").fill("2")
    fits_a_phone(phone)
    screenshot(phone, "invoices-allowance-void-375")
    phone.get_by_role("button", name=f"確認註銷重開折讓單 {allowance_number}").click()
    expect(phone.get_by_role("status").filter(has_text="折讓單已註銷並以相同號碼重新開立")).to_be_visible()
    status, voided = api(base_url, "GET", f"/v1/invoices/{business}", headers=issuer.headers)
    assert (voided["allowance_count"], voided["allowance_remaining"]) == (1, 105)
    status, reissued = api(base_url, "GET", f"/v1/allowances/{allowance_number}", headers=issuer.headers)
    assert (reissued["sales_amount"], reissued["tax_amount"], reissued["total_amount"]) == (200, 10, 210)

    # Found again by the filter for invoices with allowances.
    phone.goto("/console/invoices")
    more_filters(phone)
    phone.get_by_label("折讓").select_option(label="有有效折讓")
    phone.get_by_role("button", name="查詢", exact=True).click()
    phone.wait_for_url(re.compile(r"has_allowances=true"))
    assert listed_numbers(phone) == [business]
    phone.get_by_label("狀態").select_option(label="已作廢")
    phone.get_by_label("折讓").select_option(label="不限")
    phone.get_by_role("button", name="查詢", exact=True).click()
    phone.wait_for_url(re.compile(r"status=cancelled"))
    assert listed_numbers(phone) == [consumer]


def test_another_merchant_gets_not_found(client, staff_headers, new_merchant, new_page) -> None:
    owner = ready_merchant(client, staff_headers, new_merchant)
    other = ready_merchant(client, staff_headers, new_merchant)
    first = new_page(PHONE)
    sign_in(first, owner.ubn)
    number = issue_b2c_carrier(first, "/XYZ.789")
    second = new_page(PHONE)
    sign_in(second, other.ubn)
    answer = second.goto(f"/console/invoices/{number}")
    assert answer is not None and answer.status == 404
    expect(second.get_by_role("heading", name="查無此頁面或資料")).to_be_visible()
    second.goto("/console/invoices")
    assert listed_numbers(second) == []


def test_void_and_reissue_with_the_buyers_ubn(client, staff_headers, new_merchant, new_page, base_url: str) -> None:
    """補打統編: a consumer invoice gets the buyer's UBN after all, under the same number."""
    issuer, buyer, buyer_name, phone = _issuer_on_a_phone(client, staff_headers, new_merchant, new_page)
    number = issue_b2c_carrier(phone, "/ABC+123")
    phone.get_by_role("link", name=re.compile("註銷重開")).click()
    expect(phone.get_by_text(re.compile("48 小時內"))).to_be_visible()
    phone.get_by_label("營業人，打統編（B2B）").check()
    phone.get_by_label("買受人統一編號").fill(buyer)
    expect(phone.get_by_label("買受人名稱")).to_have_value(buyer_name)
    phone.get_by_label("註銷原因").fill("補打統編")
    fits_a_phone(phone)
    screenshot(phone, "invoices-void-375")
    phone.get_by_role("button", name=f"確認註銷並重新開立 {number}").click()
    expect(phone.get_by_role("status").filter(has_text="重新開立")).to_be_visible()
    status, invoice = api(base_url, "GET", f"/v1/invoices/{number}", headers=issuer.headers)
    assert status == 200 and invoice["buyer"]["ubn"] == buyer
    # the same 315 to a business: 300 sales and 15 tax, shown apart
    assert (invoice["amounts"]["sales_amount"], invoice["amounts"]["tax_amount"]) == (300, 15)

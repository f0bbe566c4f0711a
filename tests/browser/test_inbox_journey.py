"""In Chromium: a MIG upload accepted, another merchant's invoice under 進項, a pending invoice issued."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.api.conftest import body_of, post_json
from tests.api.test_invoices import B2B, make_issuer
from tests.api.test_mig_intake import _xml
from tests.browser.conftest import PHONE, fits_a_phone, menu, screenshot, sign_in


def test_a_merchant_uploads_an_f0401_and_sees_it_accepted(new_page, client, staff_headers, new_merchant) -> None:
    merchant = make_issuer(client, staff_headers, new_merchant)
    number = f"{merchant.track}{merchant.begin:08d}"  # the online channel's next number
    phone = new_page(PHONE)
    sign_in(phone, merchant.ubn)
    menu(phone).get_by_role("link", name="MIG 上傳").click()
    expect(phone.get_by_role("heading", name="MIG XML 上傳")).to_be_visible()
    phone.get_by_label("訊息類型").select_option("F0401")
    phone.get_by_label("MIG XML 檔案").set_input_files(
        files=[{"name": f"{number}.xml", "mimeType": "application/xml", "buffer": _xml(merchant.ubn, number)}]
    )
    phone.get_by_role("button", name="上傳並處理").click()

    result = phone.get_by_role("region", name="處理結果")
    expect(result.get_by_text("已接受")).to_be_visible()
    link = result.get_by_role("link", name=number)
    expect(link).to_have_attribute("href", f"/console/invoices/{number}")
    issued = client.http.get(f"/v1/invoices/{number}", headers=merchant.headers)
    assert issued.status_code == 200 and body_of(issued)["status"] == "issued"
    fits_a_phone(phone)
    screenshot(phone, "inbox-mig-375")

    # The same number again with a changed total: refused, naming the element, nothing issued twice.
    phone.get_by_label("或貼上 XML 內容").fill(_xml(merchant.ubn, number, total=131).decode())
    phone.get_by_role("button", name="上傳並處理").click()
    refused = phone.get_by_role("region", name="處理結果")
    expect(refused.get_by_text("已退回")).to_be_visible()
    expect(refused.locator("code")).to_have_text(re.compile(r"Main\.InvoiceNumber|Amount\.TotalAmount"))


def test_another_merchants_b2b_invoice_appears_under_received(new_page, client, staff_headers, new_merchant) -> None:
    buyer = new_merchant()
    seller = make_issuer(client, staff_headers, new_merchant)
    payload = {
        **B2B,
        "buyer": {"ubn": buyer.ubn, "name": "買方公司"},
        "items": [{"description": "辦公椅", "quantity": "4", "unit_price": "2100", "tax_type": "1"}],
    }
    response = post_json(client, "/v1/invoices", payload, seller.headers)
    assert response.status_code == 201, response.body
    number = body_of(response)["invoice_number"]

    phone = new_page(PHONE)
    sign_in(phone, buyer.ubn)
    menu(phone).get_by_role("link", name="進項發票").click()
    expect(phone.get_by_role("heading", name="進項發票")).to_be_visible()
    row = phone.get_by_role("row").filter(has_text=number)
    expect(row).to_contain_text(seller.ubn)
    expect(row).to_contain_text("8,400")
    fits_a_phone(phone)
    screenshot(phone, "inbox-received-375")

    row.get_by_role("link", name=number).click()
    expect(phone.get_by_role("heading", name=re.compile(number))).to_be_visible()
    expect(phone.get_by_text("辦公椅")).to_be_visible()
    # 8,400 tax included: 8,000 before tax and 400 of deductible input tax.
    expect(phone.locator("dl.facts").last).to_contain_text("8,000")
    expect(phone.locator("dl.facts").last).to_contain_text("400")
    fits_a_phone(phone)
    screenshot(phone, "inbox-received-detail-375")
    with phone.expect_download() as download:
        phone.get_by_role("link", name="MIG F0401 XML").click()
    assert download.value.suggested_filename == f"{number}-F0401.xml"


def test_a_pending_invoice_is_prepared_then_issued(page: Page, new_page, client, staff_headers, new_merchant) -> None:
    merchant = make_issuer(client, staff_headers, new_merchant)
    sign_in(page, merchant.ubn)
    menu(page).get_by_role("link", name="待開發票").click()
    page.get_by_role("link", name="新增待開發票").click()
    page.get_by_label("訂單編號").fill("WEB-ORDER-1")
    page.get_by_label("載具類別").select_option("3J0002")
    page.get_by_label("載具號碼").fill("/ABC+123")
    rows = page.locator("[data-item-row]")
    expect(rows).to_have_count(3)
    page.get_by_role("button", name="再加一列品項").click()
    expect(rows).to_have_count(4)
    fourth = rows.nth(3)
    fourth.get_by_label("品名").fill("可頌")
    fourth.get_by_label("數量").fill("3")
    fourth.get_by_label("單價").fill("45")
    page.get_by_role("button", name="建立待開發票").click()

    expect(page.get_by_text("已建立待開發票")).to_be_visible()
    expect(page.get_by_text("待付款開立")).to_be_visible()
    expect(page.get_by_role("cell", name="可頌")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="立即開立發票").click()
    expect(page.get_by_text("發票已開立。")).to_be_visible()
    found = body_of(client.http.get("/v1/invoices?order_id=WEB-ORDER-1", headers=merchant.headers))["items"]
    assert len(found) == 1 and found[0]["amounts"]["total_amount"] == 135
    expect(page.get_by_role("link", name=found[0]["invoice_number"])).to_be_visible()

    phone = new_page(PHONE)
    sign_in(phone, merchant.ubn)
    phone.goto("/console/pending")
    expect(phone.get_by_role("link", name="WEB-ORDER-1")).to_be_visible()
    fits_a_phone(phone)
    screenshot(phone, "inbox-pending-375")
    phone.goto("/console/pending/new")
    fits_a_phone(phone)


def test_a_buyer_downloads_the_periods_purchase_list_as_csv(new_page, client, staff_headers, new_merchant) -> None:
    import csv
    import io
    from pathlib import Path

    from tests.api.test_invoices import _period

    buyer = new_merchant()
    seller = make_issuer(client, staff_headers, new_merchant)
    payload = {
        **B2B,
        "buyer": {"ubn": buyer.ubn, "name": "買方公司"},
        "items": [{"description": "印表機碳粉", "quantity": "3", "unit_price": "1050", "tax_type": "1"}],
    }
    response = post_json(client, "/v1/invoices", payload, seller.headers)
    assert response.status_code == 201, response.body
    invoice = body_of(response)
    number = invoice["invoice_number"]
    allowed = post_json(
        client,
        "/v1/allowances",
        {
            "items": [
                {
                    "original_invoice_number": number,
                    "description": "碳粉退回",
                    "quantity": "1",
                    "unit_price": "1050",
                    "tax_type": "1",
                }
            ]
        },
        seller.headers,
    )
    assert allowed.status_code == 201, allowed.body
    period = _period().code

    phone = new_page(PHONE)
    sign_in(phone, buyer.ubn)
    menu(phone).get_by_role("link", name="進項發票").click()
    lists = phone.get_by_role("region", name="進項存證清冊下載")
    expect(lists.get_by_label("清冊期別")).to_have_value(period)
    fits_a_phone(phone)
    screenshot(phone, "inbox-purchase-lists-375")
    with phone.expect_download() as download:
        lists.get_by_role("button", name="下載 E0502 CSV").click()
    assert download.value.suggested_filename == f"purchase-invoices-{period}-{buyer.ubn}.csv"
    saved = Path(download.value.path()).read_bytes()
    assert saved.startswith(b"\xef\xbb\xbf")
    (row,) = list(csv.DictReader(io.StringIO(saved.decode("utf-8-sig"))))
    assert row["發票號碼 / Invoice number"] == number
    assert row["賣方統一編號 / Seller UBN"] == seller.ubn
    assert row["總計 / Total amount"] == str(invoice["amounts"]["total_amount"])  # 3,150 as issued

    phone.get_by_role("link", name="進項折讓單").click()
    expect(phone.get_by_role("heading", name="進項折讓單")).to_be_visible()
    row = phone.get_by_role("row").filter(has_text=body_of(allowed)["allowance_number"])
    expect(row).to_contain_text(seller.ubn)
    expect(row).to_contain_text("1,050")
    fits_a_phone(phone)
    screenshot(phone, "inbox-received-allowances-375")
    with phone.expect_download() as xml_download:
        phone.get_by_role("region", name="進項存證清冊下載").get_by_role("button", name="下載 E0503 XML").click()
    assert xml_download.value.suggested_filename == f"E0503-{period}-{buyer.ubn}.xml"

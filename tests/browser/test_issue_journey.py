"""線上開立 in Chromium on a 375-px phone: a merchant with an activated track on the online channel
fills the form as a person does (labels, the keyboard), watches the server's totals follow, and
issues a consumer invoice into a mobile barcode and a business invoice whose buyer name the UBN fills.

Expected totals are worked out by hand (MOF rule: the tax once on the total, half up): 3 x 105
tax-inclusive = 315, of which sales 315 / 1.05 = 300 and tax 15.
"""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.api.conftest import random_ubn, register_business
from tests.api.test_invoices import Issuer, make_issuer
from tests.browser.conftest import PHONE, fits_a_phone, screenshot, sign_in

NUMBER_URL = re.compile(r"/console/invoices/([A-Z]{2}[0-9]{8})")


def ready_merchant(client, staff_headers, new_merchant) -> Issuer:
    """Staff allocates a range, the merchant activates it and gives the online channel booklets."""
    return make_issuer(client, staff_headers, new_merchant)


def item_row(page: Page, index: int) -> Locator:
    return page.get_by_role("group", name=f"第 {index} 項", exact=True)


def total_row(page: Page, name: str) -> Locator:
    preview = page.get_by_role("region", name="金額試算")
    return preview.get_by_role("row", name=re.compile("^" + re.escape(name) + r"\s"))


def fill_item(page: Page, index: int, description: str, quantity: str, price: str) -> None:
    row = item_row(page, index)
    row.get_by_label("品名").fill(description)
    row.get_by_label("數量").fill(quantity)
    row.get_by_label("單價").fill(price)


def issue_now(page: Page) -> str:
    """Press 開立發票 and wait for the new invoice's page: its number."""
    page.get_by_role("button", name="開立發票").click()
    page.wait_for_url(NUMBER_URL)
    return NUMBER_URL.search(page.url).group(1)  # type: ignore[union-attr]


def issue_b2c_carrier(page: Page, carrier: str) -> str:
    page.goto("/console/issue")
    page.get_by_label("一般消費者（B2C）").check()
    page.get_by_label("存入載具").check()
    page.get_by_label("載具類別").select_option(label="手機條碼")
    page.get_by_label("載具號碼").fill(carrier)
    fill_item(page, 1, "拿鐵咖啡", "3", "105")
    expect(total_row(page, "總計")).to_contain_text("315")
    expect(total_row(page, "營業稅（內含）")).to_contain_text("15")
    expect(total_row(page, "銷售額（未稅）")).to_contain_text("300")
    number = issue_now(page)
    expect(page.get_by_role("status").filter(has_text="發票已開立")).to_be_visible()
    return number


def issue_b2b(page: Page, buyer_ubn: str, buyer_name: str) -> str:
    page.goto("/console/issue")
    page.get_by_label("營業人，打統編（B2B）").check()
    page.get_by_label("買受人統一編號").fill(buyer_ubn)
    expect(page.get_by_label("買受人名稱")).to_have_value(buyer_name)  # from the tax registry
    fill_item(page, 1, "顧問服務", "3", "105")
    expect(total_row(page, "銷售額（未稅）")).to_contain_text("300")
    expect(total_row(page, "營業稅")).to_contain_text("15")
    expect(total_row(page, "總計")).to_contain_text("315")
    return issue_now(page)


def test_issuing_on_a_phone_with_the_keyboard(client, staff_headers, new_merchant, new_page) -> None:
    issuer = ready_merchant(client, staff_headers, new_merchant)
    buyer = random_ubn()
    buyer_name = register_business(client, staff_headers, buyer)
    phone = new_page(PHONE)
    sign_in(phone, issuer.ubn)
    phone.goto("/console/issue")
    expect(phone.get_by_role("heading", name="線上開立發票")).to_be_visible()
    # Only the fields of the choices made show: a consumer buyer has no UBN field.
    expect(phone.get_by_label("買受人統一編號")).to_be_hidden()
    expect(phone.get_by_label("載具號碼")).to_be_hidden()
    phone.get_by_label("存入載具").check()
    expect(phone.get_by_label("載具號碼")).to_be_visible()
    fill_item(phone, 1, "拿鐵咖啡", "3", "105")
    preview = phone.get_by_role("region", name="金額試算")
    expect(preview).to_contain_text("載具號碼為必填")  # the server checks the whole draft as issuing would
    phone.get_by_label("載具號碼").fill("/ABC+123")
    expect(total_row(phone, "總計")).to_contain_text("315")
    # Enter in a box refreshes the totals; it never issues.
    item_row(phone, 1).get_by_label("數量").press("Enter")
    expect(phone).to_have_url(re.compile(r"/console/issue$"))

    # A second row with the keyboard only: the new row takes the focus, the totals follow it.
    phone.get_by_role("button", name="＋ 新增品項").focus()
    phone.keyboard.press("Enter")
    expect(item_row(phone, 2).get_by_label("品名")).to_be_focused()
    phone.keyboard.type("蛋糕")
    phone.keyboard.press("Tab")
    phone.keyboard.type("1")
    phone.keyboard.press("Tab")
    phone.keyboard.type("80")
    expect(total_row(phone, "總計")).to_contain_text("395")  # 315 + 80
    fits_a_phone(phone)
    screenshot(phone, "issue-form-375")
    item_row(phone, 2).get_by_role("button", name="移除第 2 項").focus()
    phone.keyboard.press("Enter")
    expect(item_row(phone, 2)).to_have_count(0)
    # The focus moves to the row that is left once the rows are swapped in (htmx's autofocus):
    # wait for it, or the next field's typing can land in that row while it moves.
    expect(item_row(phone, 1).get_by_label("品名")).to_be_focused()
    expect(total_row(phone, "總計")).to_contain_text("315")

    # A mistake is said next to the field, in the page, without losing what was typed.
    phone.get_by_label("載具號碼").fill("ABC")
    phone.get_by_role("button", name="開立發票").click()
    expect(phone.get_by_label("載具號碼")).to_have_attribute("aria-invalid", "true")
    expect(phone.locator("#f-carrier-id-error")).to_contain_text("手機條碼")
    expect(item_row(phone, 1).get_by_label("品名")).to_have_value("拿鐵咖啡")
    phone.get_by_label("載具號碼").fill("/ABC+123")
    phone.get_by_role("button", name="開立發票").dblclick()  # an impatient double tap issues once
    phone.wait_for_url(NUMBER_URL)
    consumer = NUMBER_URL.search(phone.url).group(1)  # type: ignore[union-attr]
    assert consumer == f"{issuer.track}{issuer.begin:08d}", "the online channel's first number"

    business = issue_b2b(phone, buyer, buyer_name)
    assert business == f"{issuer.track}{issuer.begin + 1:08d}", "the double tap took one number"
    expect(phone.get_by_text(buyer_name)).to_have_count(1)
    fits_a_phone(phone)


def test_the_issue_form_in_english(client, staff_headers, new_merchant, page: Page) -> None:
    issuer = ready_merchant(client, staff_headers, new_merchant)
    sign_in(page, issuer.ubn)
    page.goto("/console/issue?lang=en")
    expect(page.get_by_role("heading", name="Issue an invoice")).to_be_visible()
    page.get_by_label("Business with a UBN (B2B)").check()
    expect(page.get_by_label("Buyer UBN")).to_be_visible()
    item_row_en = page.get_by_role("group", name="Item 1", exact=True)
    item_row_en.get_by_label("Description").fill("Service")
    item_row_en.get_by_label("Quantity").fill("1")
    item_row_en.get_by_label("Unit price").fill("1050")
    preview = page.get_by_role("region", name="Totals")
    # a name is still missing, so the preview says what stops it
    expect(preview).to_contain_text("Not computed yet")
    page.get_by_label("Buyer UBN").fill("22099131")
    page.get_by_label("Buyer name").fill("TSMC")
    # 1050 tax-inclusive: 1050 / 1.05 = 1000 sales, 50 tax
    expect(preview.get_by_role("row", name=re.compile(r"^Business tax\s"))).to_contain_text("50")
    expect(preview.get_by_role("row", name=re.compile(r"^Total\s"))).to_contain_text("1,050")

"""The whole journey of issue 14 in Chromium, from a business the platform has never seen to its
return, done only by clicking and typing in the pages, as a person who never saw curl does it.

An officer registers two businesses in the tax registry, issues the seller's initial password and
allocates it a range (配號). In a browser of its own, on a phone, the seller signs in, must choose its
own password, verifies a receiver email with the mailed code, sets the QR-code key the dashboard asks
for, activates its booklets (取號) and gives them to online issuing. It issues a consumer invoice into a
mobile barcode and a business invoice to the other business, finds each with the filters, downloads
their proofs and reads the QR codes back, cancels (作廢) the first, gives an allowance (折讓) on the
second, and watches the period's 401 return follow.

Every expected figure is worked out by hand from the MOF rules (tax 5 %, rounded half up once on the
total), never copied from the code:

- consumer, tax-inclusive: 2 x 65 + 1 x 105 = 235; sales 235 / 1.05 = 223.8 -> 224, tax 11;
- business, tax-exclusive: 2 x 1,234 + 1 x 567 = 3,035; tax 3,035 x 5 % = 151.75 -> 152; total 3,187;
- allowance on the business invoice's second line, before tax: 567, tax 567 x 5 % = 28.35 -> 28,
  595 in all, leaving 3,187 - 595 = 2,592 allowable;
- the return while both stand (box 5 = e-invoice sales, 6 = their tax): 3,035 + 224 = 3,259 and
  152 + 11 = 163; after the cancellation and the allowance: 5 = 3,035, 6 = 152, less allowances
  17 = 567 and 18 = 28, so 21 = 2,468 taxable sales, 22 = 101 = 124 output tax, and 111 = 124 to pay
  (nothing was bought on the platform, no credit is carried).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from chalicelib.domain.period import TAIWAN_TZ, Period
from tests.api.conftest import random_ubn
from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    fits_a_phone,
    last_code_sent_to,
    named,
    open_from_menu,
    screenshot,
    sign_in_staff,
)
from tests.browser.test_invoices_journey import codes_on
from tests.browser.test_issue_journey import fill_item, issue_now, item_row, total_row
from tests.unit.documents.test_pdf import pdf_tools  # noqa: F401 - fails the module without poppler/zbar

SELLER_NAME = "晨曦咖啡工作室"
SELLER_ADDRESS = "臺北市大安區復興南路一段390號"
BUYER_NAME = "山嵐顧問有限公司"
OWN_PASSWORD = "Morning-coffee-2026!"
QR_KEY = "00112233445566778899AABBCCDDEEFF"
CARRIER = "/ABC+123"


def _end_of_step(page: Page, step: str) -> None:
    """The page a step ends on, as a 375-px phone shows it (resized there and back if need be)."""
    viewport = page.viewport_size
    if viewport != PHONE:
        page.set_viewport_size(PHONE)
    fits_a_phone(page, step)
    screenshot(page, f"journey-{step}-375")
    if viewport != PHONE:
        page.set_viewport_size(viewport or DESKTOP)


def _checklist(page: Page) -> Locator:
    """The dashboard's list of what still blocks issuing."""
    return page.get_by_role("region", name="開立發票前還需要").get_by_role("listitem")


def _results(page: Page) -> list[str]:
    table = page.get_by_role("region", name="查詢結果")
    return re.findall(r"[A-Z]{2}[0-9]{8}", table.inner_text()) if table.count() else []


def _find(page: Page, **filters: str) -> list[str]:
    """A new search from the menu: type the filters (opening 更多條件 when one is inside it), search."""
    open_from_menu(page, "發票查詢")
    for label, value in filters.items():
        if not page.get_by_label(label, exact=True).is_visible():
            page.get_by_text("更多條件").click()
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="查詢", exact=True).click()
    page.wait_for_load_state()
    return _results(page)


def _box(page: Page, code: str, label: str) -> Locator:
    """The amount of box ``code`` of the return, found by its code and label as a reader finds it."""
    row = page.get_by_role("row", name=re.compile(rf"^{code} {re.escape(label)}"))
    return row.get_by_role("cell").last


def _fact(page: Page, term: str) -> Locator:
    return page.locator("dl.facts dt", has_text=re.compile(f"^{re.escape(term)}$")).locator(
        "xpath=following-sibling::dd[1]"
    )


def _left_qr(codes: list[str], number: str) -> str:
    (left,) = [code for code in codes if code.startswith(number)]
    return left


# --- the officer -----------------------------------------------------------------------------------


def _register(staff: Page, ubn: str, name: str, address: str) -> None:
    open_from_menu(staff, "稅籍資料")
    staff.get_by_role("link", name="登記新營業人").click()
    staff.get_by_label(named("統一編號")).fill(ubn)
    staff.get_by_label("營業人名稱").fill(name)
    staff.get_by_label("營業地址").fill(address)
    staff.get_by_label("稅籍狀態").select_option("active")
    staff.get_by_role("button", name="登記").click()
    expect(staff.get_by_role("heading", name=name)).to_be_visible()
    expect(staff.get_by_role("status")).to_contain_text("已儲存")


def _officer_opens_the_account(staff: Page, seller: str, buyer: str, track: str, begin: int, period: Period) -> str:
    staff.on("dialog", lambda dialog: dialog.accept())  # the confirmation before the password is issued
    sign_in_staff(staff)

    _register(staff, buyer, BUYER_NAME, "新竹市東區光復路二段101號")
    _register(staff, seller, SELLER_NAME, SELLER_ADDRESS)
    staff.get_by_role("button", name="核發初始密碼").click()
    expect(staff.get_by_role("heading", name="初始密碼已核發")).to_be_visible()
    initial = staff.get_by_test_id("initial-password").inner_text().strip()
    assert len(initial) >= 12

    # Two booklets (100 numbers) of the current period.
    staff.get_by_role("link", name="為此營業人配號").click()
    expect(staff.get_by_label(named("統一編號"))).to_have_value(seller)
    expect(staff.get_by_label(named("期別"))).to_have_value(period.code)
    expect(staff.get_by_label("發票類別")).to_have_value("07")
    staff.get_by_label(named("字軌")).fill(track)
    staff.get_by_label("起號").fill(f"{begin:08d}")
    staff.get_by_label("迄號").fill(f"{begin + 99:08d}")
    staff.get_by_role("button", name="配號", exact=True).click()
    expect(staff.get_by_role("status")).to_contain_text(f"{track}{begin:08d}–{track}{begin + 99:08d}")
    expect(staff.get_by_role("status")).to_contain_text("2 本")
    _end_of_step(staff, "1-staff-allocation")
    return initial


# --- the merchant ----------------------------------------------------------------------------------


def _first_sign_in(phone: Page, ubn: str, initial: str) -> None:
    phone.goto("/login")
    phone.get_by_label("統一編號").fill(ubn)
    phone.get_by_label(named("密碼")).fill(initial)
    phone.get_by_role("button", name="登入", exact=True).click()
    phone.wait_for_url(re.compile(r"/console/password$"))  # nothing else opens before its own password
    phone.get_by_label(named("目前密碼")).fill(initial)
    phone.get_by_label(named("新密碼")).fill(OWN_PASSWORD)
    phone.get_by_label(re.compile("再次輸入新密碼")).fill(OWN_PASSWORD)
    phone.get_by_role("button", name="變更密碼").click()
    phone.wait_for_url(re.compile(r"/console$"))
    expect(phone.get_by_role("heading", name="個人專區")).to_be_visible()
    expect(phone.get_by_role("main")).to_contain_text(SELLER_NAME)


def _settings(phone: Page, base_url: str, email: str) -> None:
    # The address came from the registry and the QR-code key was generated at sign-up: only the
    # numbers block issuing.
    expect(_checklist(phone)).to_have_text(["為線上開立指派字軌"])

    open_from_menu(phone, "設定")
    phone.get_by_role("navigation", name="設定項目").get_by_role("link", name="接收方式").click()
    section = phone.get_by_role("region", name=re.compile("^Email"))
    section.get_by_label("接收 Email").fill(email)
    section.get_by_role("button", name="儲存並寄送驗證碼").click()
    expect(section.get_by_text("待驗證")).to_be_visible()
    section.get_by_label("Email 驗證碼").fill(last_code_sent_to(base_url, email))
    section.get_by_role("button", name="確認驗證碼").click()
    expect(section.get_by_text("已驗證", exact=True)).to_be_visible()

    # The merchant replaces the generated key with the one from the MOF platform (密碼種子).
    phone.get_by_role("navigation", name="設定項目").get_by_role("link", name="QR Code 金鑰").click()
    expect(phone.get_by_role("heading", name="QR Code 加密金鑰", level=1)).to_be_visible()
    expect(phone.get_by_text("已設定", exact=True)).to_be_visible()
    phone.get_by_label(named("新的金鑰")).fill(QR_KEY)
    phone.get_by_role("button", name="更換金鑰").click()
    expect(phone.get_by_role("status")).to_have_text("已儲存。")
    expect(phone.get_by_text("已設定", exact=True)).to_be_visible()
    assert QR_KEY not in phone.content()  # stored sealed, never shown again

    open_from_menu(phone, "個人專區")
    expect(_checklist(phone)).to_have_text(["為線上開立指派字軌"])
    _end_of_step(phone, "2-settings")


def _tracks(phone: Page, track: str, begin: int) -> None:
    _checklist(phone).get_by_role("link", name="為線上開立指派字軌").click()
    expect(phone.get_by_role("heading", name="字軌", level=1)).to_be_visible()
    phone.get_by_role("link", name=f"{track} {begin:08d}–{begin + 99:08d}").click()
    phone.get_by_role("button", name="取號", exact=True).click()  # the count left empty: both booklets
    expect(phone.get_by_role("status")).to_have_text("已取號。")
    phone.get_by_label("開立通路", exact=True).select_option("online")
    phone.get_by_label("指派本數").fill("2")
    phone.get_by_role("button", name="指派", exact=True).click()
    expect(phone.get_by_role("status")).to_have_text("已指派給開立通路。")

    open_from_menu(phone, "個人專區")
    online = phone.get_by_role("row", name=re.compile("^線上開立"))
    expect(online.get_by_role("cell").first).to_have_text("100")  # 2 booklets x 50 numbers
    expect(phone.get_by_role("region", name="開立發票前還需要")).to_have_count(0)  # nothing blocks issuing
    _end_of_step(phone, "3-tracks-dashboard")


def _issue_to_a_consumer(phone: Page) -> str:
    open_from_menu(phone, "線上開立")
    expect(phone.get_by_role("heading", name="線上開立發票")).to_be_visible()
    expect(phone.locator("p.notice")).to_have_count(0)  # no setup missing
    phone.get_by_label("一般消費者（B2C）").check()
    phone.get_by_label("含稅（營業稅已含在單價內）").check()
    phone.get_by_label("存入載具").check()
    phone.get_by_label("載具類別").select_option(label="手機條碼")
    phone.get_by_label("載具號碼").fill(CARRIER)
    fill_item(phone, 1, "拿鐵咖啡", "2", "65")
    phone.get_by_role("button", name="＋ 新增品項").click()
    expect(item_row(phone, 2).get_by_label("品名")).to_be_focused()
    fill_item(phone, 2, "司康禮盒", "1", "105")
    expect(total_row(phone, "第 1 項小計")).to_contain_text("130")
    expect(total_row(phone, "第 2 項小計")).to_contain_text("105")
    expect(total_row(phone, "總計")).to_contain_text("235")
    expect(total_row(phone, "營業稅（內含）")).to_contain_text("11")
    expect(total_row(phone, "銷售額（未稅）")).to_contain_text("224")
    number = issue_now(phone)
    expect(phone.get_by_role("status").filter(has_text="發票已開立")).to_be_visible()
    return number


def _issue_to_a_business(phone: Page, buyer: str) -> str:
    open_from_menu(phone, "線上開立")
    phone.get_by_label("營業人，打統編（B2B）").check()
    phone.get_by_label("買受人統一編號").press_sequentially(buyer, delay=40)  # typed, digit by digit
    expect(phone.get_by_label("買受人名稱")).to_have_value(BUYER_NAME)  # filled from the tax registry
    phone.get_by_label("未稅（另加 5% 營業稅）").check()
    fill_item(phone, 1, "顧問服務", "2", "1234")
    phone.get_by_role("button", name="＋ 新增品項").click()
    fill_item(phone, 2, "教育訓練", "1", "567")
    expect(total_row(phone, "第 1 項小計")).to_contain_text("2,468")
    expect(total_row(phone, "第 2 項小計")).to_contain_text("567")
    expect(total_row(phone, "銷售額（未稅）")).to_contain_text("3,035")
    expect(total_row(phone, "營業稅")).to_contain_text("152")
    expect(total_row(phone, "總計")).to_contain_text("3,187")
    _end_of_step(phone, "4-issue-b2b-form")
    number = issue_now(phone)
    expect(phone.get_by_role("status").filter(has_text="發票已開立")).to_be_visible()
    expect(phone.get_by_role("main")).to_contain_text(BUYER_NAME)
    return number


def _open_the_return(phone: Page, period: Period) -> None:
    open_from_menu(phone, "申報")
    phone.get_by_role("link", name=period.label_zh).click()
    expect(phone.get_by_role("heading", name=re.compile("營業人銷售額與稅額申報書"))).to_be_visible()
    expect(phone.get_by_text("本期進行中")).to_be_visible()


def _proof_codes(phone: Page, tmp: Path) -> list[str]:
    with phone.expect_download() as downloaded:
        phone.get_by_role("link", name="下載證明聯 PDF").click()
    pdf = Path(downloaded.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    tmp.mkdir()
    return codes_on(pdf, tmp)


def _check_the_left_qr(left: str, number: str, sales: int, total: int, buyer: str, seller: str) -> None:
    """The MOF layout: number (10), ROC date (7), random code (4), sales and total as 8 hex digits each,
    buyer UBN (00000000 for a consumer), seller UBN, then the AES-encrypted check."""
    today = datetime.now(TAIWAN_TZ).date()
    assert left[:10] == number
    assert left[10:17] == f"{today.year - 1911:03d}{today:%m%d}"
    assert left[17:21].isdigit()
    assert left[21:29].lower() == f"{sales:08x}"
    assert left[29:37].lower() == f"{total:08x}"
    assert left[37:45] == buyer
    assert left[45:53] == seller


def test_a_new_business_from_the_tax_office_to_its_return(
    page: Page, new_page, staff_headers, base_url: str, tmp_path: Path
) -> None:
    seller, buyer = random_ubn(), random_ubn()
    track = "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(2))
    begin = secrets.randbelow(999_000) * 50
    period = Period.from_date(datetime.now(TAIWAN_TZ).date())
    first, second = f"{track}{begin:08d}", f"{track}{begin + 1:08d}"

    # 1. The officer registers both businesses, issues the seller's initial password and numbers.
    initial = _officer_opens_the_account(page, seller, buyer, track, begin, period)

    # 2. The seller, on its phone: its own password, a verified email, the QR-code key.
    phone = new_page(PHONE)
    phone.on("dialog", lambda dialog: dialog.accept())
    _first_sign_in(phone, seller, initial)
    _settings(phone, base_url, f"billing-{seller}@example.com")

    # 3. Its booklets activated and given to online issuing.
    _tracks(phone, track, begin)

    # 4. A consumer invoice and a business invoice; the online channel's first two numbers.
    consumer = _issue_to_a_consumer(phone)
    assert consumer == first
    business = _issue_to_a_business(phone, buyer)
    assert business == second
    _open_the_return(phone, period)
    expect(_box(phone, "5", "應稅銷售額：收銀機發票(三聯式)及電子發票")).to_have_text("3,259")  # 3,035 + 224
    expect(_box(phone, "6", "銷項稅額：收銀機發票(三聯式)及電子發票")).to_have_text("163")  # 152 + 11
    expect(_fact(phone, "銷項發票")).to_have_text("2（B2B 1、B2C 1）")
    _end_of_step(phone, "4-return-after-issuing")

    # 5. Each found with the filters; its proof downloaded and its QR code read back.
    open_from_menu(phone, "發票查詢")
    expect(phone.get_by_role("heading", name="發票查詢")).to_be_visible()
    assert _results(phone) == [business, consumer]  # newest first
    assert _find(phone, 買受人統一編號=buyer) == [business]
    assert _find(phone, 總計下限="200", 總計上限="300") == [consumer]
    assert _find(phone, 總計下限="235", 總計上限="3187") == [business, consumer]  # both ends included
    assert _find(phone, 總計下限="236", 總計上限="3186") == []
    expect(phone.get_by_text("沒有符合條件的發票")).to_be_visible()
    assert _find(phone, 載具號碼=CARRIER) == [consumer]

    phone.get_by_role("link", name=consumer, exact=True).click()
    expect(phone.get_by_role("heading", name=re.compile(consumer))).to_contain_text("已開立")
    codes = _proof_codes(phone, tmp_path / "consumer")
    _check_the_left_qr(_left_qr(codes, consumer), consumer, 224, 235, "00000000", seller)
    assert any(consumer in code and not code.startswith(consumer) for code in codes)  # the 1D barcode

    assert _find(phone, 買受人統一編號=buyer, 總計下限="3000") == [business]
    phone.get_by_role("link", name=business, exact=True).click()
    expect(phone.get_by_role("heading", name=re.compile(business))).to_contain_text("已開立")
    codes = _proof_codes(phone, tmp_path / "business")
    _check_the_left_qr(_left_qr(codes, business), business, 3035, 3187, buyer, seller)
    _end_of_step(phone, "5-invoice-detail")

    # 6. The consumer invoice cancelled after its confirmation page; an allowance on the business one.
    assert _find(phone, 載具號碼=CARRIER) == [consumer]
    phone.get_by_role("link", name=consumer, exact=True).click()
    phone.get_by_role("link", name="作廢發票").click()
    expect(phone.get_by_role("heading", name="作廢後會發生什麼")).to_be_visible()
    phone.get_by_label("作廢原因").fill("客戶取消訂單")
    phone.get_by_role("button", name=f"確認作廢 {consumer}").click()
    expect(phone.get_by_role("status").filter(has_text="發票已作廢")).to_be_visible()
    expect(phone.get_by_role("heading", name=re.compile(consumer))).to_contain_text("已作廢")

    assert _find(phone, 買受人統一編號=buyer) == [business]
    phone.get_by_role("link", name=business, exact=True).click()
    phone.get_by_role("link", name="開立折讓單").click()
    expect(phone.get_by_role("main")).to_contain_text("剩餘可折讓 NT$ 3,187")
    training = phone.get_by_role("group", name=re.compile("^原品項 2：教育訓練"))
    training.get_by_label("折讓數量").fill("1")
    expect(training.get_by_label("折讓單價")).to_have_value("567")
    phone.get_by_role("group", name="折讓單價", exact=True).get_by_label("未稅").check()
    phone.get_by_role("button", name="檢視折讓內容").click()
    computed = phone.get_by_role("region", name="系統計算的折讓金額")
    expect(computed.get_by_role("row", name=re.compile(r"^折讓金額（未稅）\s"))).to_contain_text("567")
    expect(computed.get_by_role("row", name=re.compile(r"^折讓稅額\s"))).to_contain_text("28")
    expect(computed.get_by_role("row", name=re.compile(r"^折讓合計\s"))).to_contain_text("595")
    expect(computed.get_by_role("row", name=re.compile(r"^原發票剩餘可折讓"))).to_contain_text("2,592")
    phone.get_by_role("button", name="確認開立折讓單 NT$ 595").click()
    expect(phone.get_by_role("status").filter(has_text="折讓單已開立")).to_be_visible()
    expect(phone.get_by_role("region", name="折讓單")).to_contain_text("有效")
    _end_of_step(phone, "6-allowance")

    # 7. The return follows: the cancelled invoice no longer counts, the allowance is subtracted.
    _open_the_return(phone, period)
    expect(_box(phone, "5", "應稅銷售額：收銀機發票(三聯式)及電子發票")).to_have_text("3,035")
    expect(_box(phone, "6", "銷項稅額：收銀機發票(三聯式)及電子發票")).to_have_text("152")
    expect(_box(phone, "17", "減：退回及折讓 應稅銷售額")).to_have_text("567")
    expect(_box(phone, "18", "減：退回及折讓 稅額")).to_have_text("28")
    expect(_box(phone, "21", "合計 應稅銷售額")).to_have_text("2,468")  # 3,035 - 567
    expect(_box(phone, "22", "合計 銷項稅額")).to_have_text("124")  # 152 - 28
    expect(_box(phone, "101", "本期(月)銷項稅額合計")).to_have_text("124")
    expect(_box(phone, "111", "本期(月)應實繳稅額")).to_have_text("124")
    expect(_fact(phone, "銷項發票")).to_have_text("1（B2B 1、B2C 0）")
    expect(_fact(phone, "作廢")).to_have_text("1")
    expect(_fact(phone, "折讓")).to_have_text("1")
    _end_of_step(phone, "7-return")

"""The sign-in area in Chromium: the picture code, a forgotten password, the first sign-in with the
tax-office password, sign-up with a business certificate signed in the page, and sign-out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from chalicelib.security import captcha as security_captcha
from tests.api.conftest import random_ubn
from tests.browser.conftest import PHONE, api, fits_a_phone, last_code_sent_to, screenshot, sign_in

ANSWER = "K7M3P"
NEW_PASSWORD = "Brand-new-pass-2026"


@pytest.fixture
def readable_pictures(monkeypatch) -> str:
    """Pictures whose answer the test knows (the server runs in this process)."""
    monkeypatch.setattr(security_captcha, "new_answer", lambda: ANSWER)
    return ANSWER


def _register(base_url: str, staff_headers: dict[str, str], ubn: str, name: str) -> None:
    """The tax office puts the business in the tax registry (稅籍), through the JSON API."""
    status, _ = api(
        base_url,
        "PUT",
        f"/v1/admin/tax-registry/{ubn}",
        {"name": name, "address": "臺北市中正區重慶南路一段 2 號", "status": "active"},
        staff_headers,
    )
    assert status == 200


def _try_password(page: Page, ubn: str, password: str) -> None:
    page.get_by_label("統一編號").fill(ubn)
    page.get_by_label(re.compile("^密碼")).fill(password)
    page.get_by_role("button", name="登入", exact=True).click()


def test_after_five_wrong_passwords_the_picture_code_lets_the_owner_in(
    new_page, new_merchant, readable_pictures
) -> None:
    merchant = new_merchant()
    phone = new_page(PHONE)
    phone.goto("/login")
    for _ in range(5):
        _try_password(phone, merchant.ubn, "wrong-password-1")
        expect(phone.get_by_text("帳號或密碼錯誤")).to_be_visible()
    expect(phone.get_by_role("img", name=re.compile("圖形驗證碼"))).to_have_count(0)

    _try_password(phone, merchant.ubn, merchant.password)
    picture = phone.get_by_role("img", name=re.compile("圖形驗證碼"))
    expect(picture).to_be_visible()
    assert picture.get_attribute("src").startswith("data:image/png;base64,")
    expect(phone.get_by_text("登入失敗次數過多")).to_be_visible()
    screenshot(phone, "auth-login-picture-code-375")
    fits_a_phone(phone)

    # the spoken alternative loads in the page's player (the CSP allows media from this origin only)
    seconds = phone.get_by_label("語音驗證碼").evaluate(
        """player => new Promise(done => {
             player.addEventListener("loadedmetadata", () => done(player.duration));
             player.addEventListener("error", () => done(-1));
             player.preload = "auto";
             player.load();
           })"""
    )
    assert seconds > 3  # five characters read out with pauses between them

    first_id = phone.locator("input[name=captcha_id]").input_value()
    phone.get_by_role("button", name="換一張圖").click()  # htmx swaps the picture, the typed UBN stays
    expect(phone.locator("input[name=captcha_id]")).not_to_have_value(first_id)
    expect(phone.get_by_label("統一編號")).to_have_value(merchant.ubn)

    phone.get_by_label(re.compile("^密碼")).fill(merchant.password)
    phone.get_by_label("請輸入圖中的 5 個字元").fill(ANSWER.lower())
    phone.get_by_role("button", name="登入", exact=True).click()
    phone.wait_for_url(re.compile(r"/console$"))
    expect(phone.get_by_role("heading", name="個人專區")).to_be_visible()


def test_a_forgotten_password_is_reset_with_the_mailed_code(new_page, new_merchant, base_url) -> None:
    merchant = new_merchant()
    email = f"owner-{merchant.ubn}@example.com"
    status, _ = api(base_url, "PATCH", "/v1/merchant", {"email": email}, merchant.headers)
    assert status == 200
    phone = new_page(PHONE)
    phone.goto("/login")
    screenshot(phone, "auth-login-375")
    fits_a_phone(phone)
    phone.get_by_role("link", name="忘記密碼").click()
    expect(phone.get_by_role("heading", name="忘記密碼")).to_be_visible()
    phone.get_by_label("統一編號").fill(merchant.ubn)
    phone.get_by_label("登記的 Email").fill(email)
    screenshot(phone, "auth-forgot-password-375")
    fits_a_phone(phone)
    phone.get_by_role("button", name="寄送驗證碼").click()

    expect(phone.get_by_role("heading", name="重設密碼")).to_be_visible()
    expect(phone.get_by_text("若統一編號與 Email 相符")).to_be_visible()
    expect(phone.get_by_label("統一編號")).to_have_value(merchant.ubn)
    phone.get_by_label("Email 中的驗證碼").fill(last_code_sent_to(base_url, email))
    phone.get_by_label(re.compile("^新密碼")).fill(NEW_PASSWORD)
    phone.get_by_label("再次輸入新密碼").fill(NEW_PASSWORD)
    screenshot(phone, "auth-reset-password-375")
    fits_a_phone(phone)
    phone.get_by_role("button", name="設定新密碼並登入").click()
    phone.wait_for_url(re.compile(r"/console$"))

    phone.get_by_role("button", name="登出").click()
    phone.wait_for_url(re.compile(r"/login"))
    sign_in(phone, merchant.ubn, NEW_PASSWORD)
    expect(phone.get_by_role("heading", name="個人專區")).to_be_visible()


def test_the_first_sign_in_with_the_tax_office_password_forces_a_new_one(page: Page, base_url, staff_headers) -> None:
    ubn = random_ubn()
    _register(base_url, staff_headers, ubn, f"首登商行 {ubn}")
    status, issued = api(base_url, "POST", f"/v1/admin/merchants/{ubn}/credentials", {}, staff_headers)
    assert status == 201
    initial = issued["initial_password"]

    page.goto("/login")
    _try_password(page, ubn, initial)
    page.wait_for_url(re.compile(r"/console/password$"))
    expect(page.get_by_text("稽徵機關核發的初始密碼")).to_be_visible()
    expect(page.get_by_role("navigation", name="功能選單")).to_have_count(0)
    page.goto("/console")  # nothing else opens before the new password
    page.wait_for_url(re.compile(r"/console/password$"))

    page.get_by_label("目前密碼").fill(initial)
    page.get_by_label(re.compile("^新密碼")).fill(NEW_PASSWORD)
    page.get_by_label("再次輸入新密碼").fill(NEW_PASSWORD + "?")
    page.get_by_role("button", name="變更密碼").click()
    expect(page.get_by_text("兩次輸入的新密碼不一致")).to_be_visible()
    page.get_by_label("目前密碼").fill(initial)
    page.get_by_label(re.compile("^新密碼")).fill(NEW_PASSWORD)
    page.get_by_label("再次輸入新密碼").fill(NEW_PASSWORD)
    page.get_by_role("button", name="變更密碼").click()
    page.wait_for_url(re.compile(r"/console$"))
    expect(page.get_by_role("heading", name="個人專區")).to_be_visible()
    expect(page.get_by_role("navigation", name="功能選單")).to_be_visible()


def test_certificate_sign_up_signs_the_challenge_in_the_page(
    new_page, base_url, staff_headers, test_ca, tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives import serialization

    from tests.unit.security.certs import issue_merchant_certificate

    ubn = random_ubn()
    _register(base_url, staff_headers, ubn, f"憑證商行 {ubn}")
    issued = issue_merchant_certificate(test_ca, ubn)
    certificate = tmp_path / "cert.pem"
    certificate.write_bytes(issued.pem)
    key = tmp_path / "key.pem"
    key.write_bytes(
        issued.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )

    phone = new_page(PHONE)
    phone.goto("/login")
    phone.get_by_role("link", name="以工商憑證申請帳號").click()
    expect(phone.get_by_role("heading", name="以工商憑證申請帳號")).to_be_visible()
    phone.get_by_role("button", name="取得挑戰碼").click()
    expect(phone.get_by_role("heading", name="1. 挑戰碼")).to_be_visible()

    phone.get_by_label("憑證檔（PEM 或 DER）").set_input_files(str(certificate))
    phone.get_by_label("私密金鑰檔（PKCS#8 PEM）").set_input_files(str(key))
    phone.get_by_role("button", name="在瀏覽器內簽章").click()
    expect(phone.get_by_text("已簽章，簽章已填入下方欄位。")).to_be_visible()
    assert len(phone.get_by_label("簽章（base64）").input_value()) > 80
    expect(phone.get_by_label("私密金鑰檔（PKCS#8 PEM）")).to_have_value("")  # the key is let go
    phone.get_by_label(re.compile("^密碼")).fill(NEW_PASSWORD)
    phone.get_by_label("再次輸入密碼").fill(NEW_PASSWORD)
    screenshot(phone, "auth-certificate-signup-375")
    fits_a_phone(phone)

    sent: list[str] = []
    phone.on("request", lambda request: sent.append(request.post_data or "") if request.method == "POST" else None)
    phone.get_by_role("button", name="申請帳號並登入").click()
    phone.wait_for_url(re.compile(r"/console$"))
    expect(phone.get_by_text(ubn).first).to_be_visible()
    assert sent and all("PRIVATE KEY" not in body for body in sent)  # the key never left the browser


def test_after_sign_out_back_and_old_cookies_open_nothing(page: Page, browser, base_url, new_merchant) -> None:
    merchant = new_merchant()
    sign_in(page, merchant.ubn)
    page.goto("/console")
    expect(page.get_by_role("heading", name="個人專區")).to_be_visible()
    cookies = page.context.cookies()

    page.get_by_role("button", name="登出").click()
    page.wait_for_url(re.compile(r"/login"))
    page.go_back()
    page.wait_for_url(re.compile(r"/login"))
    expect(page.get_by_role("heading", name="個人專區")).to_have_count(0)
    expect(page.get_by_role("heading", name="營業人登入")).to_be_visible()

    replay = browser.new_context(base_url=base_url)
    try:
        replay.add_cookies(cookies)
        stolen = replay.new_page()
        stolen.goto("/console")
        stolen.wait_for_url(re.compile(r"/login"))
        expect(stolen.get_by_role("heading", name="營業人登入")).to_be_visible()
    finally:
        replay.close()


def test_the_sign_in_pages_in_english(page: Page) -> None:
    page.goto("/login?lang=en")
    expect(page.get_by_role("heading", name="Merchant sign-in")).to_be_visible()
    page.get_by_role("link", name="Forgot your password?").click()
    expect(page.get_by_label("Registered email")).to_be_visible()
    page.get_by_role("link", name=re.compile("Sign up with a business certificate")).click()
    page.get_by_role("button", name="Get a challenge").click()
    expect(page.get_by_label("Private key file (PKCS#8 PEM)")).to_be_visible()
    expect(page.get_by_label("Signature (base64)")).to_be_visible()

"""Settings (設定) in Chromium: verifying a receiver email with the code from the inbox, and an API
key whose secret is shown once; each settings page fits a 375-px phone."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, api, last_code_sent_to, open_from_menu, pages_fit_a_phone, sign_in


def test_a_merchant_verifies_the_receiver_email_with_the_code_it_received(page: Page, new_merchant, base_url) -> None:
    merchant = new_merchant()
    email = f"billing-{merchant.ubn}@example.com"
    sign_in(page, merchant.ubn)
    open_from_menu(page, "設定")
    page.get_by_role("navigation", name="設定項目").get_by_role("link", name="接收方式").click()

    section = page.get_by_role("region", name=re.compile("^Email"))
    section.get_by_label("接收 Email").fill(email)
    section.get_by_role("button", name="儲存並寄送驗證碼").click()
    expect(section.get_by_role("status")).to_contain_text(email)
    expect(section.get_by_text("待驗證")).to_be_visible()

    section.get_by_label("Email 驗證碼").fill(last_code_sent_to(base_url, email))
    section.get_by_role("button", name="確認驗證碼").click()
    expect(section.get_by_text("已驗證", exact=True)).to_be_visible()
    expect(section.get_by_label("Email 驗證碼")).to_have_count(0)


def test_a_merchant_creates_an_api_key_and_sees_its_secret_once(page: Page, new_merchant, base_url) -> None:
    merchant = new_merchant()
    sign_in(page, merchant.ubn)
    page.goto("/console/settings/api-keys")
    page.get_by_label("金鑰名稱").fill("門市 POS 1")
    page.get_by_label(re.compile("^tracks:read")).check()
    page.get_by_role("button", name="建立金鑰").click()

    secret_box = page.locator("output#new-secret")
    expect(secret_box).to_have_text(re.compile(r"^ak_[A-Za-z0-9_-]{12}\..+"))
    expect(page.get_by_text("這是唯一一次顯示完整金鑰", exact=False)).to_be_visible()
    expect(page.get_by_role("button", name="複製金鑰")).to_be_visible()
    secret = secret_box.inner_text().strip()
    status, _ = api(base_url, "GET", "/v1/tracks", headers={"X-Api-Key": secret})
    assert status == 200

    page.get_by_role("link", name="我已複製，回到金鑰列表").click()
    expect(page.get_by_role("cell", name="門市 POS 1", exact=True)).to_be_visible()
    assert secret not in page.content()

    page.get_by_role("link", name=re.compile("^撤銷 門市 POS 1")).click()
    page.get_by_role("button", name="確定撤銷").click()
    expect(page.get_by_role("status")).to_contain_text("金鑰已撤銷")
    status, _ = api(base_url, "GET", "/v1/tracks", headers={"X-Api-Key": secret})
    assert status == 401


def test_the_settings_pages_fit_a_phone(new_page, new_merchant) -> None:
    merchant = new_merchant()
    phone = new_page(PHONE)
    sign_in(phone, merchant.ubn)
    pages_fit_a_phone(
        phone,
        (
            ("/console/settings", "settings-overview-375"),
            ("/console/settings/receivers", "settings-receivers-375"),
            ("/console/settings/api-keys", "settings-api-keys-375"),
            ("/console/settings/qr-key", "settings-qr-key-375"),
            ("/console/settings/issuing", "settings-issuing-375"),
        ),
    )

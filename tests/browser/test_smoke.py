"""The console in Chromium: signing in and the language switch."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, screenshot, sign_in


def test_a_merchant_signs_in_and_switches_to_english(page: Page, new_merchant) -> None:
    merchant = new_merchant()
    sign_in(page, merchant.ubn)
    expect(page.get_by_role("heading", name="個人專區")).to_be_visible()
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def test_the_sign_in_page_fits_a_phone(new_page) -> None:
    phone = new_page(PHONE)
    phone.goto("/login")
    expect(phone.get_by_role("button", name=re.compile("登入"))).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"]
    screenshot(phone, "login-375")

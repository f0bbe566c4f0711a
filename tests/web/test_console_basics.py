"""What every console page obeys: sign-in by cookie, CSRF on every change, both languages."""

from __future__ import annotations

from tests.web.conftest import Console, text_of


def test_the_root_sends_a_stranger_to_sign_in(console: Console) -> None:
    response = console.get("/")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    page = console.get("/login")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "統一編號" in text_of(page) and '<label for="f-ubn">' in text_of(page)


def test_signing_in_sets_a_strict_http_only_session_and_opens_the_dashboard(signed_in) -> None:
    browser, merchant = signed_in()
    cookies = browser.cookies
    assert {"einv_at", "einv_rt", "einv_csrf"} <= set(cookies)
    dashboard = browser.get("/console")
    assert dashboard.status_code == 200 and merchant.ubn in text_of(dashboard)


def test_session_cookies_are_http_only_same_site_strict(console: Console, new_merchant) -> None:
    merchant = new_merchant()
    response = console.post("/login", {"ubn": merchant.ubn, "password": merchant.password})
    lines = response.headers["Set-Cookie"]
    session = [line for line in lines if line.startswith(("einv_at=", "einv_rt="))]
    assert len(session) == 2
    assert all("HttpOnly" in line and "SameSite=Strict" in line for line in session)


def test_a_change_without_the_csrf_token_is_refused(signed_in) -> None:
    browser, _ = signed_in()
    refused = browser.post("/logout", {}, csrf=False)
    assert refused.status_code == 403
    assert browser.get("/console").status_code == 200  # still signed in: nothing was done
    wrong = browser.post("/logout", {"csrf_token": "not-the-token"})
    assert wrong.status_code == 403


def test_a_wrong_password_is_shown_next_to_the_password(console: Console, new_merchant) -> None:
    merchant = new_merchant()
    response = console.post("/login", {"ubn": merchant.ubn, "password": "not-the-password-1"})
    assert response.status_code == 422
    assert 'id="f-password-error"' in text_of(response) and "帳號或密碼錯誤" in text_of(response)


def test_english_is_a_switch_that_is_remembered(console: Console) -> None:
    english = console.get("/login?lang=en")
    assert "Merchant sign-in" in text_of(english) and console.cookies.get("einv_lang") == "en"
    assert "Merchant sign-in" in text_of(console.get("/login"))
    assert "營業人登入" in text_of(console.get("/login?lang=zh-TW"))


def test_signing_out_ends_the_session(signed_in) -> None:
    browser, _ = signed_in()
    kept = dict(browser.cookies)
    assert browser.post("/logout", {}).status_code == 303
    assert browser.get("/console").status_code == 303
    browser.cookies = kept  # the old cookies replayed after sign-out open nothing
    assert browser.get("/console").status_code == 303


def test_switching_language_keeps_the_page_and_its_query(signed_in) -> None:
    browser, _ = signed_in()
    page = text_of(browser.get("/console/invoices?buyer_ubn=22099131&period=11401"))
    assert 'href="?buyer_ubn=22099131&amp;period=11401&amp;lang=en"' in page

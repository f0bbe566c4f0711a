"""設定 (/console/settings): profile, receivers with code verification, API keys (secret once,
revoke after a confirmation), webhook secret, QR-code AES key and issuing defaults."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time

import pytest

from tests.api.conftest import body_of, last_code_sent_to
from tests.web.conftest import error_text, text_of

QR_KEY = "9C4A1E77D2B05F3386E1A0C4D59B7E21"
SECTIONS = ("profile", "receivers", "api-keys", "webhook", "qr-key", "issuing")


def _profile(client, merchant) -> dict:
    return body_of(client.http.get("/v1/merchant", headers=merchant.headers))


def _notify(client, ubn: str, secret: str) -> int:
    raw = json.dumps({"order_id": "NO-SUCH-ORDER"})
    stamp = str(int(time.time()))
    signature = hmac.new(secret.encode(), f"{stamp}.{raw}".encode(), hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Merchant-Ubn": ubn,
        "X-Timestamp": stamp,
        "X-Signature": signature,
    }
    return client.http.post("/v1/payments/notify", headers=headers, body=raw).status_code


# --- sign-in, CSRF, language -------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/console/settings", *(f"/console/settings/{s}" for s in SECTIONS)])
def test_every_settings_page_needs_a_sign_in(console, path) -> None:
    response = console.get(path)
    assert response.status_code == 303 and response.headers["Location"].startswith("/login?next=")
    if path != "/console/settings":  # the overview has no form
        assert console.post(path, {}).status_code == 303  # a form without a session changes nothing


@pytest.mark.parametrize(
    "path", ["/console/settings/receivers/verify", "/console/settings/api-keys/AAAAAAAAAAAA/revoke"]
)
def test_verifying_and_revoking_need_a_sign_in(console, path) -> None:
    response = console.post(path, {"channel": "email", "code": "123456"})
    assert response.status_code == 303 and response.headers["Location"] == "/login"


def test_a_setting_posted_without_the_csrf_token_is_refused(signed_in, client) -> None:
    browser, merchant = signed_in()
    refused = browser.post("/console/settings/profile", {"person_in_charge": "偽造", "address": "x"}, csrf=False)
    assert refused.status_code == 403
    assert _profile(client, merchant).get("person_in_charge") != "偽造"


def test_the_settings_pages_in_english(signed_in) -> None:
    browser, _ = signed_in()
    expected = {
        "/console/settings": "Issuing defaults",
        "/console/settings/profile": "Person in charge",
        "/console/settings/receivers": "Receiving email",
        "/console/settings/api-keys": "Create a key",
        "/console/settings/webhook": "Create the secret",
        "/console/settings/qr-key": "32 hexadecimal characters",
        "/console/settings/issuing": "Low-stock warning threshold",
    }
    browser.get("/console?lang=en")
    for path, label in expected.items():
        html = text_of(browser.get(path))
        assert label in html, path
        assert "儲存" not in html and "設定項目" not in html, path


# --- profile -----------------------------------------------------------------------------------


def test_the_profile_is_saved_and_errors_sit_next_to_their_field(signed_in, client) -> None:
    browser, merchant = signed_in()
    saved = browser.post(
        "/console/settings/profile",
        {"person_in_charge": "陳美玲", "phone": "02-2345-6789", "email": "", "address": "臺北市信義區市府路 1 號"},
    )
    assert saved.status_code == 303 and saved.headers["Location"] == "/console/settings/profile?done=saved"
    profile = _profile(client, merchant)
    assert (profile["person_in_charge"], profile["phone"], profile["address"]) == (
        "陳美玲",
        "02-2345-6789",
        "臺北市信義區市府路 1 號",
    )
    assert "已儲存" in text_of(browser.get(saved.headers["Location"]))

    bad_email = browser.post(
        "/console/settings/profile",
        {"person_in_charge": "陳美玲", "phone": "", "email": "not-an-email", "address": "臺北市"},
    )
    assert bad_email.status_code == 422
    assert "電子郵件格式不正確" in error_text(text_of(bad_email), "f-email")
    assert 'value="not-an-email"' in text_of(bad_email)  # what was typed stays, to be corrected
    no_address = browser.post("/console/settings/profile", {"person_in_charge": "x", "phone": "", "address": " "})
    assert no_address.status_code == 422 and error_text(text_of(no_address), "f-address")
    assert _profile(client, merchant)["person_in_charge"] == "陳美玲"  # nothing of a refused form is kept


def test_the_ubn_and_registered_name_cannot_be_changed_from_the_form(signed_in, client) -> None:
    browser, merchant = signed_in()
    browser.post("/console/settings/profile", {"ubn": "12345675", "name": "別家", "address": "臺北市"})
    profile = _profile(client, merchant)
    assert (profile["ubn"], profile["name"]) == (merchant.ubn, merchant.name)


# --- receivers ---------------------------------------------------------------------------------


def test_an_email_is_verified_with_the_code_it_received(signed_in, client) -> None:
    browser, merchant = signed_in()
    email = f"ap-{merchant.ubn}@example.com"
    sent = browser.post("/console/settings/receivers", {"channel": "email", "email": email})
    assert sent.status_code == 303 and sent.headers["Location"] == "/console/settings/receivers?sent=email"
    page = text_of(browser.get(sent.headers["Location"]))
    assert "待驗證" in page and 'id="email-code"' in page and email in page

    code = last_code_sent_to(client, email)
    wrong = "000000" if code != "000000" else "111111"
    refused = browser.post("/console/settings/receivers/verify", {"channel": "email", "code": wrong})
    assert refused.status_code == 422
    assert "驗證碼不正確" in error_text(text_of(refused), "email-code")
    assert _profile(client, merchant)["receivers"]["email"]["verified"] is False

    done = browser.post("/console/settings/receivers/verify", {"channel": "email", "code": code})
    assert done.status_code == 303
    page = text_of(browser.get(done.headers["Location"]))
    assert "驗證完成" in page and "已驗證" in page and 'id="email-code"' not in page
    assert _profile(client, merchant)["receivers"]["email"] == {
        "address": email,
        "verified": True,
        "verified_at": _profile(client, merchant)["receivers"]["email"]["verified_at"],
    }


def test_a_bad_mobile_number_is_refused_next_to_it_and_sends_nothing(signed_in, client) -> None:
    browser, merchant = signed_in()
    refused = browser.post("/console/settings/receivers", {"channel": "mobile", "mobile": "0212345678"})
    assert refused.status_code == 422
    assert "09xxxxxxxx" in error_text(text_of(refused), "f-mobile")
    assert "mobile" not in _profile(client, merchant)["receivers"]
    empty = browser.post("/console/settings/receivers", {"channel": "mobile", "mobile": ""})
    assert empty.status_code == 422 and error_text(text_of(empty), "f-mobile")


def test_a_mobile_is_stored_in_e164_and_verified(signed_in, client) -> None:
    browser, merchant = signed_in()
    mobile = "09" + merchant.ubn  # 10 digits, unique to this test's merchant
    browser.post("/console/settings/receivers", {"channel": "mobile", "mobile": mobile})
    stored = "+886" + mobile[1:]
    assert _profile(client, merchant)["receivers"]["mobile"]["address"] == stored
    code = last_code_sent_to(client, stored)
    assert browser.post("/console/settings/receivers/verify", {"channel": "mobile", "code": code}).status_code == 303
    assert _profile(client, merchant)["receivers"]["mobile"]["verified"] is True


# --- API keys ----------------------------------------------------------------------------------


def _create_key(browser, name="門市 POS 1", scopes=("tracks:read",)) -> str:
    created = browser.post("/console/settings/api-keys", {"name": name, "scopes": list(scopes)})
    assert created.status_code == 200, text_of(created)
    match = re.search(r'<output id="new-secret" class="secret">([^<]+)</output>', text_of(created))
    assert match
    return match.group(1)


def test_a_new_api_key_is_shown_once_and_works(signed_in, client) -> None:
    browser, _ = signed_in()
    secret = _create_key(browser)
    assert secret.startswith("ak_")
    assert client.http.get("/v1/tracks", headers={"X-Api-Key": secret}).status_code == 200
    listing = text_of(browser.get("/console/settings/api-keys"))
    assert "門市 POS 1" in listing and "tracks:read" in listing
    assert secret not in listing and secret.split(".", 1)[1] not in listing  # never the secret again
    # the key has only the scope chosen: it cannot list invoices
    assert client.http.get("/v1/invoices", headers={"X-Api-Key": secret}).status_code == 403


def test_a_key_needs_a_name_and_a_permission(signed_in) -> None:
    browser, _ = signed_in()
    no_scope = browser.post("/console/settings/api-keys", {"name": "ERP"})
    assert no_scope.status_code == 422 and "請至少選擇一項權限" in error_text(text_of(no_scope), "scopes")
    no_name = browser.post("/console/settings/api-keys", {"name": "  ", "scopes": ["invoices:read"]})
    assert no_name.status_code == 422 and error_text(text_of(no_name), "f-name")
    assert "尚未建立任何金鑰" in text_of(browser.get("/console/settings/api-keys"))


def test_revoking_asks_first_then_the_key_stops_working(signed_in, client) -> None:
    browser, _ = signed_in()
    secret = _create_key(browser, "ERP")
    key_id = secret.split(".", 1)[0].removeprefix("ak_")
    confirm = browser.get(f"/console/settings/api-keys/{key_id}/revoke")
    assert confirm.status_code == 200 and "確定撤銷" in text_of(confirm) and "ERP" in text_of(confirm)
    assert client.http.get("/v1/tracks", headers={"X-Api-Key": secret}).status_code == 200  # asking changed nothing
    revoked = browser.post(f"/console/settings/api-keys/{key_id}/revoke", {})
    assert revoked.status_code == 303
    assert "金鑰已撤銷" in text_of(browser.get(revoked.headers["Location"]))
    assert client.http.get("/v1/tracks", headers={"X-Api-Key": secret}).status_code == 401


def test_another_merchant_cannot_see_or_revoke_my_key(signed_in, client) -> None:
    owner, merchant = signed_in()
    stranger, _ = signed_in()
    name = f"ERP of {merchant.ubn}"
    secret = _create_key(owner, name)
    key_id = secret.split(".", 1)[0].removeprefix("ak_")
    assert stranger.get(f"/console/settings/api-keys/{key_id}/revoke").status_code == 404
    assert stranger.post(f"/console/settings/api-keys/{key_id}/revoke", {}).status_code == 404
    assert client.http.get("/v1/tracks", headers={"X-Api-Key": secret}).status_code == 200
    assert name not in text_of(stranger.get("/console/settings/api-keys"))


# --- webhook secret ----------------------------------------------------------------------------


def test_the_webhook_secret_is_shown_once_and_rotating_needs_a_confirmation(signed_in, client) -> None:
    browser, merchant = signed_in()
    assert "產生密鑰" in text_of(browser.get("/console/settings/webhook"))
    made = browser.post("/console/settings/webhook", {})
    first = re.search(r'<output id="new-secret" class="secret">([^<]+)</output>', text_of(made))
    assert made.status_code == 200 and first
    assert _notify(client, merchant.ubn, first.group(1)) != 401  # notices signed with it are accepted
    page = text_of(browser.get("/console/settings/webhook"))
    assert "已設定" in page and first.group(1) not in page

    unconfirmed = browser.post("/console/settings/webhook", {})
    assert unconfirmed.status_code == 422 and error_text(text_of(unconfirmed), "f-confirm")
    assert _notify(client, merchant.ubn, first.group(1)) != 401  # still the same secret

    rotated = browser.post("/console/settings/webhook", {"confirm": "yes"})
    second = re.search(r'<output id="new-secret" class="secret">([^<]+)</output>', text_of(rotated))
    assert second and second.group(1) != first.group(1)
    assert _notify(client, merchant.ubn, first.group(1)) == 401
    assert _notify(client, merchant.ubn, second.group(1)) != 401


# --- QR-code AES key ---------------------------------------------------------------------------


def test_the_qr_key_is_set_checked_and_never_shown_back(signed_in, client) -> None:
    browser, merchant = signed_in()
    page = text_of(browser.get("/console/settings/qr-key"))
    # A key was generated at sign-up: the page offers to replace it with the MOF one.
    assert "已設定" in page and "更換金鑰" in page and "32 個十六進位字元" in page
    short = browser.post("/console/settings/qr-key", {"settings.qr_aes_key": QR_KEY[:31]})
    assert short.status_code == 422
    assert "31" in error_text(text_of(short), "f-settings-qr_aes_key")
    not_hex = browser.post("/console/settings/qr-key", {"settings.qr_aes_key": "G" * 32})
    assert not_hex.status_code == 422 and error_text(text_of(not_hex), "f-settings-qr_aes_key")

    saved = browser.post("/console/settings/qr-key", {"settings.qr_aes_key": QR_KEY.lower()})
    assert saved.status_code == 303
    page = text_of(browser.get(saved.headers["Location"]))
    assert "已設定" in page and "更換金鑰" in page
    assert QR_KEY not in page and QR_KEY.lower() not in page
    assert _profile(client, merchant)["settings"]["qr_aes_key_set"] is True


# --- issuing defaults --------------------------------------------------------------------------


def test_issuing_defaults_are_the_settings_the_invoicing_reads(signed_in, client) -> None:
    browser, merchant = signed_in()
    page = text_of(browser.get("/console/settings/issuing"))
    assert 'name="settings.email_buyer" value="yes" checked' in page  # the platform's default
    saved = browser.post(
        "/console/settings/issuing", {"settings.sms_buyer": "yes", "settings.low_stock_threshold": "20"}
    )
    assert saved.status_code == 303
    assert _profile(client, merchant)["settings"] == {
        "email_buyer": False,  # left unticked
        "sms_buyer": True,
        "low_stock_threshold": 20,
        "qr_aes_key_set": True,  # generated at sign-up
        "receiving_method": "storage",  # untouched by this page: B2B invoices are received as issued
    }
    refused = browser.post("/console/settings/issuing", {"settings.low_stock_threshold": "-3"})
    assert refused.status_code == 422 and error_text(text_of(refused), "f-settings-low_stock_threshold")
    too_many = browser.post("/console/settings/issuing", {"settings.low_stock_threshold": "2000000"})
    assert too_many.status_code == 422 and error_text(text_of(too_many), "f-settings-low_stock_threshold")
    assert _profile(client, merchant)["settings"]["low_stock_threshold"] == 20

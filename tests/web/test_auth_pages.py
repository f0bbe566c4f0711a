"""The sign-in area over HTTP: the picture code after repeated failures (and its spoken form), the
forgotten password, activation of a tax-office account, sign-up with a business certificate, and
sign-out. Each failure is looked for next to the input it is about."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from typing import Any

import pytest

from chalicelib.security import captcha as security_captcha
from tests.api.conftest import (
    MERCHANT_PASSWORD,
    last_code_sent_to,
    random_ubn,
    register_business,
)
from tests.web.conftest import Console, issued_initial_password, text_of

ANSWER = "K7M3P"
NEW_PASSWORD = "Brand-new-pass-2026"
_CAPTCHA_ID = re.compile(r'name="captcha_id" value="([^"]+)"')
_AUDIO = re.compile(r'<audio[^>]* src="([^"]+)"')
_NONCE = re.compile(r'name="nonce" value="([^"]+)"')


@pytest.fixture(autouse=True)
def own_address(client, monkeypatch) -> str:
    """Each test signs in from an address of its own: the per-IP sign-in budget is not shared."""
    address = "10.{}.{}.{}".format(*(secrets.randbelow(254) + 1 for _ in range(3)))
    monkeypatch.setattr(client.http._local_gateway.event_converter, "LOCAL_SOURCE_IP", address)
    return address


@pytest.fixture
def readable_pictures(monkeypatch) -> str:
    """Pictures whose answer the test knows, instead of reading the image."""
    monkeypatch.setattr(security_captcha, "new_answer", lambda: ANSWER)
    return ANSWER


def error_next_to(response: Any, name: str) -> str:
    """The error shown under the input ``name`` ('' when there is none)."""
    match = re.search(rf'<p id="f-{re.escape(name)}-error" class="error" role="alert">([^<]*)</p>', text_of(response))
    return match.group(1) if match else ""


def captcha_id_of(response: Any) -> str:
    match = _CAPTCHA_ID.search(text_of(response))
    assert match, "no picture code on the page"
    return match.group(1)


def shows_picture(response: Any) -> bool:
    return '<img src="data:image/png;base64,' in text_of(response) and 'for="f-captcha_answer"' in text_of(response)


def _fail_five_times(console: Console, path: str, form: dict[str, str]) -> None:
    for attempt in range(5):
        response = console.post(path, form)
        assert response.status_code == 422, attempt
        assert not shows_picture(response)


# --- the picture code --------------------------------------------------------------------------------


def test_five_wrong_passwords_bring_the_picture_and_the_right_answer_signs_in(
    console: Console, new_merchant, readable_pictures
) -> None:
    merchant = new_merchant()
    _fail_five_times(console, "/login", {"ubn": merchant.ubn, "password": "wrong-password-1"})

    gated = console.post("/login", {"ubn": merchant.ubn, "password": merchant.password})
    assert gated.status_code == 422 and shows_picture(gated)
    assert "圖中的 5 個字元" in error_next_to(gated, "captcha_answer")
    assert f'value="{merchant.ubn}"' in text_of(gated)  # the UBN is kept, the password is not
    assert merchant.password not in text_of(gated)

    wrong_answer = console.post(
        "/login",
        {
            "ubn": merchant.ubn,
            "password": merchant.password,
            "captcha_id": captcha_id_of(gated),
            "captcha_answer": "XXXXX",
        },
    )
    assert wrong_answer.status_code == 422 and shows_picture(wrong_answer)
    assert "驗證碼錯誤" in error_next_to(wrong_answer, "captcha_answer")
    assert captcha_id_of(wrong_answer) != captcha_id_of(gated)

    # a used challenge answers nothing, even with the right answer
    reused = console.post(
        "/login",
        {
            "ubn": merchant.ubn,
            "password": merchant.password,
            "captcha_id": captcha_id_of(gated),
            "captcha_answer": ANSWER,
        },
    )
    assert reused.status_code == 422

    signed = console.post(
        "/login",
        {
            "ubn": merchant.ubn,
            "password": merchant.password,
            "captcha_id": captcha_id_of(reused),
            "captcha_answer": ANSWER.lower(),
        },
    )
    assert signed.status_code == 303 and signed.headers["Location"] == "/console"
    assert console.get("/console").status_code == 200


def test_a_wrong_password_with_a_solved_picture_asks_for_another_picture(
    console: Console, new_merchant, readable_pictures
) -> None:
    merchant = new_merchant()
    _fail_five_times(console, "/login", {"ubn": merchant.ubn, "password": "wrong-password-1"})
    gated = console.post("/login", {"ubn": merchant.ubn, "password": "wrong-password-1"})
    again = console.post(
        "/login",
        {
            "ubn": merchant.ubn,
            "password": "wrong-password-2",
            "captcha_id": captcha_id_of(gated),
            "captcha_answer": ANSWER,
        },
    )
    assert again.status_code == 422 and shows_picture(again)
    assert "帳號或密碼錯誤" in error_next_to(again, "password")


def test_the_picture_has_a_spoken_form_for_this_challenge_only(console: Console, new_merchant) -> None:
    merchant = new_merchant()
    _fail_five_times(console, "/login", {"ubn": merchant.ubn, "password": "wrong-password-1"})
    gated = console.post("/login", {"ubn": merchant.ubn, "password": "wrong-password-1"})
    audio_path = _AUDIO.search(text_of(gated)).group(1).replace("&amp;", "&")
    assert ANSWER not in audio_path

    spoken = console.get(audio_path, headers={"Accept": "audio/wav"})
    assert spoken.status_code == 200 and spoken.headers["Content-Type"] == "audio/wav"
    assert spoken.body[:4] == b"RIFF" and spoken.body[8:12] == b"WAVE"
    assert len(spoken.body) > 8000  # more than a second of sound at 8 kHz

    path, _, query = audio_path.partition("?")
    other_challenge = console.get(f"/captcha/audio/{'A' * 24}?{query}", headers={"Accept": "audio/wav"})
    tampered = console.get(f"{path}?t=AAAA{query[6:]}", headers={"Accept": "audio/wav"})
    assert other_challenge.status_code == 404 and tampered.status_code == 404


def test_new_picture_without_javascript_and_with_htmx(console: Console, new_merchant) -> None:
    merchant = new_merchant()
    _fail_five_times(console, "/login", {"ubn": merchant.ubn, "password": "wrong-password-1"})
    gated = console.post("/login", {"ubn": merchant.ubn, "password": "wrong-password-1"})

    plain = console.post(
        "/login", {"ubn": merchant.ubn, "password": "", "new_captcha": "1", "captcha_id": captcha_id_of(gated)}
    )
    assert plain.status_code == 200 and shows_picture(plain)
    assert captcha_id_of(plain) != captcha_id_of(gated)
    assert error_next_to(plain, "password") == ""  # no attempt was made

    fragment = console.post("/captcha/new", {}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert text_of(fragment).lstrip().startswith('<div id="captcha-media"')
    assert captcha_id_of(fragment) not in (captcha_id_of(plain), captcha_id_of(gated))


def test_staff_sign_in_has_the_picture_too(console: Console, readable_pictures) -> None:
    from chalicelib.adapters.clock import SystemClock
    from chalicelib.adapters.dynamo_accounts import DynamoCredentials
    from chalicelib.services.staff import create_staff

    username, password = f"officer-{secrets.token_hex(4)}", "Staff-password-2026!"
    create_staff(username, password, credentials=DynamoCredentials(), clock=SystemClock())
    _fail_five_times(console, "/staff/login", {"username": username, "password": "wrong-password-1"})
    gated = console.post("/staff/login", {"username": username, "password": password})
    assert gated.status_code == 422 and shows_picture(gated)
    signed = console.post(
        "/staff/login",
        {"username": username, "password": password, "captcha_id": captcha_id_of(gated), "captcha_answer": ANSWER},
    )
    assert signed.status_code == 303 and signed.headers["Location"] == "/staff"


def test_the_password_change_checks_the_current_password_with_the_picture(signed_in, readable_pictures) -> None:
    browser, merchant = signed_in()
    _fail_five_times(
        browser,
        "/console/password",
        {"current_password": "wrong-password-1", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    form = {"current_password": merchant.password, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    gated = browser.post("/console/password", form)
    assert gated.status_code == 422 and shows_picture(gated)
    changed = browser.post("/console/password", {**form, "captcha_id": captcha_id_of(gated), "captcha_answer": ANSWER})
    assert changed.status_code == 303 and changed.headers["Location"] == "/console"
    assert browser.get("/console").status_code == 200


def test_the_password_change_names_what_is_wrong_next_to_it(signed_in) -> None:
    browser, merchant = signed_in()
    differ = browser.post(
        "/console/password",
        {"current_password": merchant.password, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD + "x"},
    )
    assert differ.status_code == 422 and "不一致" in error_next_to(differ, "confirm_password")
    weak = browser.post(
        "/console/password",
        {"current_password": merchant.password, "new_password": "short", "confirm_password": "short"},
    )
    assert weak.status_code == 422 and error_next_to(weak, "new_password")
    wrong = browser.post(
        "/console/password",
        {"current_password": "not-it-at-all", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    assert "帳號或密碼錯誤" in error_next_to(wrong, "current_password")


# --- forgotten password ------------------------------------------------------------------------------


def _merchant_with_email(client, new_merchant) -> tuple[Any, str]:
    merchant = new_merchant()
    email = f"owner-{merchant.ubn}@example.com"
    response = client.http.patch(
        "/v1/merchant", headers={"Content-Type": "application/json", **merchant.headers}, body=f'{{"email": "{email}"}}'
    )
    assert response.status_code == 200, response.body
    return merchant, email


def test_forgot_password_answers_the_same_and_the_mailed_code_sets_a_new_password(
    client, console: Console, new_merchant
) -> None:
    merchant, email = _merchant_with_email(client, new_merchant)
    login_page = text_of(console.get("/login"))
    assert 'href="/password/forgot"' in login_page

    miss = console.post("/password/forgot", {"ubn": merchant.ubn, "email": "someone@else.example"})
    unknown = console.post("/password/forgot", {"ubn": random_ubn(), "email": email})
    hit = console.post("/password/forgot", {"ubn": merchant.ubn, "email": email})
    assert miss.status_code == unknown.status_code == hit.status_code == 303
    assert miss.headers["Location"] == hit.headers["Location"] == f"/password/reset?ubn={merchant.ubn}&sent=1"
    assert unknown.headers["Location"].endswith("&sent=1")
    form = console.get(hit.headers["Location"])
    assert "若統一編號與 Email 相符" in text_of(form) and f'value="{merchant.ubn}"' in text_of(form)

    code = last_code_sent_to(client, email)
    wrong = console.post(
        "/password/reset",
        {
            "ubn": merchant.ubn,
            "code": "000000" if code != "000000" else "111111",
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert wrong.status_code == 422 and "驗證碼錯誤" in error_next_to(wrong, "code")
    reset = console.post(
        "/password/reset",
        {"ubn": merchant.ubn, "code": code, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    assert reset.status_code == 303 and reset.headers["Location"] == "/console"
    assert console.get("/console").status_code == 200

    fresh = Console(client)
    assert fresh.post("/login", {"ubn": merchant.ubn, "password": merchant.password}).status_code == 422
    assert fresh.post("/login", {"ubn": merchant.ubn, "password": NEW_PASSWORD}).status_code == 303


def test_forgot_and_reset_name_the_field_in_error(console: Console) -> None:
    bad_ubn = console.post("/password/forgot", {"ubn": "12345678", "email": "a@example.com"})
    assert bad_ubn.status_code == 422 and "統一編號" in error_next_to(bad_ubn, "ubn")
    empty = console.post("/password/forgot", {"ubn": "", "email": ""})
    assert error_next_to(empty, "ubn") and error_next_to(empty, "email")
    differ = console.post(
        "/password/reset",
        {"ubn": random_ubn(), "code": "123456", "new_password": NEW_PASSWORD, "confirm_password": "other"},
    )
    assert differ.status_code == 422 and error_next_to(differ, "confirm_password")
    weak = console.post(
        "/password/reset", {"ubn": random_ubn(), "code": "123456", "new_password": "weak", "confirm_password": "weak"}
    )
    assert weak.status_code == 422 and error_next_to(weak, "new_password")


# --- the tax-office initial password ------------------------------------------------------------------


def test_the_initial_password_forces_a_new_one_before_anything_else(client, console: Console, staff_headers) -> None:
    ubn, initial = issued_initial_password(client, staff_headers)
    signed = console.post("/login", {"ubn": ubn, "password": initial})
    assert signed.status_code == 303 and signed.headers["Location"] == "/console/password"
    assert console.get("/console").headers["Location"] == "/console/password"
    form = console.get("/console/password")
    assert "初始密碼" in text_of(form)
    changed = console.post(
        "/console/password",
        {"current_password": initial, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    assert changed.status_code == 303 and changed.headers["Location"] == "/console"
    assert console.get("/console").status_code == 200


def test_activation_page_sets_the_password_and_signs_in(client, console: Console, staff_headers) -> None:
    ubn, initial = issued_initial_password(client, staff_headers)
    wrong = console.post(
        "/activate",
        {
            "ubn": ubn,
            "initial_password": "not-the-initial",
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert wrong.status_code == 422 and "帳號或密碼錯誤" in error_next_to(wrong, "initial_password")
    bad_mobile = console.post(
        "/activate",
        {
            "ubn": ubn,
            "initial_password": initial,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
            "mobile": "12",
        },
    )
    assert bad_mobile.status_code == 422 and error_next_to(bad_mobile, "mobile")
    activated = console.post(
        "/activate",
        {
            "ubn": ubn,
            "initial_password": initial,
            "new_password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
            "email": f"owner-{ubn}@example.com",
        },
    )
    assert activated.status_code == 303 and activated.headers["Location"] == "/console"
    assert console.get("/console").status_code == 200
    assert last_code_sent_to(client, f"owner-{ubn}@example.com")  # the email is confirmed with a code
    again = Console(client).post(
        "/activate",
        {
            "ubn": ubn,
            "initial_password": NEW_PASSWORD,
            "new_password": "Yet-another-pass-77",
            "confirm_password": "Yet-another-pass-77",
        },
    )
    assert again.status_code == 422 and "已啟用" in error_next_to(again, "ubn")


# --- business certificate ------------------------------------------------------------------------------


def _challenge(console: Console) -> str:
    step = console.post("/signup/certificate", {"action": "challenge"})
    assert step.status_code == 200, step.body
    return _NONCE.search(text_of(step)).group(1)


def test_certificate_sign_up_from_an_uploaded_file(client, console: Console, staff_headers, test_ca) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding

    from tests.unit.security.certs import issue_merchant_certificate, sign_nonce

    start = console.get("/signup/certificate")
    assert start.status_code == 200 and "取得挑戰碼" in text_of(start)
    ubn = random_ubn()
    register_business(client, staff_headers, ubn)
    issued = issue_merchant_certificate(test_ca, ubn)
    nonce = _challenge(console)
    der = issued.cert.public_bytes(Encoding.DER)  # a .cer export: DER, not PEM
    response = console.post_multipart(
        "/signup/certificate",
        {
            "nonce": nonce,
            "signature": sign_nonce(issued.key, nonce),
            "password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
            "email": "",
            "mobile": "",
        },
        {"certificate_file": ("company.cer", der, "application/octet-stream")},
    )
    assert response.status_code == 303, text_of(response)
    assert response.headers["Location"] == "/console"
    assert ubn in text_of(console.get("/console"))
    assert Console(client).post("/login", {"ubn": ubn, "password": NEW_PASSWORD}).status_code == 303


def test_certificate_sign_up_errors_sit_next_to_their_field(client, console: Console, staff_headers, test_ca) -> None:
    from tests.unit.security.certs import issue_merchant_certificate, sign_nonce, untrusted_certificate

    ubn = random_ubn()
    register_business(client, staff_headers, ubn)
    issued = issue_merchant_certificate(test_ca, ubn)
    nonce = _challenge(console)

    def attempt(pem: bytes, signature: str, password: str = NEW_PASSWORD, **extra: str) -> Any:
        form = {
            "nonce": nonce,
            "certificate": pem.decode(),
            "signature": signature,
            "password": password,
            "confirm_password": password,
            **extra,
        }
        return console.post("/signup/certificate", form)

    untrusted = untrusted_certificate(ubn)
    refused = attempt(untrusted.pem, sign_nonce(untrusted.key, nonce))
    assert refused.status_code == 422 and "受信任" in error_next_to(refused, "certificate")
    assert "BEGIN CERTIFICATE" in text_of(refused)  # what was pasted is kept
    forged = attempt(issued.pem, sign_nonce(issued.key, nonce + "x"))
    assert "簽章" in error_next_to(forged, "signature")
    weak = attempt(issued.pem, sign_nonce(issued.key, nonce), password="weak")
    assert error_next_to(weak, "password")
    bad_email = attempt(issued.pem, sign_nonce(issued.key, nonce), email="not-an-email")
    assert error_next_to(bad_email, "email")
    unregistered = issue_merchant_certificate(test_ca, random_ubn())
    nowhere = attempt(unregistered.pem, sign_nonce(unregistered.key, nonce))
    assert "稅籍" in error_next_to(nowhere, "certificate")

    # none of those spent the challenge: it still signs the account up, once
    signed = attempt(issued.pem, sign_nonce(issued.key, nonce))
    assert signed.status_code == 303
    replay = Console(client)
    replay.cookies = {"einv_csrf": console.cookies["einv_csrf"]}
    again = replay.post(
        "/signup/certificate",
        {
            "nonce": nonce,
            "certificate": issued.pem.decode(),
            "signature": sign_nonce(issued.key, nonce),
            "password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert again.status_code == 422 and "新的挑戰碼" in error_next_to(again, "signature")
    assert _NONCE.search(text_of(again)).group(1) != nonce


# --- sign-out and who may open what --------------------------------------------------------------------


def test_the_password_pages_need_sign_in(console: Console) -> None:
    assert console.get("/console/password").headers["Location"].startswith("/login")
    assert console.get("/staff/password").headers["Location"].startswith("/staff/login")
    assert console.post("/console/password", {"current_password": "x"}).headers["Location"] == "/login"


def test_staff_sign_out_ends_the_session_and_old_cookies_open_nothing(client, staff_headers) -> None:
    staff = Console(client)
    staff.sign_in_staff()
    assert staff.get("/staff").status_code == 200
    kept = dict(staff.cookies)
    out = staff.post("/logout", {})
    assert out.status_code == 303 and out.headers["Location"] == "/staff/login"
    staff.cookies = kept
    assert staff.get("/staff").headers["Location"].startswith("/staff/login")


def test_a_merchant_forced_to_change_the_password_can_still_sign_out(client, console: Console, staff_headers) -> None:
    ubn, initial = issued_initial_password(client, staff_headers)
    console.post("/login", {"ubn": ubn, "password": initial})
    assert "登出" in text_of(console.get("/console/password"))
    kept = dict(console.cookies)
    assert console.post("/logout", {}).headers["Location"] == "/login"
    console.cookies = kept
    assert console.get("/console/password").headers["Location"].startswith("/login")


def test_signing_in_pages_are_cached_nowhere(console: Console) -> None:
    for path in ("/login", "/password/forgot", "/signup/certificate", "/activate"):
        assert console.get(path).headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("path", "english"),
    [
        ("/login", "Forgot your password?"),
        ("/password/forgot", "Registered email"),
        ("/password/reset", "Code from the email"),
        ("/activate", "Initial password"),
        ("/signup/certificate", "Get a challenge"),
        ("/staff/login", "Ask your administrator"),
    ],
)
def test_the_sign_in_pages_speak_english(console: Console, path: str, english: str) -> None:
    page = text_of(console.get(f"{path}?lang=en"))
    assert english in page
    assert not re.search(r"[\u4e00-\u9fff]{4,}", re.sub(r"\(.{0,8}\)|中文", "", page)), "untranslated text"


def test_the_picture_and_the_certificate_form_speak_english(console: Console, new_merchant) -> None:
    console.get("/login?lang=en")
    merchant = new_merchant()
    _fail_five_times(console, "/login", {"ubn": merchant.ubn, "password": "wrong-password-1"})
    gated = console.post("/login", {"ubn": merchant.ubn, "password": "wrong-password-1"})
    assert "Type the 5 characters in the picture" in text_of(gated) and "New picture" in text_of(gated)
    assert "Too many failed sign-ins" in error_next_to(gated, "captcha_answer")
    step = console.post("/signup/certificate", {"action": "challenge"})
    assert "Sign in this browser" in text_of(step) and "Signature (base64)" in text_of(step)
    assert MERCHANT_PASSWORD not in text_of(gated)


# --- the `make run` demo certificate ---------------------------------------------------------------------


def test_the_demo_certificate_is_made_once_and_its_key_is_private(tmp_path) -> None:
    from infra.demo_cert import ensure_demo_certificate, trusted_with_demo_ca

    demo = ensure_demo_certificate(tmp_path)
    first = demo.certificate.read_bytes()
    assert ensure_demo_certificate(tmp_path).certificate.read_bytes() == first  # kept across restarts
    assert demo.key.stat().st_mode & 0o077 == 0
    assert b"BEGIN PRIVATE KEY" in demo.key.read_bytes()  # PKCS#8, what WebCrypto imports
    trusted = trusted_with_demo_ca(demo, "existing")
    assert trusted.startswith("existing\n") and trusted_with_demo_ca(demo, trusted) == trusted


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_the_demo_certificate_signs_up_with_the_documented_openssl_command(
    client, console: Console, staff_headers, tmp_path, monkeypatch
) -> None:
    from infra.demo_cert import DEMO_CERT_UBN, ensure_demo_certificate, trusted_with_demo_ca

    demo = ensure_demo_certificate(tmp_path)
    nonce = _challenge(console)
    # the line `make run` prints, with this challenge in it, run as a person pastes it into a shell
    command = ["/bin/bash", "-c", demo.sign_command(tmp_path, nonce)]
    signature = subprocess.run(command, cwd=tmp_path, capture_output=True, check=True, text=True).stdout.strip()  # noqa: S603
    form = {
        "nonce": nonce,
        "certificate": demo.certificate.read_text(),
        "signature": signature,
        "password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
    }

    untrusted = console.post("/signup/certificate", form)  # the tests' own CA only: refused
    assert untrusted.status_code == 422 and "受信任" in error_next_to(untrusted, "certificate")

    monkeypatch.setenv("TRUSTED_CA_PEMS", trusted_with_demo_ca(demo, os.environ.get("TRUSTED_CA_PEMS")))
    register_business(client, staff_headers, DEMO_CERT_UBN)
    signed = console.post("/signup/certificate", form)
    assert signed.status_code == 303, text_of(signed)
    assert DEMO_CERT_UBN in text_of(console.get("/console"))

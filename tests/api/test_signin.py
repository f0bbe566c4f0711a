"""Sign-up, sign-in and account access, end to end over HTTP (issue 4)."""

from __future__ import annotations

import jwt

from tests.api.conftest import (
    MERCHANT_PASSWORD,
    body_of,
    last_code_sent_to,
    outbox,
    post_json,
    random_ubn,
    register_business,
)

NEW_PASSWORD = "Another-strong-pass-77"


def _login(client, ubn, password):
    return post_json(client, "/v1/auth/login", {"ubn": ubn, "password": password})


def _bearer(tokens):
    return {"Authorization": f"Bearer {tokens['access_token']}"}


# --- tax-office issued accounts ---------------------------------------------------------------


def test_tax_office_account_must_replace_the_initial_password_before_anything_works(client, staff_headers):
    ubn = random_ubn()
    register_business(client, staff_headers, ubn)
    issued = body_of(post_json(client, f"/v1/admin/merchants/{ubn}/credentials", {}, staff_headers))
    initial = issued["initial_password"]

    first = _login(client, ubn, initial)
    assert first.status_code == 200
    assert body_of(first)["must_change_password"] is True
    blocked = client.http.get("/v1/merchant", headers=_bearer(body_of(first)))
    assert blocked.status_code == 403
    assert body_of(blocked)["error"]["code"] == "PASSWORD_CHANGE_REQUIRED"

    changed = post_json(
        client,
        "/v1/auth/password",
        {"current_password": initial, "new_password": NEW_PASSWORD},
        _bearer(body_of(first)),
    )
    assert changed.status_code == 200
    assert body_of(changed)["must_change_password"] is False
    profile = client.http.get("/v1/merchant", headers=_bearer(body_of(changed)))
    assert profile.status_code == 200
    assert body_of(profile)["ubn"] == ubn
    assert body_of(profile)["status"] == "active"  # in use now, as after the activation route
    # the initial password is gone for good
    assert _login(client, ubn, initial).status_code == 401


def test_activation_sets_password_and_sends_codes_to_the_receivers(client, staff_headers):
    ubn = random_ubn()
    register_business(client, staff_headers, ubn)
    initial = body_of(post_json(client, f"/v1/admin/merchants/{ubn}/credentials", {}, staff_headers))[
        "initial_password"
    ]
    activated = post_json(
        client,
        "/v1/registrations/account",
        {
            "ubn": ubn,
            "initial_password": initial,
            "new_password": NEW_PASSWORD,
            "receivers": {"email": f"ap-{ubn}@example.com", "mobile": "0912345678"},
        },
    )
    assert activated.status_code == 201
    assert sorted(body_of(activated)["receivers_to_verify"]) == ["email", "mobile"]
    assert last_code_sent_to(client, f"ap-{ubn}@example.com")
    assert last_code_sent_to(client, "+886912345678")
    again = post_json(
        client,
        "/v1/registrations/account",
        {"ubn": ubn, "initial_password": NEW_PASSWORD, "new_password": "Yet-another-pass-88"},
    )
    assert again.status_code == 409
    assert body_of(again)["error"]["code"] == "ALREADY_ACTIVATED"


def test_activation_with_a_weak_new_password_changes_nothing(client, staff_headers):
    ubn = random_ubn()
    register_business(client, staff_headers, ubn)
    initial = body_of(post_json(client, f"/v1/admin/merchants/{ubn}/credentials", {}, staff_headers))[
        "initial_password"
    ]
    weak = post_json(
        client,
        "/v1/registrations/account",
        {"ubn": ubn, "initial_password": initial, "new_password": f"x{ubn}x1234"},
    )
    assert weak.status_code == 422
    assert body_of(weak)["error"]["code"] == "WEAK_PASSWORD"
    assert body_of(weak)["error"]["field"] == "new_password"
    assert body_of(_login(client, ubn, initial))["must_change_password"] is True


# --- logging in -------------------------------------------------------------------------------


def test_wrong_password_and_unknown_ubn_get_the_same_answer(client, new_merchant):
    merchant = new_merchant()
    wrong = _login(client, merchant.ubn, "not-the-password-1")
    unknown = _login(client, random_ubn(), "not-the-password-1")
    assert wrong.status_code == unknown.status_code == 401
    assert body_of(wrong) == body_of(unknown)
    assert body_of(wrong)["error"]["code"] == "INVALID_CREDENTIALS"


def test_repeated_failures_ask_for_a_captcha_instead_of_locking_the_account(client, new_merchant):
    merchant = new_merchant()
    for _ in range(5):
        assert _login(client, merchant.ubn, "wrong-password-123").status_code == 401
    gated = _login(client, merchant.ubn, merchant.password)
    assert gated.status_code == 401
    assert body_of(gated)["error"]["code"] == "CAPTCHA_REQUIRED"
    assert body_of(gated)["error"]["field"] == "captcha_answer"
    audit = body_of(client.http.get("/v1/merchant/audit-log", headers=merchant.headers))["items"]
    events = [entry["event"] for entry in audit]
    assert events.count("login_failed") == 5


def test_refresh_rotates_and_a_replayed_refresh_token_ends_the_session(client, new_merchant):
    merchant = new_merchant()
    old_refresh = merchant.tokens["refresh_token"]
    rotated = post_json(client, "/v1/auth/refresh", {"refresh_token": old_refresh})
    assert rotated.status_code == 200
    new_tokens = body_of(rotated)
    assert new_tokens["refresh_token"] != old_refresh
    assert client.http.get("/v1/merchant", headers=_bearer(new_tokens)).status_code == 200

    replay = post_json(client, "/v1/auth/refresh", {"refresh_token": old_refresh})
    assert replay.status_code == 401
    # the stolen-token signal ends the whole family, including the legitimate successor
    assert post_json(client, "/v1/auth/refresh", {"refresh_token": new_tokens["refresh_token"]}).status_code == 401
    assert client.http.get("/v1/merchant", headers=_bearer(new_tokens)).status_code == 401


def test_logout_ends_the_access_and_refresh_token_at_once(client, new_merchant):
    merchant = new_merchant()
    assert client.http.post("/v1/auth/logout", headers=merchant.headers).status_code == 204
    after = client.http.get("/v1/merchant", headers=merchant.headers)
    assert after.status_code == 401
    assert body_of(after)["error"]["code"] == "SESSION_ENDED"
    assert post_json(client, "/v1/auth/refresh", {"refresh_token": merchant.tokens["refresh_token"]}).status_code == 401


def test_a_session_ended_by_another_container_stops_working_within_seconds(client, new_merchant, monkeypatch):
    from chalicelib.adapters import dynamo_accounts
    from chalicelib.adapters.dynamo import dynamodb, key
    from chalicelib.settings import get_settings

    merchant = new_merchant()
    assert client.http.get("/v1/merchant", headers=merchant.headers).status_code == 200
    # Another Lambda container logs the session out: this process's cache does not hear of it.
    session_id = jwt.decode(merchant.tokens["access_token"], options={"verify_signature": False})["sid"]
    dynamodb().delete_item(
        TableName=get_settings().merchants_table, Key=key(f"MERCHANT#{merchant.ubn}", f"SESSION#{session_id}")
    )
    # Confirmed moments ago, so still accepted here for up to SESSION_CHECK_SECONDS (the trade-off) ...
    assert client.http.get("/v1/merchant", headers=merchant.headers).status_code == 200
    # ... and refused once that confirmation lapses.
    later = dynamo_accounts._monotonic() + dynamo_accounts.SESSION_CHECK_SECONDS + 1
    monkeypatch.setattr(dynamo_accounts, "_monotonic", lambda: later)
    after = client.http.get("/v1/merchant", headers=merchant.headers)
    assert after.status_code == 401
    assert body_of(after)["error"]["code"] == "SESSION_ENDED"


def test_password_change_ends_every_other_session(client, new_merchant):
    merchant = new_merchant()
    other_device = body_of(_login(client, merchant.ubn, merchant.password))
    changed = post_json(
        client,
        "/v1/auth/password",
        {"current_password": merchant.password, "new_password": NEW_PASSWORD},
        merchant.headers,
    )
    assert changed.status_code == 200
    assert client.http.get("/v1/merchant", headers=_bearer(other_device)).status_code == 401
    assert client.http.get("/v1/merchant", headers=_bearer(body_of(changed))).status_code == 200
    assert _login(client, merchant.ubn, merchant.password).status_code == 401


def test_password_change_needs_the_current_password_and_a_strong_new_one(client, new_merchant):
    merchant = new_merchant()
    wrong = post_json(
        client,
        "/v1/auth/password",
        {"current_password": "nope-nope-123", "new_password": NEW_PASSWORD},
        merchant.headers,
    )
    assert wrong.status_code == 401
    common = post_json(
        client,
        "/v1/auth/password",
        {"current_password": merchant.password, "new_password": "password1234"},
        merchant.headers,
    )
    assert common.status_code == 422
    assert body_of(common)["error"]["field"] == "new_password"


def test_forged_tokens_are_refused(client, new_merchant):
    merchant = new_merchant()
    claims = jwt.decode(merchant.tokens["access_token"], options={"verify_signature": False})
    other_key = jwt.encode(claims, "another-key-that-is-long-enough-for-hs256!!", algorithm="HS256")
    unsigned = jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]
    for token in (other_key, unsigned, "garbage"):
        response = client.http.get("/v1/merchant", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_routes_of_a_person_need_a_credential(client):
    response = client.http.get("/v1/merchant")
    assert response.status_code == 401
    assert body_of(response)["error"]["code"] == "UNAUTHENTICATED"


# --- roles ------------------------------------------------------------------------------------


def test_a_merchant_token_never_reaches_admin_routes(client, new_merchant):
    merchant = new_merchant()
    ubn = random_ubn()
    put = client.http.put(
        f"/v1/admin/tax-registry/{ubn}",
        headers={"Content-Type": "application/json", **merchant.headers},
        body='{"name": "x", "address": "y", "status": "active"}',
    )
    issue = post_json(client, f"/v1/admin/merchants/{merchant.ubn}/credentials", {}, merchant.headers)
    assert put.status_code == issue.status_code == 403


def test_a_staff_token_is_not_a_merchant(client, staff_headers):
    assert client.http.get("/v1/merchant", headers=staff_headers).status_code == 403


# --- receivers and profile --------------------------------------------------------------------


def test_receivers_are_confirmed_with_the_code_that_was_sent(client, new_merchant):
    merchant = new_merchant()
    email = f"invoices-{merchant.ubn}@example.com"
    response = client.http.put(
        "/v1/merchant/receivers",
        headers={"Content-Type": "application/json", **merchant.headers},
        body=f'{{"email": "{email}", "mobile": "0987-654-321"}}',
    )
    assert response.status_code == 200
    receivers = body_of(response)["receivers"]
    assert receivers["email"] == {"address": email, "verified": False, "verified_at": None}
    assert receivers["mobile"]["address"] == "+886987654321"

    wrong = post_json(client, "/v1/merchant/receivers/verify", {"channel": "email", "code": "000000"}, merchant.headers)
    assert wrong.status_code == 422
    assert body_of(wrong)["error"]["code"] == "WRONG_CODE"

    code = last_code_sent_to(client, email)
    ok = post_json(client, "/v1/merchant/receivers/verify", {"channel": "email", "code": code}, merchant.headers)
    assert ok.status_code == 200
    assert body_of(ok)["receivers"]["email"]["verified"] is True
    assert body_of(ok)["receivers"]["mobile"]["verified"] is False
    reuse = post_json(client, "/v1/merchant/receivers/verify", {"channel": "email", "code": code}, merchant.headers)
    assert reuse.status_code == 422

    sms_code = last_code_sent_to(client, "+886987654321")
    ok = post_json(client, "/v1/merchant/receivers/verify", {"channel": "mobile", "code": sms_code}, merchant.headers)
    assert body_of(ok)["receivers"]["mobile"]["verified"] is True


def test_too_many_wrong_codes_require_a_new_code(client, new_merchant):
    merchant = new_merchant(email="first@example.com")
    for _ in range(5):
        post_json(client, "/v1/merchant/receivers/verify", {"channel": "email", "code": "111111"}, merchant.headers)
    code = last_code_sent_to(client, "first@example.com")
    blocked = post_json(client, "/v1/merchant/receivers/verify", {"channel": "email", "code": code}, merchant.headers)
    assert blocked.status_code == 429


def test_invalid_receivers_name_the_field(client, new_merchant):
    merchant = new_merchant()
    bad = client.http.put(
        "/v1/merchant/receivers",
        headers={"Content-Type": "application/json", **merchant.headers},
        body='{"mobile": "12345"}',
    )
    assert bad.status_code == 400
    assert body_of(bad)["error"]["field"] == "mobile"
    assert body_of(bad)["error"]["code"] == "INVALID_MOBILE"


def test_profile_update_keeps_ubn_and_name_read_only(client, new_merchant):
    merchant = new_merchant()
    headers = {"Content-Type": "application/json", **merchant.headers}
    updated = client.http.patch(
        "/v1/merchant",
        headers=headers,
        body='{"person_in_charge": "王小明", "phone": "02-2345-6789", "settings": {"sms_buyer": true, '
        '"qr_aes_key": "fe05f029154f6aa67a78b338ed2f6601"}}',
    )
    assert updated.status_code == 200
    profile = body_of(updated)
    assert profile["person_in_charge"] == "王小明"
    assert profile["settings"]["sms_buyer"] is True
    assert profile["settings"]["qr_aes_key_set"] is True
    assert "fe05" not in updated.body.decode().lower()
    for field in ("ubn", "name"):
        refused = client.http.patch("/v1/merchant", headers=headers, body=f'{{"{field}": "x"}}')
        assert refused.status_code == 400
        assert body_of(refused)["error"]["field"] == field
        assert body_of(refused)["error"]["code"] == "READ_ONLY_FIELD"
    bad_key = client.http.patch("/v1/merchant", headers=headers, body='{"settings": {"qr_aes_key": "xyz"}}')
    assert bad_key.status_code == 400
    assert body_of(bad_key)["error"]["field"] == "settings.qr_aes_key"


def test_each_merchant_sees_and_changes_only_its_own_profile(client, new_merchant):
    alice, bob = new_merchant(), new_merchant()
    client.http.patch(
        "/v1/merchant",
        headers={"Content-Type": "application/json", **bob.headers},
        body='{"phone": "07-1234567"}',
    )
    assert body_of(client.http.get("/v1/merchant", headers=alice.headers))["ubn"] == alice.ubn
    assert body_of(client.http.get("/v1/merchant", headers=alice.headers))["phone"] is None
    assert body_of(client.http.get("/v1/merchant", headers=bob.headers))["phone"] == "07-1234567"
    alice_log = body_of(client.http.get("/v1/merchant/audit-log", headers=alice.headers))["items"]
    assert all("07-1234567" not in str(entry) for entry in alice_log)


# --- forgotten password -----------------------------------------------------------------------


def test_forgot_password_answers_the_same_whether_or_not_the_email_matches(client, new_merchant):
    merchant = new_merchant()
    email = f"owner-{merchant.ubn}@example.com"
    client.http.patch(
        "/v1/merchant",
        headers={"Content-Type": "application/json", **merchant.headers},
        body=f'{{"email": "{email}"}}',
    )
    before = len(outbox(client)["emails"])
    miss = post_json(client, "/v1/auth/password/forgot", {"ubn": merchant.ubn, "email": "someone@else.com"})
    unknown = post_json(client, "/v1/auth/password/forgot", {"ubn": random_ubn(), "email": email})
    assert len(outbox(client)["emails"]) == before
    hit = post_json(client, "/v1/auth/password/forgot", {"ubn": merchant.ubn, "email": email})
    assert miss.status_code == unknown.status_code == hit.status_code == 202
    assert body_of(miss) == body_of(unknown) == body_of(hit)
    assert len(outbox(client)["emails"]) == before + 1

    code = last_code_sent_to(client, email)
    other_session = body_of(_login(client, merchant.ubn, merchant.password))
    reset = post_json(
        client, "/v1/auth/password/reset", {"ubn": merchant.ubn, "code": code, "new_password": NEW_PASSWORD}
    )
    assert reset.status_code == 200
    assert client.http.get("/v1/merchant", headers=_bearer(other_session)).status_code == 401
    assert _login(client, merchant.ubn, NEW_PASSWORD).status_code == 200
    again = post_json(
        client,
        "/v1/auth/password/reset",
        {"ubn": merchant.ubn, "code": code, "new_password": "Third-pass-999x"},
    )
    assert again.status_code == 422
    assert body_of(again)["error"]["code"] == "INVALID_RESET_CODE"


# --- business certificate (工商憑證) ---------------------------------------------------------


def _certificate_signup(client, certificate_pem, key, *, tamper_nonce=False, password="Cert-signup-pass-2026"):
    from tests.unit.security.certs import sign_nonce

    nonce = body_of(client.http.post("/v1/registrations/certificate/challenge"))["nonce"]
    signature = sign_nonce(key, nonce + ("x" if tamper_nonce else ""))
    payload = {
        "certificate": certificate_pem.decode(),
        "nonce": nonce,
        "signature": signature,
        "password": password,
        "receivers": {"email": "cert@example.com"},
    }
    return post_json(client, "/v1/registrations/certificate", payload), nonce, payload


def test_certificate_signup_takes_the_ubn_from_the_certificate(client, staff_headers, test_ca):
    from tests.unit.security.certs import issue_merchant_certificate

    ubn = random_ubn()
    register_business(client, staff_headers, ubn)
    issued = issue_merchant_certificate(test_ca, ubn)
    response, _, payload = _certificate_signup(client, issued.pem, issued.key)
    assert response.status_code == 201, response.body
    assert body_of(response)["ubn"] == ubn
    assert body_of(response)["must_change_password"] is False
    profile = body_of(client.http.get("/v1/merchant", headers=_bearer(body_of(response))))
    assert profile["signup_method"] == "certificate"
    assert _login(client, ubn, payload["password"]).status_code == 200
    # the nonce was single-use
    replay = post_json(client, "/v1/registrations/certificate", payload)
    assert replay.status_code == 400
    assert body_of(replay)["error"]["field"] == "nonce"


def test_certificate_signup_refusals_leave_no_account(client, staff_headers, test_ca):
    from tests.unit.security.certs import (
        expired_certificate,
        issue_merchant_certificate,
        mismatched_key,
        untrusted_certificate,
    )

    ubn = random_ubn()
    register_business(client, staff_headers, ubn)
    expired = expired_certificate(test_ca, ubn)
    untrusted = untrusted_certificate(ubn)
    mismatched = mismatched_key(test_ca, ubn)
    cases = [
        (expired.pem, expired.key, "CERTIFICATE_EXPIRED"),
        (untrusted.pem, untrusted.key, "CERTIFICATE_UNTRUSTED"),
        (mismatched.certificate.pem, mismatched.other_key, "SIGNATURE_INVALID"),
    ]
    for pem, key, code in cases:
        response, _, _ = _certificate_signup(client, pem, key)
        assert response.status_code == 422, response.body
        assert body_of(response)["error"]["code"] == code
    valid = issue_merchant_certificate(test_ca, ubn)
    weak, _, _ = _certificate_signup(client, valid.pem, valid.key, password="short")
    assert body_of(weak)["error"]["code"] == "WEAK_PASSWORD"
    assert _login(client, ubn, "Cert-signup-pass-2026").status_code == 401


def test_certificate_signup_needs_an_active_registration_and_no_existing_account(
    client, staff_headers, test_ca, new_merchant
):
    from tests.unit.security.certs import issue_merchant_certificate

    unregistered = issue_merchant_certificate(test_ca, random_ubn())
    response, _, _ = _certificate_signup(client, unregistered.pem, unregistered.key)
    assert response.status_code == 422
    assert body_of(response)["error"]["code"] == "NOT_IN_TAX_REGISTRY"

    suspended_ubn = random_ubn()
    register_business(client, staff_headers, suspended_ubn, status="suspended")
    suspended = issue_merchant_certificate(test_ca, suspended_ubn)
    response, _, _ = _certificate_signup(client, suspended.pem, suspended.key)
    assert body_of(response)["error"]["code"] == "BUSINESS_NOT_ACTIVE"

    existing = new_merchant()
    duplicate = issue_merchant_certificate(test_ca, existing.ubn)
    response, _, _ = _certificate_signup(client, duplicate.pem, duplicate.key)
    assert response.status_code == 409
    assert _login(client, existing.ubn, MERCHANT_PASSWORD).status_code == 200


# --- the error model on a JSON route -----------------------------------------------------------


def test_malformed_json_is_a_400_naming_the_problem(client):
    response = client.http.post("/v1/auth/login", headers={"Content-Type": "application/json"}, body=b'{"ubn": "1')
    assert response.status_code == 400
    assert body_of(response)["error"]["code"] == "MALFORMED_JSON"


def test_missing_field_is_named(client):
    response = post_json(client, "/v1/auth/login", {"ubn": "24634102"})
    assert response.status_code == 400
    assert body_of(response)["error"] == {
        "code": "MISSING_FIELD",
        "message": body_of(response)["error"]["message"],
        "message_zh": body_of(response)["error"]["message_zh"],
        "field": "password",
    }


def test_wrong_content_type_is_a_415(client):
    response = client.http.post("/v1/auth/login", headers={"Content-Type": "text/plain"}, body=b"ubn=1")
    assert response.status_code == 415
    assert body_of(response)["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


def test_oversized_body_is_a_413(client):
    body = b'{"ubn": "' + b"1" * (5 * 1024 * 1024 + 10) + b'"}'
    response = client.http.post("/v1/auth/login", headers={"Content-Type": "application/json"}, body=body)
    assert response.status_code == 413
    assert body_of(response)["error"]["code"] == "PAYLOAD_TOO_LARGE"

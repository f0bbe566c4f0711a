"""A new merchant can issue at once (a QR-code AES key is generated at every sign-up, stored sealed,
replaceable), and an issue request must say who the buyer is."""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from tests.api import test_invoices
from tests.api.conftest import Merchant, body_of, post_json, random_ubn, register_business
from tests.api.test_invoices import B2B, B2C_CARRIER, QR_KEY, _period
from tests.api.test_qr_key_at_rest import _signed_with, _stored_profile

issuer = test_invoices.issuer


def _online_booklets(client, staff_headers, merchant: Merchant) -> None:
    """What a new merchant does before the first issue: take numbers and give them to online."""
    track = secrets.choice("ABCDEFGHJK") + secrets.choice("LMNPQRSTUV")
    begin = secrets.randbelow(1_000_000 - 10) * 50
    allocated = post_json(
        client,
        "/v1/admin/allocations",
        {
            "ubn": merchant.ubn,
            "period": _period().code,
            "invoice_type": "07",
            "track": track,
            "begin_no": f"{begin:08d}",
            "end_no": f"{begin + 49:08d}",
        },
        staff_headers,
    )
    track_id = body_of(allocated)["track_id"]
    assert post_json(client, f"/v1/tracks/{track_id}/activate", {}, merchant.headers).status_code == 200
    assigned = client.http.put(
        f"/v1/tracks/{track_id}/channels",
        headers={"Content-Type": "application/json", **merchant.headers},
        body=json.dumps({"assignments": [{"channel": "online", "booklets": 1}]}),
    )
    assert assigned.status_code == 200, assigned.body


def _assert_generated_and_sealed(client, headers: dict[str, str], ubn: str) -> None:
    profile = body_of(client.http.get("/v1/merchant", headers=headers))
    assert profile["settings"]["qr_aes_key_set"] is True
    settings: dict[str, Any] = _stored_profile(ubn)["settings"]
    assert "qr_aes_key" not in settings  # only sealed at rest
    assert settings["qr_aes_key_sealed"]


def test_a_merchant_signed_up_by_the_tax_office_issues_its_first_invoice_without_setting_a_key(
    client, staff_headers, new_merchant
):
    merchant = new_merchant()
    _assert_generated_and_sealed(client, merchant.headers, merchant.ubn)
    _online_booklets(client, staff_headers, merchant)
    first = post_json(client, "/v1/invoices", B2C_CARRIER, merchant.headers)
    assert first.status_code == 201, first.body
    # Two merchants never share a generated key.
    other = new_merchant()
    assert (
        _stored_profile(other.ubn)["settings"]["qr_aes_key_sealed"]
        != _stored_profile(merchant.ubn)["settings"]["qr_aes_key_sealed"]
    )


def test_a_merchant_signed_up_with_a_certificate_gets_a_key_too(client, staff_headers, test_ca):
    from tests.api.test_signin import _bearer, _certificate_signup
    from tests.unit.security.certs import issue_merchant_certificate

    ubn = random_ubn()
    register_business(client, staff_headers, ubn)
    issued = issue_merchant_certificate(test_ca, ubn)
    response, _, _ = _certificate_signup(client, issued.pem, issued.key)
    assert response.status_code == 201, response.body
    _assert_generated_and_sealed(client, _bearer(body_of(response)), ubn)


def test_the_generated_key_is_replaced_by_the_merchants_own(client, staff_headers, new_merchant):
    merchant = new_merchant()
    _online_booklets(client, staff_headers, merchant)
    replaced = client.http.patch(
        "/v1/merchant",
        headers={"Content-Type": "application/json", **merchant.headers},
        body=json.dumps({"settings": {"qr_aes_key": QR_KEY}}),
    )
    assert replaced.status_code == 200, replaced.body
    invoice = body_of(post_json(client, "/v1/invoices", B2C_CARRIER, merchant.headers))
    assert _signed_with(QR_KEY, invoice)


def test_the_qr_key_format_is_documented_in_the_openapi(client):
    spec = body_of(client.http.get("/openapi.json"))
    text = json.dumps(spec, ensure_ascii=False)
    assert re.search(r"32 hex", text) and "AES-128" in text


def test_an_issue_request_without_a_buyer_is_refused_naming_it(client, issuer):
    without = {k: v for k, v in B2B.items() if k != "buyer"}
    response = post_json(client, "/v1/invoices", without, issuer.headers)
    assert response.status_code == 400, response.body
    error = body_of(response)["error"]
    assert error["field"] == "buyer"
    assert "buyer" in error["message"] and "買受人" in error["message_zh"]
    # A consumer is said explicitly, as the contract's B2C example does.
    consumer = post_json(client, "/v1/invoices", {**without, "buyer": {"ubn": None}}, issuer.headers)
    assert consumer.status_code == 201, consumer.body


# --- messages (issue 15 item 11) ----------------------------------------------------------------


def test_a_mig_message_sent_as_json_is_told_to_send_xml(client, issuer):
    response = client.http.post(
        "/v1/mig/F0401", headers={"Content-Type": "application/json", **issuer.headers}, body=b"{}"
    )
    assert response.status_code == 415
    error = body_of(response)["error"]
    assert "application/xml" in error["message"] and "application/xml" in error["message_zh"]
    assert "application/json" not in error["message_zh"].split("此請求為")[0]
    assert error["field"] == "Content-Type"
    # A JSON route sent text is told it takes JSON.
    login = client.http.post("/v1/auth/login", headers={"Content-Type": "text/plain"}, body=b"x")
    assert "application/json" in body_of(login)["error"]["message_zh"]


#: Words a Chinese sentence may keep: JSON literals, format names, and the names of the API itself.
_KEPT_IN_ZH = {"true", "false", "null", "JSON", "ISO", "UUID", "URL", "https", "QR", "Code", "AES", "YYYY", "MM", "DD"}


def _english_words_in(message_zh: str, field: str | None) -> list[str]:
    # The API's own field names may follow a Chinese label, in full-width brackets.
    text = re.sub(r"（[^）]*）", "", message_zh.replace(field or "\0", ""))
    return [word for word in re.findall(r"[A-Za-z_]{2,}", text) if word not in _KEPT_IN_ZH]


def _refusal(response: Any, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.body
    error: dict[str, Any] = body_of(response)["error"]
    assert error["message_zh"] != "欄位值不正確。"
    for leaked in ("instance of", "Input should", "IssueRequest", "Value error", "pydantic"):
        assert leaked not in error["message"] and leaked not in error["message_zh"]
    assert _english_words_in(error["message_zh"], error["field"]) == [], error
    return error


def test_every_shape_error_says_what_the_field_expects_in_both_languages(client, issuer):
    def issue(payload: Any) -> dict[str, Any]:
        return _refusal(post_json(client, "/v1/invoices", payload, issuer.headers))

    item = B2B["items"][0]
    not_an_object = issue([B2B])
    assert not_an_object["field"] is None
    assert "JSON object" in not_an_object["message"] and "JSON 物件" in not_an_object["message_zh"]

    quantity = issue({**B2B, "items": [{**item, "quantity": "two"}]})
    assert quantity["field"] == "items[0].quantity"
    assert "number" in quantity["message"] and "數量" in quantity["message_zh"] and "數字" in quantity["message_zh"]

    flag = issue({**B2B, "print": "yes"})
    assert (flag["field"], flag["code"]) == ("print", "INVALID_TYPE")
    assert "true or false" in flag["message"] and "true 或 false" in flag["message_zh"]

    long_order = issue({**B2B, "order_id": "x" * 21})
    assert "20" in long_order["message"] and "最多 20 個字元" in long_order["message_zh"]

    unknown = issue({**B2B, "colour": "red"})
    assert unknown["field"] == "colour" and "移除" in unknown["message_zh"]

    no_items = issue({**B2B, "items": []})
    assert "至少需要 1 筆" in no_items["message_zh"] and "品項" in no_items["message_zh"]

    tax_type = issue({**B2B, "items": [{**item, "tax_type": "7"}]})
    assert tax_type["field"] == "items[0].tax_type" and "課稅別" in tax_type["message_zh"]
    assert "'1'" in tax_type["message_zh"]

    dates = _refusal(client.http.get("/v1/allowances?date_from=2025-03-02&date_to=2025-03-01", headers=issuer.headers))
    assert (dates["code"], dates["field"]) == ("INVALID_DATE_RANGE", "date_from")
    assert "不可晚於" in dates["message_zh"]

    bad_date = _refusal(client.http.get("/v1/allowances?date_from=March", headers=issuer.headers))
    assert "YYYY-MM-DD" in bad_date["message"] and "起始日期" in bad_date["message_zh"]

    key = _refusal(
        client.http.patch(
            "/v1/merchant",
            headers={"Content-Type": "application/json", **issuer.headers},
            body=json.dumps({"settings": {"qr_aes_key": "ABC"}}),
        )
    )
    assert key["field"] == "settings.qr_aes_key"
    assert "32" in key["message"] and "3" in key["message_zh"] and "十六進位" in key["message_zh"]

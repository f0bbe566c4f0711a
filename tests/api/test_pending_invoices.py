"""Pay then issue (issue 7): pending invoices, signed payment notices, the webhook secret."""

# ruff: noqa: F811 - fixtures imported from sibling test modules are parameters of these tests

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.api.pending_invoices import receive_notice
from tests.api.conftest import body_of, post_json
from tests.api.test_invoices import B2B, B2C_CARRIER, issuer  # noqa: F401 - the issuer fixture
from tests.api.test_no_server_errors import _assert_client_error_or_success, fuzz_merchant, json_values  # noqa: F401

NOTIFY = "/v1/payments/notify"


def _hold(client, issuer, order_id, invoice=None, headers=None):
    return post_json(
        client,
        "/v1/pending-invoices",
        {"order_id": order_id, "invoice": invoice or B2C_CARRIER},
        headers if headers is not None else issuer.key_headers,
    )


def _secret(client, issuer):
    response = post_json(client, "/v1/merchant/webhook-secret", {}, issuer.headers)
    assert response.status_code == 201, response.body
    return body_of(response)["webhook_secret"]


def _notify(client, ubn, secret, payload, timestamp=None, signature=None):
    raw = json.dumps(payload)
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"{stamp}.{raw}".encode(), hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Merchant-Ubn": ubn,
        "X-Timestamp": stamp,
        "X-Signature": signature or digest,
    }
    return client.http.post(NOTIFY, headers=headers, body=raw)


def _invoice_count(client, issuer, order_id):
    found = client.http.get(f"/v1/invoices?order_id={order_id}", headers=issuer.headers)
    return len(body_of(found)["items"])


def test_hold_then_trigger_issues_the_invoice(client, issuer):
    held = _hold(client, issuer, "SO-P-1")
    assert held.status_code == 201, held.body
    pending = body_of(held)
    assert pending["status"] == "pending" and pending["order_id"] == "SO-P-1"
    assert pending["amounts"]["total_amount"] == 130
    assert pending["pending_id"].startswith("pnd_")
    assert _invoice_count(client, issuer, "SO-P-1") == 0  # no number taken
    again = _hold(client, issuer, "SO-P-1")
    assert again.status_code == 200 and body_of(again)["pending_id"] == pending["pending_id"]
    different = _hold(client, issuer, "SO-P-1", B2B)
    assert different.status_code == 409

    path = f"/v1/pending-invoices/{pending['pending_id']}"
    triggered = post_json(client, f"{path}/trigger", {}, issuer.key_headers)
    assert triggered.status_code == 201, triggered.body
    invoice = body_of(triggered)
    assert invoice["order_id"] == "SO-P-1" and invoice["channel"] == "api"
    assert invoice["invoice_number"].startswith(issuer.track)
    twice = post_json(client, f"{path}/trigger", {}, issuer.key_headers)
    assert body_of(twice)["invoice_number"] == invoice["invoice_number"]
    assert _invoice_count(client, issuer, "SO-P-1") == 1
    shown = body_of(client.http.get(path, headers=issuer.headers))
    assert shown["status"] == "issued" and shown["invoice_number"] == invoice["invoice_number"]
    assert client.http.delete(path, headers=issuer.headers).status_code == 409


def test_hold_validates_fully_and_delete_drops(client, issuer):
    bad = _hold(client, issuer, "SO-P-2", {**B2B, "donation_code": "25885", "print": False})
    assert bad.status_code == 422
    assert body_of(bad)["error"]["code"] == "DONATION_WITH_BUYER_UBN"
    malformed = _hold(client, issuer, "SO-P-2", {**B2C_CARRIER, "items": []})
    assert malformed.status_code == 400
    too_long = _hold(client, issuer, "X" * 21)
    assert too_long.status_code == 400
    held = body_of(_hold(client, issuer, "SO-P-2"))
    path = f"/v1/pending-invoices/{held['pending_id']}"
    assert client.http.delete(path, headers=issuer.headers).status_code == 204
    assert client.http.get(path, headers=issuer.headers).status_code == 404
    assert client.http.delete(path, headers=issuer.headers).status_code == 404
    assert post_json(client, f"{path}/trigger", {}, issuer.headers).status_code == 404
    # The order is free again once its pending invoice is dropped.
    assert _hold(client, issuer, "SO-P-2").status_code == 201


def test_other_merchants_see_nothing(client, issuer, new_merchant):
    held = body_of(_hold(client, issuer, "SO-P-3"))
    path = f"/v1/pending-invoices/{held['pending_id']}"
    other = new_merchant()
    assert client.http.get(path, headers=other.headers).status_code == 404
    assert post_json(client, f"{path}/trigger", {}, other.headers).status_code == 404
    assert client.http.delete(path, headers=other.headers).status_code == 404
    assert client.http.get("/v1/pending-invoices/garbage", headers=other.headers).status_code == 404
    assert client.http.get(path).status_code == 401
    assert client.http.get(path, headers=issuer.headers).status_code == 200


def test_a_payment_notice_issues_exactly_once(client, issuer):
    secret = _secret(client, issuer)
    held = body_of(_hold(client, issuer, "SO-P-4"))
    payload = {"order_id": "SO-P-4", "amount": 130, "paid_at": "2026-01-01T10:00:00+08:00", "gateway": "x"}
    stamp = int(time.time())
    first = _notify(client, issuer.ubn, secret, payload, stamp)
    assert first.status_code == 200, first.body
    number = body_of(first)["invoice_number"]
    assert body_of(first)["status"] == "issued"
    replay = _notify(client, issuer.ubn, secret, payload, stamp)  # the identical notice
    assert replay.status_code == 200 and body_of(replay)["invoice_number"] == number
    assert body_of(replay)["replayed"] is True
    retry = _notify(client, issuer.ubn, secret, payload, stamp + 1)  # a new notice, same order
    assert retry.status_code == 200 and body_of(retry)["invoice_number"] == number
    assert _invoice_count(client, issuer, "SO-P-4") == 1
    shown = body_of(client.http.get(f"/v1/pending-invoices/{held['pending_id']}", headers=issuer.headers))
    assert shown["status"] == "issued" and shown["invoice_number"] == number
    # GET /v1/merchant never shows the secret.
    assert secret not in client.http.get("/v1/merchant", headers=issuer.headers).body.decode()


def test_refused_notices(client, issuer, new_merchant):
    secret = _secret(client, issuer)
    _hold(client, issuer, "SO-P-5")
    payload = {"order_id": "SO-P-5"}

    def code(response):
        return response.status_code, body_of(response)["error"]["code"]

    assert code(_notify(client, issuer.ubn, "wrong-secret", payload)) == (401, "INVALID_SIGNATURE")
    assert code(_notify(client, issuer.ubn, secret, payload, signature="0" * 64)) == (401, "INVALID_SIGNATURE")
    assert code(_notify(client, issuer.ubn, secret, payload, signature="zz")) == (401, "INVALID_SIGNATURE")
    no_secret = new_merchant()
    assert code(_notify(client, no_secret.ubn, secret, payload)) == (401, "INVALID_SIGNATURE")
    assert code(_notify(client, "12345675", secret, payload)) == (401, "INVALID_SIGNATURE")
    assert code(_notify(client, issuer.ubn, secret, payload, int(time.time()) - 301)) == (401, "STALE_TIMESTAMP")
    assert code(_notify(client, issuer.ubn, secret, payload, int(time.time()) + 301)) == (401, "STALE_TIMESTAMP")
    bare = client.http.post(NOTIFY, headers={"Content-Type": "application/json"}, body="{}")
    assert code(bare) == (401, "INVALID_SIGNATURE")
    assert code(_notify(client, issuer.ubn, secret, {"order_id": "NOPE"})) == (404, "ORDER_NOT_FOUND")
    assert code(_notify(client, issuer.ubn, secret, {"order_id": "SO-P-5", "amount": "131"})) == (
        422,
        "AMOUNT_MISMATCH",
    )
    assert code(_notify(client, issuer.ubn, secret, ["not", "an", "object"])) == (400, "MALFORMED_JSON")
    assert _notify(client, issuer.ubn, secret, {"amount": 1}).status_code == 400
    assert _invoice_count(client, issuer, "SO-P-5") == 0
    # A rotated secret replaces the old one.
    new_secret = _secret(client, issuer)
    assert code(_notify(client, issuer.ubn, secret, payload)) == (401, "INVALID_SIGNATURE")
    assert _notify(client, issuer.ubn, new_secret, payload).status_code == 200
    # Another merchant's secret cannot issue this merchant's order.
    other = new_merchant()
    other_secret = _secret(client, other)
    assert code(_notify(client, issuer.ubn, other_secret, payload)) == (401, "INVALID_SIGNATURE")
    assert _notify(client, other.ubn, other_secret, payload).status_code == 404


def test_concurrent_notices_issue_one_invoice(client, issuer):
    secret = _secret(client, issuer)
    _hold(client, issuer, "SO-P-6")
    stamp = int(time.time())
    answers: list = [None] * 3

    def send(index: int) -> None:
        # Three different notices (new timestamps) racing: the payment system's retries. They go
        # straight to the route's handler: Chalice's test client shares one request object between
        # threads, so concurrent HTTP calls through it would mix their headers.
        raw = json.dumps({"order_id": "SO-P-6"})
        timestamp = str(stamp + index)
        digest = hmac.new(secret.encode(), f"{timestamp}.{raw}".encode(), hashlib.sha256).hexdigest()
        headers = {"x-merchant-ubn": issuer.ubn, "x-timestamp": timestamp, "x-signature": digest}
        answers[index] = receive_notice(headers, raw.encode())

    threads = [threading.Thread(target=send, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(a is not None and a.status == "issued" for a in answers), answers
    assert len({a.invoice_number for a in answers}) == 1
    assert _invoice_count(client, issuer, "SO-P-6") == 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(invoice=json_values, order_id=json_values)
def test_pending_routes_never_fail_with_a_server_error(client, fuzz_merchant, invoice, order_id):
    for payload in ({"order_id": order_id, "invoice": invoice}, {"order_id": "SO-F", "invoice": invoice}, invoice):
        response = client.http.post(
            "/v1/pending-invoices",
            headers={"Content-Type": "application/json", **fuzz_merchant},
            body=json.dumps(payload),
        )
        _assert_client_error_or_success(response)


@pytest.fixture(scope="module")
def fuzz_secret(client, fuzz_merchant):
    response = post_json(client, "/v1/merchant/webhook-secret", {}, fuzz_merchant)
    ubn = body_of(client.http.get("/v1/merchant", headers=fuzz_merchant))["ubn"]
    return ubn, body_of(response)["webhook_secret"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=json_values, stamp=st.text(max_size=14), ubn=st.text(max_size=10))
def test_signed_and_unsigned_notices_never_fail_with_a_server_error(client, fuzz_secret, payload, stamp, ubn):
    own_ubn, secret = fuzz_secret
    _assert_client_error_or_success(_notify(client, own_ubn, secret, payload))  # validly signed, any JSON
    raw = json.dumps(payload)
    headers = {"Content-Type": "application/json", "X-Timestamp": stamp, "X-Merchant-Ubn": ubn, "X-Signature": "0"}
    try:
        response = client.http.post(NOTIFY, headers=headers, body=raw)
    except (UnicodeEncodeError, ValueError):
        return  # not sendable as an HTTP header at all
    _assert_client_error_or_success(response)


def test_a_tampered_notice_is_refused(client, issuer):
    secret = _secret(client, issuer)
    _hold(client, issuer, "SO-P-7")
    stamp = str(int(time.time()))
    signed = json.dumps({"order_id": "SO-P-7", "amount": "130"})
    digest = hmac.new(secret.encode(), f"{stamp}.{signed}".encode(), hashlib.sha256).hexdigest()
    tampered = signed.replace('"130"', '"1"')  # the body changed after it was signed
    headers = {
        "Content-Type": "application/json",
        "X-Merchant-Ubn": issuer.ubn,
        "X-Timestamp": stamp,
        "X-Signature": digest,
    }
    response = client.http.post(NOTIFY, headers=headers, body=tampered)
    assert response.status_code == 401
    assert body_of(response)["error"]["code"] == "INVALID_SIGNATURE"
    later = str(int(stamp) + 1)  # the right signature with another timestamp
    response = client.http.post(NOTIFY, headers={**headers, "X-Timestamp": later}, body=signed)
    assert response.status_code == 401
    assert _invoice_count(client, issuer, "SO-P-7") == 0

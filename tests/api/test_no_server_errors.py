"""No input may cause a 500: arbitrary JSON, and valid requests with one field broken, always get a
4xx in the error shape (or succeed)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import body_of

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)

VALID_INVOICE = {
    "buyer": {"ubn": None, "name": "消費者", "email": "buyer@example.com"},
    "carrier": {"type": "3J0002", "id": "/ABC+123"},
    "print": False,
    "items": [{"description": "拿鐵咖啡", "quantity": "2", "unit": "杯", "unit_price": "65", "tax_type": "1"}],
    "prices_include_tax": True,
}

PUBLIC_POSTS = [
    "/v1/auth/login",
    "/v1/auth/refresh",
    "/v1/auth/password/reset",
    "/v1/registrations/account",
    "/v1/registrations/certificate",
]
MERCHANT_POSTS = [
    "/v1/invoices",
    "/v1/invoices/batch",
    "/v1/api-keys",
    "/v1/merchant/receivers/verify",
    "/v1/filings/11402/submit",
    "/v1/filings/11402/payment",
    "/v1/filings/11402/reconcile",
    "/v1/filings/11402/blank-numbers",
]


def _assert_client_error_or_success(response: Any) -> None:
    assert response.status_code < 500, response.body
    if response.status_code >= 400:
        error = body_of(response)["error"]
        assert error["code"] and error["message"] and error["message_zh"]


@pytest.fixture(scope="module")
def fuzz_merchant(client, staff_headers):
    from tests.api.conftest import MERCHANT_PASSWORD, post_json, random_ubn, register_business

    ubn = random_ubn()
    register_business(client, staff_headers, ubn)
    initial = body_of(post_json(client, f"/v1/admin/merchants/{ubn}/credentials", {}, staff_headers))[
        "initial_password"
    ]
    tokens = body_of(
        post_json(
            client,
            "/v1/registrations/account",
            {"ubn": ubn, "initial_password": initial, "new_password": MERCHANT_PASSWORD},
        )
    )
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    client.http.patch(
        "/v1/merchant",
        headers={"Content-Type": "application/json", **headers},
        body=json.dumps({"settings": {"qr_aes_key": "FE05F029154F6AA67A78B338ED2F6601"}}),
    )
    return headers


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(PUBLIC_POSTS), payload=json_values)
def test_public_routes_never_fail_with_a_server_error(client, path, payload):
    response = client.http.post(path, headers={"Content-Type": "application/json"}, body=json.dumps(payload))
    _assert_client_error_or_success(response)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(MERCHANT_POSTS), payload=json_values)
def test_merchant_routes_never_fail_with_a_server_error(client, fuzz_merchant, path, payload):
    response = client.http.post(
        path, headers={"Content-Type": "application/json", **fuzz_merchant}, body=json.dumps(payload)
    )
    _assert_client_error_or_success(response)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    field=st.sampled_from(["buyer", "carrier", "print", "items", "prices_include_tax", "donation_code", "order_id"]),
    value=json_values,
    item_field=st.sampled_from(["description", "quantity", "unit", "unit_price", "tax_type"]),
    item_value=json_values,
)
def test_an_invoice_with_one_broken_field_is_refused_cleanly(
    client, fuzz_merchant, field, value, item_field, item_value
):
    # The merchant has no booklets, so a valid invoice ends in 409 (no numbers) — never in a 500.
    broken = json.loads(json.dumps(VALID_INVOICE))
    broken[field] = value
    response = client.http.post(
        "/v1/invoices", headers={"Content-Type": "application/json", **fuzz_merchant}, body=json.dumps(broken)
    )
    _assert_client_error_or_success(response)
    item_broken = json.loads(json.dumps(VALID_INVOICE))
    item_broken["items"][0][item_field] = item_value
    response = client.http.post(
        "/v1/invoices", headers={"Content-Type": "application/json", **fuzz_merchant}, body=json.dumps(item_broken)
    )
    _assert_client_error_or_success(response)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    query=st.dictionaries(
        st.sampled_from(
            [
                "period",
                "date_from",
                "date_to",
                "buyer_ubn",
                "status",
                "carrier_id",
                "min_total",
                "max_total",
                "limit",
                "cursor",
                "x",
            ]
        ),
        st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20),
        max_size=4,
    )
)
def test_invoice_queries_never_fail_with_a_server_error(client, fuzz_merchant, query):
    from urllib.parse import urlencode

    response = client.http.get(f"/v1/invoices?{urlencode(query)}", headers=fuzz_merchant)
    _assert_client_error_or_success(response)


@pytest.mark.parametrize("depth", [33, 990, 100_000])
@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_deeply_nested_json_is_refused_before_it_is_parsed(client, fuzz_merchant, depth, opener):
    closer = "]" if opener == "[" else "}"
    body = opener * depth + "1" + closer * depth
    for path, headers in (("/v1/auth/login", {}), ("/v1/invoices", fuzz_merchant), ("/v1/allowances", fuzz_merchant)):
        response = client.http.post(path, headers={"Content-Type": "application/json", **headers}, body=body)
        assert response.status_code == 400, (path, response.body[:200])
        assert body_of(response)["error"]["code"] == "JSON_TOO_DEEP"


def test_brackets_inside_strings_do_not_count_as_nesting(client):
    # A description full of brackets is text, not structure: the login is judged on its fields.
    payload = '{"ubn": "' + "[" * 40 + '", "password": "' + "{" * 40 + '\\""}'
    response = client.http.post("/v1/auth/login", headers={"Content-Type": "application/json"}, body=payload)
    assert response.status_code == 400
    assert body_of(response)["error"]["field"] == "ubn"

"""API keys for ERP/POS systems (API.md "GET, POST, DELETE /v1/api-keys")."""

from __future__ import annotations

import json

import pytest

from tests.api.conftest import body_of, post_json
from tests.api.test_invoices import B2B, make_issuer

ALL_SCOPES = [
    "allowances:read",
    "allowances:write",
    "filings:read",
    "filings:write",
    "invoices:read",
    "invoices:write",
    "tracks:read",
]


def create_key(client, headers, name="門市 POS 1", scopes=("invoices:write",)):
    response = post_json(client, "/v1/api-keys", {"name": name, "scopes": list(scopes)}, headers)
    return response, body_of(response)


def with_key(api_key):
    return {"X-Api-Key": api_key}


def list_keys(client, headers, query=""):
    response = client.http.get(f"/v1/api-keys{query}", headers=headers)
    assert response.status_code == 200, response.body
    return response, body_of(response)


def delete_key(client, headers, key_id):
    return client.http.delete(f"/v1/api-keys/{key_id}", headers=headers)


def assert_error(response, status, code):
    body = body_of(response)
    assert response.status_code == status, body
    assert body["error"]["code"] == code
    assert body["error"]["message"] and body["error"]["message_zh"]


def test_a_key_acts_as_the_merchant_that_created_it(client, staff_headers, new_merchant):
    a = make_issuer(client, staff_headers, new_merchant)
    issued = post_json(client, "/v1/invoices", B2B, a.headers)
    assert issued.status_code == 201, issued.body
    response, created = create_key(client, a.headers, scopes=["invoices:write", "invoices:read"])
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    assert created["name"] == "門市 POS 1"
    assert created["scopes"] == ["invoices:read", "invoices:write"]
    assert created["api_key"].startswith(f"ak_{created['key_id']}.")
    assert created["created_at"]

    listed = client.http.get("/v1/invoices", headers=with_key(created["api_key"]))
    assert listed.status_code == 200, listed.body
    assert [i["invoice_number"] for i in body_of(listed)["items"]] == [body_of(issued)["invoice_number"]]
    assert body_of(listed)["items"][0]["seller"]["ubn"] == a.ubn


def test_keys_are_listed_without_their_secret(client, new_merchant):
    a = new_merchant()
    _, created = create_key(client, a.headers, name="ERP")
    assert post_json(client, "/v1/invoices", {}, with_key(created["api_key"])).status_code == 400

    response, listed = list_keys(client, a.headers)
    secret = created["api_key"].split(".", 1)[1]
    assert secret.encode() not in response.body
    assert listed["next_cursor"] is None
    [item] = listed["items"]
    assert item["key_id"] == created["key_id"]
    assert item["name"] == "ERP"
    assert item["scopes"] == ["invoices:write"]
    assert item["prefix"] == f"ak_{created['key_id']}."
    assert item["last_used_at"]  # it was just used
    assert item["revoked_at"] is None
    assert not {"api_key", "secret", "secret_hash"} & set(item)


def test_a_revoked_key_stops_working(client, new_merchant):
    a = new_merchant()
    _, created = create_key(client, a.headers, scopes=["invoices:read"])
    assert client.http.get("/v1/invoices", headers=with_key(created["api_key"])).status_code == 200

    response = delete_key(client, a.headers, created["key_id"])
    assert response.status_code == 204
    assert_error(client.http.get("/v1/invoices", headers=with_key(created["api_key"])), 401, "INVALID_API_KEY")

    assert list_keys(client, a.headers)[1]["items"] == []
    [revoked] = list_keys(client, a.headers, "?include_revoked=true")[1]["items"]
    assert revoked["revoked_at"]
    # DELETE is idempotent for the key's owner.
    assert delete_key(client, a.headers, created["key_id"]).status_code == 204


@pytest.mark.parametrize(
    "value",
    [
        "ak_AAAAAAAAAAAA." + "B" * 43,  # well-formed, never issued
        "not-a-key",
        "ak_short.secret",
        "Bearer something",
        "ak_" + "A" * 12 + "." + "B" * 43 + "\u00e9",
    ],
)
def test_a_made_up_key_is_refused(client, value):
    response = client.http.get("/v1/merchant", headers={"X-Api-Key": value})
    assert_error(response, 401, "INVALID_API_KEY")


def test_the_right_key_id_with_a_wrong_secret_is_refused_the_same_way(client, new_merchant):
    a = new_merchant()
    _, created = create_key(client, a.headers)
    forged = created["api_key"][:-1] + ("A" if created["api_key"][-1] != "A" else "B")
    assert_error(client.http.get("/v1/merchant", headers=with_key(forged)), 401, "INVALID_API_KEY")


def test_another_merchant_cannot_revoke_or_see_a_key(client, new_merchant):
    a, b = new_merchant(), new_merchant()
    _, created = create_key(client, a.headers)
    assert_error(delete_key(client, b.headers, created["key_id"]), 404, "API_KEY_NOT_FOUND")
    assert list_keys(client, b.headers)[1]["items"] == []
    # b's attempt left a's key working
    assert post_json(client, "/v1/invoices", {}, with_key(created["api_key"])).status_code == 400


@pytest.mark.parametrize("key_id", ["AAAAAAAAAAAA", "nope", "x" * 200])
def test_an_unknown_key_id_is_not_found(client, new_merchant, key_id):
    assert_error(delete_key(client, new_merchant().headers, key_id), 404, "API_KEY_NOT_FOUND")


def test_an_api_key_cannot_manage_keys(client, new_merchant):
    a = new_merchant()
    _, created = create_key(client, a.headers)
    headers = with_key(created["api_key"])
    assert_error(create_key(client, headers)[0], 403, "API_KEY_NOT_ALLOWED")
    assert_error(client.http.get("/v1/api-keys", headers=headers), 403, "API_KEY_NOT_ALLOWED")
    assert_error(delete_key(client, headers, created["key_id"]), 403, "API_KEY_NOT_ALLOWED")


def test_an_api_key_cannot_use_staff_routes(client, new_merchant):
    a = new_merchant()
    _, created = create_key(client, a.headers)
    response = client.http.get(f"/v1/admin/tax-registry/{a.ubn}", headers=with_key(created["api_key"]))
    assert_error(response, 403, "FORBIDDEN")


def test_key_routes_need_a_sign_in(client):
    assert_error(client.http.get("/v1/api-keys"), 401, "UNAUTHENTICATED")
    assert_error(post_json(client, "/v1/api-keys", {"name": "x", "scopes": ["invoices:read"]}), 401, "UNAUTHENTICATED")
    assert_error(client.http.delete("/v1/api-keys/AAAAAAAAAAAA"), 401, "UNAUTHENTICATED")


def test_staff_have_no_api_keys(client, staff_headers):
    assert_error(client.http.get("/v1/api-keys", headers=staff_headers), 403, "FORBIDDEN")


@pytest.mark.parametrize(
    ("payload", "code", "field"),
    [
        ({"name": "POS", "scopes": []}, None, "scopes"),
        ({"name": "POS", "scopes": ["invoices:delete"]}, "INVALID_SCOPE", "scopes[0]"),
        ({"name": "POS", "scopes": "invoices:read"}, None, "scopes"),
        ({"name": "", "scopes": ["invoices:read"]}, None, "name"),
        ({"name": "   ", "scopes": ["invoices:read"]}, None, "name"),
        ({"name": "名" * 61, "scopes": ["invoices:read"]}, None, "name"),
        ({"scopes": ["invoices:read"]}, "MISSING_FIELD", "name"),
        ({"name": "POS", "scopes": ["invoices:read"], "secret": "mine"}, "UNKNOWN_FIELD", "secret"),
    ],
)
def test_invalid_key_requests_are_refused_naming_the_field(client, new_merchant, payload, code, field):
    response = post_json(client, "/v1/api-keys", payload, new_merchant().headers)
    body = body_of(response)
    assert response.status_code == 400, body
    assert body["error"]["field"] == field
    if code:
        assert body["error"]["code"] == code


def test_every_scope_may_be_granted(client, new_merchant):
    response, created = create_key(client, new_merchant().headers, scopes=ALL_SCOPES)
    assert response.status_code == 201
    assert created["scopes"] == ALL_SCOPES


def test_at_most_twenty_active_keys_per_merchant(client, new_merchant):
    a = new_merchant()
    created = [create_key(client, a.headers, name=f"POS {i}")[1] for i in range(20)]
    assert all("key_id" in c for c in created)
    response, _ = create_key(client, a.headers, name="one too many")
    assert_error(response, 409, "TOO_MANY_API_KEYS")

    # Revoking one makes room again.
    assert delete_key(client, a.headers, created[0]["key_id"]).status_code == 204
    assert create_key(client, a.headers, name="replacement")[0].status_code == 201


def test_a_person_must_replace_the_initial_password_before_managing_keys(client, staff_headers):
    from tests.api.conftest import random_ubn, register_business

    ubn = random_ubn()
    register_business(client, staff_headers, ubn)
    issued = body_of(post_json(client, f"/v1/admin/merchants/{ubn}/credentials", {}, staff_headers))
    login = body_of(post_json(client, "/v1/auth/login", {"ubn": ubn, "password": issued["initial_password"]}))
    headers = {"Authorization": f"Bearer {login['access_token']}"}
    response = client.http.post(
        "/v1/api-keys",
        headers={"Content-Type": "application/json", **headers},
        body=json.dumps({"name": "POS", "scopes": ["invoices:read"]}),
    )
    assert_error(response, 403, "PASSWORD_CHANGE_REQUIRED")

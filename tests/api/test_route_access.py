"""Who may call what: every route in the served OpenAPI × every kind of credential → allowed or refused.

The table below is the platform's access policy written out by hand, not read from the code: a new
route that is not in it fails ``test_every_served_route_is_in_the_table``, and a route whose declaration
drifts from it fails its own row. Account control (profile, receivers, password, API keys, webhook
secret, audit log, taking up and assigning tracks) is never open to API keys: a leaked read-only key
must not be able to redirect the merchant's mail and take the account over by a password reset.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.api.conftest import (
    MERCHANT_PASSWORD,
    STAFF_PASSWORD,
    STAFF_USERNAME,
    body_of,
    post_json,
    random_ubn,
    register_business,
)

SCOPES = (
    "invoices:read",
    "invoices:write",
    "allowances:read",
    "allowances:write",
    "tracks:read",
    "filings:read",
    "filings:write",
    "notifications:read",
    "webhooks:read",
    "webhooks:write",
)
KINDS = ("anonymous", "merchant", "merchant_initial", "staff", *(f"key:{s}" for s in SCOPES))

ANYONE = frozenset(KINDS)
PEOPLE = frozenset({"merchant"})  # a merchant's signed-in person; no API key
PEOPLE_EVEN_INITIAL = frozenset({"merchant", "merchant_initial"})  # also before the initial password is replaced
STAFF = frozenset({"staff"})


def key(scope: str) -> frozenset[str]:
    """A person, or an API key that holds ``scope``."""
    return frozenset({"merchant", f"key:{scope}"})


ACCESS: dict[tuple[str, str], frozenset[str]] = {
    # public: no credential is read
    ("GET", "/docs"): ANYONE,
    ("GET", "/health"): ANYONE,
    ("GET", "/local/outbox"): ANYONE,
    ("GET", "/openapi.json"): ANYONE,
    ("GET", "/v1/lookup/carriers"): ANYONE,
    ("GET", "/v1/announcements"): ANYONE,
    ("GET", "/v1/announcements/{announcement_id}"): ANYONE,
    ("GET", "/v1/lookup/donation-codes/{code}"): ANYONE,
    ("GET", "/v1/lookup/ubn/{ubn}"): ANYONE,
    ("GET", "/v1/public/invoices/lookup"): ANYONE,
    ("GET", "/v1/public/invoices/proof"): ANYONE,
    ("POST", "/v1/auth/captcha"): ANYONE,
    ("POST", "/v1/auth/login"): ANYONE,
    ("POST", "/v1/auth/staff/login"): ANYONE,
    ("POST", "/v1/auth/refresh"): ANYONE,
    ("POST", "/v1/auth/password/forgot"): ANYONE,
    ("POST", "/v1/auth/password/reset"): ANYONE,
    ("POST", "/v1/registrations/account"): ANYONE,
    ("POST", "/v1/registrations/certificate"): ANYONE,
    ("POST", "/v1/registrations/certificate/challenge"): ANYONE,
    ("POST", "/v1/payments/notify"): ANYONE,  # signed by the webhook secret instead
    # tax-office staff
    ("POST", "/v1/admin/allocations"): STAFF,
    ("POST", "/v1/admin/jobs/{job}"): STAFF,
    ("POST", "/v1/admin/merchants/{ubn}/credentials"): STAFF,
    ("POST", "/v1/admin/tax-registry/import"): STAFF,
    ("PUT", "/v1/admin/tax-registry/{ubn}"): STAFF,
    ("GET", "/v1/admin/tax-registry/{ubn}"): STAFF,
    ("GET", "/v1/admin/calendar"): STAFF,
    ("PUT", "/v1/admin/calendar/{day}"): STAFF,
    ("DELETE", "/v1/admin/calendar/{day}"): STAFF,
    ("GET", "/v1/admin/announcements"): STAFF,
    ("POST", "/v1/admin/announcements"): STAFF,
    ("PATCH", "/v1/admin/announcements/{announcement_id}"): STAFF,
    ("DELETE", "/v1/admin/announcements/{announcement_id}"): STAFF,
    ("POST", "/v1/admin/announcements/{announcement_id}/withdraw"): STAFF,
    ("POST", "/v1/auth/staff/logout"): STAFF,
    ("POST", "/v1/admin/lottery/{period}"): STAFF,
    ("POST", "/v1/admin/lottery/{period}/numbers"): STAFF,
    ("PUT", "/v1/admin/lottery/{period}/numbers"): STAFF,
    ("GET", "/v1/admin/lottery/{period}/numbers"): STAFF,
    # account control: people only
    ("POST", "/v1/auth/logout"): PEOPLE_EVEN_INITIAL,
    ("POST", "/v1/auth/password"): PEOPLE_EVEN_INITIAL,
    ("GET", "/v1/api-keys"): PEOPLE,
    ("POST", "/v1/api-keys"): PEOPLE,
    ("DELETE", "/v1/api-keys/{key_id}"): PEOPLE,
    ("GET", "/v1/merchant"): PEOPLE,
    ("PATCH", "/v1/merchant"): PEOPLE,
    ("GET", "/v1/merchant/audit-log"): PEOPLE,
    # announcements are read by the people of the business, not by integrations
    ("GET", "/v1/merchant/announcements"): PEOPLE,
    ("POST", "/v1/merchant/announcements/{announcement_id}/read"): PEOPLE,
    ("PUT", "/v1/merchant/receivers"): PEOPLE,
    ("POST", "/v1/merchant/receivers/verify"): PEOPLE,
    ("POST", "/v1/merchant/webhook-secret"): PEOPLE,
    ("POST", "/v1/tracks/import"): PEOPLE,
    ("POST", "/v1/tracks/{track_id}/activate"): PEOPLE,
    ("PUT", "/v1/tracks/{track_id}/channels"): PEOPLE,
    # the merchant's business, open to keys by scope
    ("GET", "/v1/tracks"): key("tracks:read"),
    ("GET", "/v1/tracks/blank-report"): key("tracks:read"),
    ("POST", "/v1/invoices"): key("invoices:write"),
    ("POST", "/v1/invoices/batch"): key("invoices:write"),
    ("GET", "/v1/invoices"): key("invoices:read"),
    ("GET", "/v1/invoices/{invoice_number}"): key("invoices:read"),
    ("GET", "/v1/invoices/{invoice_number}/pdf"): key("invoices:read"),
    ("GET", "/v1/invoices/{invoice_number}/xml"): key("invoices:read"),
    ("POST", "/v1/invoices/{invoice_number}/cancel"): key("invoices:write"),
    ("POST", "/v1/invoices/{invoice_number}/void"): key("invoices:write"),
    ("POST", "/v1/invoices/{invoice_number}/notify"): key("invoices:write"),
    ("POST", "/v1/mig/{message_type}"): key("invoices:write"),
    ("POST", "/v1/pending-invoices"): key("invoices:write"),
    ("GET", "/v1/pending-invoices/{pending_id}"): key("invoices:read"),
    ("POST", "/v1/pending-invoices/{pending_id}/trigger"): key("invoices:write"),
    ("DELETE", "/v1/pending-invoices/{pending_id}"): key("invoices:write"),
    ("GET", "/v1/received-invoices"): key("invoices:read"),
    ("GET", "/v1/received-invoices/{seller_ubn}/{invoice_number}"): key("invoices:read"),
    ("GET", "/v1/received-invoices/{seller_ubn}/{invoice_number}/pdf"): key("invoices:read"),
    ("GET", "/v1/received-invoices/{seller_ubn}/{invoice_number}/xml"): key("invoices:read"),
    ("GET", "/v1/purchase-lists/{period}/invoices.xml"): key("invoices:read"),
    ("GET", "/v1/purchase-lists/{period}/invoices.csv"): key("invoices:read"),
    ("GET", "/v1/purchase-lists/{period}/allowances.xml"): key("allowances:read"),
    ("GET", "/v1/purchase-lists/{period}/allowances.csv"): key("allowances:read"),
    # B2B exchange (交換): reading the to-do list and messages, and answering, as the invoices are
    ("GET", "/v1/exchange/inbox"): key("invoices:read"),
    ("GET", "/v1/exchange/{exchange_id}"): key("invoices:read"),
    ("GET", "/v1/exchange/{exchange_id}/messages/{message_type}"): key("invoices:read"),
    ("POST", "/v1/exchange/{exchange_id}/confirm"): key("invoices:write"),
    ("POST", "/v1/exchange/{exchange_id}/reject"): key("invoices:write"),
    ("POST", "/v1/exchange/{exchange_id}/confirm-reject"): key("invoices:write"),
    ("POST", "/v1/exchange/{exchange_id}/cancel"): key("invoices:write"),
    ("POST", "/v1/exchange/{exchange_id}/confirm-cancel"): key("invoices:write"),
    # Allowances by exchange (交換折讓, B0101…B0202): as the storage allowances are
    ("POST", "/v1/exchange/{exchange_id}/allowances"): key("allowances:write"),
    ("GET", "/v1/exchange/{exchange_id}/allowances"): key("allowances:read"),
    ("GET", "/v1/exchange/allowances/{allowance_id}"): key("allowances:read"),
    ("GET", "/v1/exchange/allowances/{allowance_id}/messages/{message_type}"): key("allowances:read"),
    ("POST", "/v1/exchange/allowances/{allowance_id}/confirm"): key("allowances:write"),
    ("POST", "/v1/exchange/allowances/{allowance_id}/cancel"): key("allowances:write"),
    ("POST", "/v1/exchange/allowances/{allowance_id}/confirm-cancel"): key("allowances:write"),
    ("POST", "/v1/allowances"): key("allowances:write"),
    ("GET", "/v1/lottery/{period}"): key("invoices:read"),
    ("GET", "/v1/lottery/{period}/{invoice_number}/proof"): key("invoices:read"),
    ("POST", "/v1/lottery/{period}/{invoice_number}/delivered"): key("invoices:write"),
    ("GET", "/v1/allowances"): key("allowances:read"),
    ("GET", "/v1/allowances/{allowance_number}"): key("allowances:read"),
    ("GET", "/v1/allowances/{allowance_number}/pdf"): key("allowances:read"),
    ("GET", "/v1/allowances/{allowance_number}/xml"): key("allowances:read"),
    ("POST", "/v1/allowances/{allowance_number}/cancel"): key("allowances:write"),
    ("POST", "/v1/allowances/{allowance_number}/void"): key("allowances:write"),
    ("GET", "/v1/filings"): key("filings:read"),
    ("GET", "/v1/filings/{period}"): key("filings:read"),
    ("POST", "/v1/filings/{period}/reconcile"): key("filings:read"),
    ("GET", "/v1/filings/{period}/versions/{version}/{kind}"): key("filings:read"),
    ("GET", "/v1/filings/{period}/blank-numbers"): key("filings:read"),
    ("GET", "/v1/filings/{period}/blank-numbers/{name}"): key("filings:read"),
    ("POST", "/v1/filings/{period}/blank-numbers"): key("filings:write"),
    ("POST", "/v1/filings/{period}/submit"): key("filings:write"),
    ("POST", "/v1/filings/{period}/payment"): key("filings:write"),
    ("GET", "/v1/notifications"): key("notifications:read"),
    ("GET", "/v1/notifications/unread-count"): key("notifications:read"),
    ("GET", "/v1/notifications/settings"): key("notifications:read"),
    # where notices are mailed is the account's own choice: people only, as the profile is
    ("PUT", "/v1/notifications/settings"): PEOPLE,
    ("POST", "/v1/notifications/read-all"): key("notifications:read"),
    ("GET", "/v1/notifications/{notification_id}"): key("notifications:read"),
    ("POST", "/v1/notifications/{notification_id}/read"): key("notifications:read"),
    # outgoing webhooks: an ERP may provision its own endpoint with a webhooks:write key
    ("POST", "/v1/webhooks/endpoints"): key("webhooks:write"),
    ("GET", "/v1/webhooks/endpoints"): key("webhooks:read"),
    ("GET", "/v1/webhooks/endpoints/{endpoint_id}"): key("webhooks:read"),
    ("PATCH", "/v1/webhooks/endpoints/{endpoint_id}"): key("webhooks:write"),
    ("DELETE", "/v1/webhooks/endpoints/{endpoint_id}"): key("webhooks:write"),
    ("POST", "/v1/webhooks/endpoints/{endpoint_id}/rotate-secret"): key("webhooks:write"),
    ("GET", "/v1/webhooks/endpoints/{endpoint_id}/deliveries"): key("webhooks:read"),
    ("POST", "/v1/webhooks/endpoints/{endpoint_id}/events/{event_id}/replay"): key("webhooks:write"),
    ("GET", "/v1/events"): key("webhooks:read"),
    ("GET", "/v1/events/{event_id}"): key("webhooks:read"),
}

#: Answers that mean "not you" rather than "you, but the request is wrong".
REFUSALS = {
    401: {"UNAUTHENTICATED", "INVALID_TOKEN", "TOKEN_EXPIRED", "SESSION_ENDED", "INVALID_API_KEY"},
    403: {"FORBIDDEN", "API_KEY_NOT_ALLOWED", "INSUFFICIENT_SCOPE", "PASSWORD_CHANGE_REQUIRED"},
}
#: Routes that end the session they are called with: each call gets a session of its own.
ENDS_SESSION = {("POST", "/v1/auth/logout"), ("POST", "/v1/auth/staff/logout")}


@dataclass
class Credentials:
    make: Callable[[str], dict[str, str]]
    cached: dict[str, dict[str, str]]

    def headers(self, kind: str, *, fresh: bool = False) -> dict[str, str]:
        if fresh:
            return self.make(kind)  # for a call that ends it: never shared with the other rows
        if kind not in self.cached:
            self.cached[kind] = self.make(kind)
        return self.cached[kind]


def _login(client: Any, path: str, payload: dict[str, str]) -> dict[str, str]:
    response = post_json(client, path, payload)
    assert response.status_code == 200, response.body
    return {"Authorization": f"Bearer {body_of(response)['access_token']}"}


@pytest.fixture(scope="module")
def credentials(client: Any, staff_headers: dict[str, str]) -> Credentials:
    ubn = random_ubn()
    register_business(client, staff_headers, ubn)
    issued = post_json(client, f"/v1/admin/merchants/{ubn}/credentials", {}, staff_headers)
    activated = post_json(
        client,
        "/v1/registrations/account",
        {"ubn": ubn, "initial_password": body_of(issued)["initial_password"], "new_password": MERCHANT_PASSWORD},
    )
    assert activated.status_code == 201, activated.body
    person = {"Authorization": f"Bearer {body_of(activated)['access_token']}"}

    # A second business whose tax-office initial password has not been replaced yet.
    newcomer = random_ubn()
    register_business(client, staff_headers, newcomer)
    initial = body_of(post_json(client, f"/v1/admin/merchants/{newcomer}/credentials", {}, staff_headers))

    keys = {}
    for scope in SCOPES:
        created = post_json(client, "/v1/api-keys", {"name": f"ERP {scope}", "scopes": [scope]}, person)
        assert created.status_code == 201, created.body
        keys[scope] = {"X-Api-Key": body_of(created)["api_key"]}

    def make(kind: str) -> dict[str, str]:
        if kind == "anonymous":
            return {}
        if kind == "merchant":
            return _login(client, "/v1/auth/login", {"ubn": ubn, "password": MERCHANT_PASSWORD})
        if kind == "merchant_initial":
            return _login(client, "/v1/auth/login", {"ubn": newcomer, "password": initial["initial_password"]})
        if kind == "staff":
            return _login(client, "/v1/auth/staff/login", {"username": STAFF_USERNAME, "password": STAFF_PASSWORD})
        return keys[kind.removeprefix("key:")]

    return Credentials(make, {"merchant": person})


@pytest.fixture(scope="module")
def spec(client: Any) -> dict[str, Any]:
    return body_of(client.http.get("/openapi.json"))


def _call(client: Any, spec: dict[str, Any], method: str, path: str, headers: dict[str, str]) -> Any:
    # Path parameters get a placeholder: access is decided before the object is looked up.
    url = re.sub(r"{\w+}", "X0000001", path)
    operation = spec["paths"][path][method.lower()]
    if method in {"GET", "DELETE"}:
        return client.http.request(method, url, headers=headers)
    content = (operation.get("requestBody") or {}).get("content") or {"application/json": {}}
    content_type = next(iter(content))
    return client.http.request(method, url, headers={"Content-Type": content_type, **headers}, body=b"{}")


def _refusal(response: Any) -> str | None:
    """The access-control code of a refused request, ``None`` for any other answer."""
    if response.status_code not in REFUSALS:
        return None
    code = (body_of(response) or {}).get("error", {}).get("code")
    return code if code in REFUSALS[response.status_code] else None


def test_every_served_route_is_in_the_table(spec):
    served = {(method.upper(), path) for path, methods in spec["paths"].items() for method in methods}
    assert served - set(ACCESS) == set(), "routes with no line in the access table"
    assert set(ACCESS) - served == set(), "table lines for routes that are not served"


@pytest.mark.parametrize(("method", "path"), sorted(ACCESS), ids=lambda v: v)
def test_each_credential_is_allowed_or_refused_as_the_table_says(client, spec, credentials, method, path):
    allowed = ACCESS[(method, path)]
    wrong = []
    for kind in KINDS:
        headers = credentials.headers(kind, fresh=(method, path) in ENDS_SESSION and kind in allowed)
        response = _call(client, spec, method, path, headers)
        refusal = _refusal(response)
        if kind in allowed:
            if refusal is not None:
                wrong.append(f"{kind}: refused {response.status_code} {refusal}")
            elif response.status_code >= 500:
                wrong.append(f"{kind}: {response.status_code}")
        elif kind == "anonymous":
            if (response.status_code, refusal) != (401, "UNAUTHENTICATED"):
                wrong.append(f"{kind}: {response.status_code} {refusal}, expected 401 UNAUTHENTICATED")
        elif response.status_code != 403 or refusal is None:
            wrong.append(f"{kind}: {response.status_code} {response.body[:120]!r}, expected 403")
    assert wrong == []


def test_a_read_only_key_cannot_take_over_the_account(client, staff_headers, new_merchant):
    """The attack that worked before: redirect the receivers with a key, reset the password by mail."""
    owner = new_merchant(email="owner@example.com")
    created = post_json(client, "/v1/api-keys", {"name": "report", "scopes": ["invoices:read"]}, owner.headers)
    leaked = {"X-Api-Key": body_of(created)["api_key"]}

    attacker = "attacker@example.net"
    attempts = [
        client.http.put(
            "/v1/merchant/receivers",
            headers={"Content-Type": "application/json", **leaked},
            body=json.dumps({"email": attacker}),
        ),
        client.http.patch(
            "/v1/merchant",
            headers={"Content-Type": "application/json", **leaked},
            body=json.dumps({"email": attacker}),
        ),
        post_json(client, "/v1/merchant/receivers/verify", {"channel": "email", "code": "000000"}, leaked),
        post_json(client, "/v1/auth/password", {"current_password": "x", "new_password": "Attacker-2026-pw!"}, leaked),
        post_json(client, "/v1/merchant/webhook-secret", {}, leaked),
        post_json(client, "/v1/api-keys", {"name": "more", "scopes": ["invoices:write"]}, leaked),
    ]
    assert [(r.status_code, body_of(r)["error"]["code"]) for r in attempts] == [(403, "API_KEY_NOT_ALLOWED")] * 6

    post_json(client, "/v1/auth/password/forgot", {"ubn": owner.ubn, "email": attacker})
    sent = body_of(client.http.get("/local/outbox"))["emails"]
    assert not [m for m in sent if attacker in m["to"]]
    profile = body_of(client.http.get("/v1/merchant", headers=owner.headers))
    assert profile["receivers"]["email"]["address"] == "owner@example.com"
    login = post_json(client, "/v1/auth/login", {"ubn": owner.ubn, "password": owner.password})
    assert login.status_code == 200

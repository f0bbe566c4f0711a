from __future__ import annotations

import contextlib
import json
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from chalice.test import Client, TestHTTPClient

from infra.gateway import GatewayResponsesLocalGateway


class ApiHTTPClient(TestHTTPClient):
    """Chalice's test HTTP client, answering unknown paths the way the deployed API Gateway does."""

    def __init__(self, app: Any, config: Any) -> None:
        super().__init__(app, config)
        self._local_gateway = GatewayResponsesLocalGateway(app, config)


class ApiClient(Client):
    @property
    def http(self) -> ApiHTTPClient:
        if self._http_client is None:
            self._http_client = ApiHTTPClient(self._app, self._chalice_config)
        return self._http_client  # type: ignore[return-value]


@pytest.fixture(autouse=True)
def _aws(local_aws: object) -> object:
    return local_aws


@pytest.fixture(scope="session")
def client(local_aws: object) -> Iterator[ApiClient]:
    from app import app

    with ApiClient(app, stage_name="local") as test_client:
        yield test_client


# --- people who use the platform ---------------------------------------------------------------

STAFF_USERNAME = "officer"
STAFF_PASSWORD = "Tax-office-2026-secure"
MERCHANT_PASSWORD = "Merchant-pass-2026!"


def body_of(response: Any) -> Any:
    return json.loads(response.body) if response.body else None


def post_json(client: ApiClient, path: str, payload: Any, headers: dict[str, str] | None = None) -> Any:
    return client.http.post(
        path, headers={"Content-Type": "application/json", **(headers or {})}, body=json.dumps(payload)
    )


_GIVEN: set[str] = set()


def random_ubn() -> str:
    """A UBN with a valid check digit that no other test of this run uses (a test session makes
    thousands: with random picks alone, two would share one every few runs)."""
    from chalicelib.domain.ubn import is_valid_ubn

    while True:
        stem = f"{secrets.randbelow(10**7):07d}"
        for last in "0123456789":
            ubn = stem + last
            if is_valid_ubn(ubn) and ubn not in _GIVEN:
                _GIVEN.add(ubn)
                return ubn


@pytest.fixture(scope="session")
def staff_headers(client: ApiClient) -> dict[str, str]:
    from chalicelib.adapters.clock import SystemClock
    from chalicelib.adapters.dynamo_accounts import DynamoCredentials
    from chalicelib.domain.errors import Conflict
    from chalicelib.services.staff import create_staff

    # tests/web and tests/browser share this fixture: the first of them creates the officer.
    with contextlib.suppress(Conflict):
        create_staff(STAFF_USERNAME, STAFF_PASSWORD, credentials=DynamoCredentials(), clock=SystemClock())
    response = post_json(client, "/v1/auth/staff/login", {"username": STAFF_USERNAME, "password": STAFF_PASSWORD})
    assert response.status_code == 200, response.body
    return {"Authorization": f"Bearer {body_of(response)['access_token']}"}


@dataclass
class Merchant:
    ubn: str
    name: str
    password: str
    tokens: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}"}


def register_business(client: ApiClient, staff_headers: dict[str, str], ubn: str, status: str = "active") -> str:
    name = f"測試商行 {ubn}"
    response = client.http.put(
        f"/v1/admin/tax-registry/{ubn}",
        headers={"Content-Type": "application/json", **staff_headers},
        body=json.dumps({"name": name, "address": "臺北市中正區重慶南路一段 2 號", "status": status}),
    )
    assert response.status_code == 200, response.body
    return name


def sign_up_merchant(
    client: ApiClient, staff_headers: dict[str, str], email: str | None = None, mobile: str | None = None
) -> Merchant:
    """A merchant signed up the tax-office way: registry record, initial password, activation."""
    ubn = random_ubn()
    name = register_business(client, staff_headers, ubn)
    issued = post_json(client, f"/v1/admin/merchants/{ubn}/credentials", {}, staff_headers)
    assert issued.status_code == 201, issued.body
    receivers = {k: v for k, v in (("email", email), ("mobile", mobile)) if v}
    activated = post_json(
        client,
        "/v1/registrations/account",
        {
            "ubn": ubn,
            "initial_password": body_of(issued)["initial_password"],
            "new_password": MERCHANT_PASSWORD,
            "receivers": receivers,
        },
    )
    assert activated.status_code == 201, activated.body
    return Merchant(ubn=ubn, name=name, password=MERCHANT_PASSWORD, tokens=body_of(activated))


@pytest.fixture
def new_merchant(client: ApiClient, staff_headers: dict[str, str]) -> Callable[..., Merchant]:
    """Signs up a new merchant each call (``sign_up_merchant``)."""

    def make(email: str | None = None, mobile: str | None = None) -> Merchant:
        return sign_up_merchant(client, staff_headers, email, mobile)

    return make


def outbox(client: ApiClient) -> dict[str, Any]:
    return body_of(client.http.get("/local/outbox"))


def last_code_sent_to(client: ApiClient, target: str) -> str:
    """The newest 6-digit code mailed or texted to ``target``, read like a person reads an inbox."""
    box = outbox(client)
    texts = [m["body"] for m in box["emails"] if target in m["to"]]
    texts += [s["message"] for s in box["sms"] if s["phone_number"] == target]
    assert texts, f"nothing was sent to {target}"
    match = re.search(r"\b(\d{6})\b", texts[-1])
    assert match, texts[-1]
    return match.group(1)

"""Rate limits over HTTP (docs/rate-limits.md): exactly at the limit, the headers on every
response, one limit shared by two containers, issuing sized for a POS fleet, and the per-IP and
per-UBN limits of the unauthenticated routes.

Each test first builds what it needs (merchants, keys) under the suite's large scale, then lowers
``RATE_LIMIT_SCALE`` so that a limit is met in a few requests. "Containers" are limiters with
their own memory (their leases) over the same DynamoDB table, swapped in between requests as a
load balancer would send them to different Lambda containers; their clock stands still so that
what refills between two requests is exactly what the test moves it by.
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.adapters.dynamo_rate_limits import DynamoRateLimits
from chalicelib.api import deps
from chalicelib.api.rate_limits import policy_table
from chalicelib.services.rate_limiter import RateLimiter
from tests.api.conftest import body_of, post_json, random_ubn
from tests.api.test_api_keys import create_key, with_key
from tests.api.test_invoices import B2C_CARRIER, make_issuer
from tests.api.test_sign_in_limits import MovableClock, random_ip


@pytest.fixture
def from_ip(client, monkeypatch) -> Callable[[str], None]:
    converter = client.http._local_gateway.event_converter
    return lambda address: monkeypatch.setattr(converter, "LOCAL_SOURCE_IP", address)


class Containers:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.clock = MovableClock()
        self._monkeypatch = monkeypatch
        self._limiters = [RateLimiter(store=DynamoRateLimits(), clock=self.clock) for _ in range(2)]
        self.use(0)

    def use(self, index: int) -> None:
        self._monkeypatch.setattr(deps, "_rate_limiter", self._limiters[index])


@pytest.fixture
def containers(monkeypatch) -> Containers:
    return Containers(monkeypatch)


@pytest.fixture
def scale(monkeypatch) -> Callable[[float], None]:
    return lambda factor: monkeypatch.setenv("RATE_LIMIT_SCALE", str(factor))


def _limit_headers(response) -> tuple[str, str, str, str]:
    h = response.headers
    return h["RateLimit-Limit"], h["RateLimit-Remaining"], h["RateLimit-Reset"], h["RateLimit-Policy"]


def _assert_rate_limited(response, retry_after: int) -> None:
    assert response.status_code == 429, response.body
    assert response.headers["Retry-After"] == str(retry_after)
    assert response.headers["RateLimit-Remaining"] == "0"
    error = body_of(response)["error"]
    assert error["code"] == "RATE_LIMITED"
    assert f"retry after {retry_after} s" in error["message"]
    assert f"{retry_after} 秒後再試" in error["message_zh"]


def test_an_api_key_gets_exactly_its_burst_across_two_containers(
    client, staff_headers, new_merchant, containers, scale, from_ip
):
    merchant = new_merchant()
    _, key = create_key(client, merchant.headers, scopes=("invoices:read",))
    _, other_key = create_key(client, merchant.headers, name="門市 POS 2", scopes=("invoices:read",))
    from_ip(random_ip())
    scale(0.02)  # api-key: a burst of 4, refilled at 60 a minute (one a second)

    answers = []
    for index in range(5):
        containers.use(index % 2)
        answers.append(client.http.get("/v1/invoices?limit=1", headers=with_key(key["api_key"])))
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 429]
    assert [_limit_headers(a)[:2] for a in answers[:4]] == [("4", "3"), ("4", "2"), ("4", "1"), ("4", "0")]
    assert answers[0].headers["RateLimit-Policy"] == '"api-key";burst=4;per-minute=60'
    assert answers[3].headers["RateLimit-Reset"] == "4"  # four seconds until the bucket is full again
    _assert_rate_limited(answers[4], retry_after=1)

    # The merchant's other key and its people have limits of their own.
    assert client.http.get("/v1/invoices?limit=1", headers=with_key(other_key["api_key"])).status_code == 200
    assert client.http.get("/v1/invoices?limit=1", headers=merchant.headers).status_code == 200

    containers.clock.advance(seconds=1)  # one request refilled, whichever container takes it
    containers.use(1)
    assert client.http.get("/v1/invoices?limit=1", headers=with_key(key["api_key"])).status_code == 200
    containers.use(0)
    _assert_rate_limited(client.http.get("/v1/invoices?limit=1", headers=with_key(key["api_key"])), 1)


def test_issuing_is_not_held_to_the_general_limit_of_the_key(
    client, staff_headers, new_merchant, containers, scale, from_ip
):
    issuer = make_issuer(client, staff_headers, new_merchant)
    from_ip(random_ip())
    scale(0.02)  # api-key: 4 at once; issue: 20 at once
    for _ in range(4):
        assert client.http.get("/v1/invoices?limit=1", headers=issuer.key_headers).status_code == 200
    assert client.http.get("/v1/invoices?limit=1", headers=issuer.key_headers).status_code == 429
    issued = [post_json(client, "/v1/invoices", B2C_CARRIER, issuer.key_headers) for _ in range(6)]
    assert [r.status_code for r in issued] == [201] * 6
    assert issued[-1].headers["RateLimit-Policy"] == '"issue";burst=20;per-minute=600'
    assert issued[-1].headers["RateLimit-Remaining"] == "14"


def test_a_refused_request_changes_nothing(client, staff_headers, new_merchant, containers, scale, from_ip):
    issuer = make_issuer(client, staff_headers, new_merchant)
    from_ip(random_ip())
    scale(0.001)  # issue: 1 at once, 30 a minute
    assert post_json(client, "/v1/invoices", B2C_CARRIER, issuer.key_headers).status_code == 201
    _assert_rate_limited(post_json(client, "/v1/invoices", B2C_CARRIER, issuer.key_headers), retry_after=2)
    scale(1000)
    containers.clock.advance(seconds=60)  # every bucket full again
    listed = body_of(client.http.get("/v1/invoices?limit=10", headers=issuer.headers))
    assert len(listed["items"]) == 1
    assert listed["items"][0]["invoice_number"] == f"{issuer.track}{issuer.begin + 100:08d}"  # the api channel's first


def test_a_signed_in_session_has_its_own_limit(client, new_merchant, containers, scale, from_ip):
    merchant = new_merchant()
    from_ip(random_ip())
    scale(0.02)  # session: a burst of 2
    answers = [client.http.get("/v1/merchant", headers=merchant.headers) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[0].headers["RateLimit-Policy"].startswith('"session";burst=2;')
    # Signing in again starts a new session, with a limit of its own.
    scale(1)
    login = post_json(client, "/v1/auth/login", {"ubn": merchant.ubn, "password": merchant.password})
    assert login.status_code == 200, login.body
    scale(0.02)
    again = {"Authorization": f"Bearer {body_of(login)['access_token']}"}
    assert client.http.get("/v1/merchant", headers=again).status_code == 200


def test_forgotten_password_is_limited_per_address_and_per_ubn(client, new_merchant, containers, scale, from_ip):
    known = new_merchant(email="owner@example.com")
    containers.clock.advance(seconds=60)  # its sign-up counted against the same limit: full again
    scale(1)  # the limits every stage runs: recovery 5 at once per address, 3 per UBN
    from_ip(random_ip())
    spread = [
        post_json(client, "/v1/auth/password/forgot", {"ubn": random_ubn(), "email": "a@example.com"}) for _ in range(6)
    ]
    assert [r.status_code for r in spread] == [202] * 5 + [429]
    assert spread[5].headers["RateLimit-Policy"] == '"recovery-ip";burst=5;per-minute=10'
    _assert_rate_limited(spread[5], retry_after=6)

    # One UBN from four addresses: the fourth is refused, for a real account and an unknown UBN alike.
    for ubn in (known.ubn, random_ubn()):
        answers = []
        for _ in range(4):
            from_ip(random_ip())
            answers.append(post_json(client, "/v1/auth/password/forgot", {"ubn": ubn, "email": "owner@example.com"}))
        assert [r.status_code for r in answers] == [202, 202, 202, 429]
        assert answers[3].headers["RateLimit-Policy"] == '"recovery-account";burst=3;per-minute=5'
        assert answers[3].headers["Retry-After"] == "12"


def test_sign_in_is_limited_per_ubn_across_addresses(client, new_merchant, containers, scale, from_ip):
    merchant = new_merchant()
    scale(1)  # sign-in: 10 at once per UBN
    codes = []
    for _ in range(11):
        from_ip(random_ip())
        answer = post_json(client, "/v1/auth/login", {"ubn": merchant.ubn, "password": "not-the-password-1"})
        codes.append(body_of(answer)["error"]["code"])
    # The sign-in guard answers first (wrong password, then a CAPTCHA); the rate limit caps the rest.
    assert codes[:5] == ["INVALID_CREDENTIALS"] * 5
    assert set(codes[5:10]) == {"CAPTCHA_REQUIRED"}
    assert codes[10] == "RATE_LIMITED"


def test_every_response_carries_the_headers(client, new_merchant, containers, scale, from_ip):
    """Successes, errors and console pages alike (unknown paths are API Gateway's own answer)."""
    merchant = new_merchant()
    from_ip(random_ip())
    scale(1)
    answers = {
        "health": (client.http.get("/health"), 200, "public"),
        "no credential": (client.http.get("/v1/merchant"), 401, "session"),
        "bad body": (post_json(client, "/v1/invoices", {"items": "x"}, merchant.headers), 400, "issue"),
        "profile": (client.http.get("/v1/merchant", headers=merchant.headers), 200, "session"),
        "console page": (client.http.get("/login"), 200, "client-ip"),
    }
    for name, (response, status, policy) in answers.items():
        assert response.status_code == status, (name, response.body)
        limit, remaining, reset, header = _limit_headers(response)
        if name != "no credential":  # refused before any credential: only the per-IP limits counted
            assert header.startswith(f'"{policy}";'), (name, header)
        assert int(limit) >= int(remaining) >= 0 and int(reset) >= 0, name


def test_a_flood_of_parallel_gets_on_one_session_meets_the_limit(local_http_server, new_merchant, scale):
    """The issue's reproduction, over real HTTP: 300 parallel GETs on one session (burst 100)."""
    merchant = new_merchant()
    scale(1)
    statuses: list[int] = []
    lock = threading.Lock()

    def get(_: int) -> None:
        request = urllib.request.Request(f"{local_http_server}/v1/merchant", headers=merchant.headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                status = answer.status
        except urllib.error.HTTPError as error:
            status = error.code
        with lock:
            statuses.append(status)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=30) as pool:
        list(pool.map(get, range(300)))
    elapsed = time.monotonic() - started
    assert set(statuses) == {200, 429}
    # Never more than the burst and what refilled meanwhile (20 a second).
    assert statuses.count(200) <= 100 + 20 * elapsed + 1


def test_the_documented_limits_are_the_ones_enforced(client):
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[2] / "docs" / "rate-limits.md").read_text(encoding="utf-8")
    assert policy_table() in guide
    spec = body_of(client.http.get("/openapi.json"))
    assert policy_table() in spec["info"]["description"]
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            if "operationId" not in operation:
                continue
            assert "Rate limit: `" in operation["description"], (method, path)
            refused = operation["responses"]["429"]
            assert "Retry-After" in refused["headers"], (method, path)
            for response in operation["responses"].values():
                assert "RateLimit-Remaining" in response["headers"], (method, path)
    login = spec["paths"]["/v1/auth/login"]["post"]["description"]
    assert "`sign-in-ip` per client IP" in login and "`sign-in-account` per UBN or username" in login
    issue = spec["paths"]["/v1/invoices"]["post"]["description"]
    assert "`issue` per API key (1,000 at once, 30,000 a minute)" in issue

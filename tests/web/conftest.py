"""Console pages over Chalice's test client, with a cookie jar as a browser keeps one.

Faster than a real browser, for the rules every page obeys (CSRF, sign-in, tenant isolation,
language); the journeys themselves run in Chromium under tests/browser/."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.api.conftest import (  # noqa: F401 - fixtures shared with the API tests
    MERCHANT_PASSWORD,
    ApiClient,
    Merchant,
    _aws,
    client,
    new_merchant,
    staff_headers,
)

_CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Console:
    """One browser's worth of cookies against the app."""

    client: ApiClient
    cookies: dict[str, str] = field(default_factory=dict)

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Host": "127.0.0.1:8000"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {**headers, **(extra or {})}

    def _keep(self, response: Any) -> Any:
        raw = next((v for k, v in response.headers.items() if k.lower() == "set-cookie"), None)
        values = raw if isinstance(raw, list) else ([raw] if raw else [])
        for line in values:
            cookie = str(line)
            name, _, value = cookie.split(";", 1)[0].partition("=")
            if "Max-Age=0" in cookie:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response

    def get(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return self._keep(self.client.http.get(path, headers=self._headers(headers)))

    def post(self, path: str, form: dict[str, Any], *, csrf: bool = True, headers: dict[str, str] | None = None) -> Any:
        data = dict(form)
        if csrf:
            data.setdefault("csrf_token", self.csrf())
        body = urlencode(data, doseq=True)
        return self._keep(
            self.client.http.post(
                path,
                headers=self._headers({"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}),
                body=body,
            )
        )

    def csrf(self) -> str:
        if "einv_csrf" not in self.cookies:
            self.get("/login")
        return self.cookies["einv_csrf"]

    def sign_in(self, ubn: str, password: str = MERCHANT_PASSWORD) -> Any:
        response = self.post("/login", {"ubn": ubn, "password": password})
        assert response.status_code == 303, response.body
        return response


def text_of(response: Any) -> str:
    body = response.body
    return body.decode() if isinstance(body, bytes) else str(body)


@pytest.fixture
def console(client: ApiClient) -> Console:
    return Console(client)


@pytest.fixture
def signed_in(client: ApiClient, new_merchant: Callable[..., Merchant]) -> Callable[..., tuple[Console, Merchant]]:
    """A fresh merchant and a console signed in as it."""

    def make(**kwargs: Any) -> tuple[Console, Merchant]:
        merchant = new_merchant(**kwargs)
        browser = Console(client)
        browser.sign_in(merchant.ubn, merchant.password)
        return browser, merchant

    return make

"""Console pages over Chalice's test client, with a cookie jar as a browser keeps one.

Faster than a real browser, for the rules every page obeys (CSRF, sign-in, tenant isolation,
language); the journeys themselves run in Chromium under tests/browser/."""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.api.conftest import (  # noqa: F401 - fixtures shared with the API tests
    MERCHANT_PASSWORD,
    STAFF_PASSWORD,
    STAFF_USERNAME,
    ApiClient,
    Merchant,
    _aws,
    body_of,
    client,
    new_merchant,
    post_json,
    random_ubn,
    register_business,
    staff_headers,
)
from tests.api.test_invoices import Issuer, make_issuer

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

    def sign_in_staff(self) -> Any:
        """Sign in as the tax-office officer (the ``staff_headers`` fixture creates the account once)."""
        response = self.post("/staff/login", {"username": STAFF_USERNAME, "password": STAFF_PASSWORD})
        assert response.status_code == 303, text_of(response)
        return response

    def post_multipart(self, path: str, fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> Any:
        """A form with files (input name: filename, bytes, content type), as a browser sends
        ``enctype="multipart/form-data"``, the CSRF token first."""
        boundary = "----console-test-" + secrets.token_hex(8)
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            for name, value in {"csrf_token": self.csrf(), **fields}.items()
        ]
        for name, (filename, data, content_type) in files.items():
            head = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: {content_type}\r\n\r\n"
            )
            parts.append(head.encode() + data + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        headers = self._headers({"Content-Type": f"multipart/form-data; boundary={boundary}"})
        return self._keep(self.client.http.post(path, headers=headers, body=body))


def text_of(response: Any) -> str:
    body = response.body
    return body.decode() if isinstance(body, bytes) else str(body)


def console_of(client: ApiClient, ubn: str, password: str = MERCHANT_PASSWORD) -> Console:
    """A new browser signed in as the merchant ``ubn``."""
    browser = Console(client)
    browser.sign_in(ubn, password)
    return browser


def error_of(response: Any, field_id: str) -> str:
    """The error the form macros show under the input ``field_id`` (as written in the page)."""
    match = re.search(rf'<p id="{re.escape(field_id)}-error" class="error" role="alert">([^<]*)</p>', text_of(response))
    assert match, f"no error shown under {field_id}"
    return match.group(1)


def error_text(page: str, input_id: str) -> str:
    """The text of the error under one input (the macros give it the id <input id>-error), unescaped."""
    match = re.search(rf'id="{re.escape(input_id)}-error"[^>]*>([^<]+)<', page)
    assert match, f"no error under {input_id}"
    return html.unescape(match.group(1))


def issued_initial_password(client: ApiClient, staff_headers: dict[str, str]) -> tuple[str, str]:
    """A business the tax office has just registered and issued an initial password to: (UBN, password)."""
    ubn = random_ubn()
    register_business(client, staff_headers, ubn)
    issued = post_json(client, f"/v1/admin/merchants/{ubn}/credentials", {}, staff_headers)
    assert issued.status_code == 201, issued.body
    return ubn, body_of(issued)["initial_password"]


@pytest.fixture
def console(client: ApiClient) -> Console:
    return Console(client)


@pytest.fixture
def signed_in(client: ApiClient, new_merchant: Callable[..., Merchant]) -> Callable[..., tuple[Console, Merchant]]:
    """A fresh merchant and a console signed in as it."""

    def make(**kwargs: Any) -> tuple[Console, Merchant]:
        merchant = new_merchant(**kwargs)
        return console_of(client, merchant.ubn, merchant.password), merchant

    return make


@pytest.fixture
def issuer(client: ApiClient, staff_headers: dict[str, str], new_merchant: Callable[..., Merchant]) -> Issuer:
    """A merchant ready to issue: an activated track, booklets on its channels and its QR key set."""
    return make_issuer(client, staff_headers, new_merchant)


@pytest.fixture
def seller(client: ApiClient, issuer: Issuer) -> Console:
    """A console signed in as ``issuer``."""
    return console_of(client, issuer.ubn)


@pytest.fixture
def staff(client: ApiClient, staff_headers: dict[str, str]) -> Console:
    """A browser signed in as the tax-office officer."""
    browser = Console(client)
    browser.sign_in_staff()
    return browser

"""Who may open each console page, walked over every page the app serves.

The table is written by hand: a page added without a line here fails
``test_every_page_is_in_the_table``, and a page whose declared audience drifts from the table fails
``test_each_page_declares_what_the_table_says``. Then each kind of caller is tried on each page."""

from __future__ import annotations

import re
from typing import Any

import pytest

import app  # noqa: F401 - importing the app registers every page in PAGES
from chalicelib.web.pages import PAGES
from tests.web.conftest import Console, issued_initial_password

# path -> who may open it
PAGE_ACCESS: dict[str, str] = {
    "/": "public",
    "/login": "public",
    "/staff/login": "public",
    "/logout": "public",
    "/console": "merchant",
    "/console/password": "merchant",
    "/console/issue": "merchant",
    "/console/issue/preview": "merchant",
    "/console/issue/buyer": "merchant",
    "/console/invoices": "merchant",
    "/console/invoices/{number}": "merchant",
    "/console/invoices/{number}/pdf": "merchant",
    "/console/invoices/{number}/xml": "merchant",
    "/console/invoices/{number}/cancel": "merchant",
    "/console/invoices/{number}/void": "merchant",
    "/console/invoices/{number}/allowance": "merchant",
    "/console/invoices/{number}/notify": "merchant",
    "/console/invoices/{number}/allowances/{allowance_number}/cancel": "merchant",
    "/console/invoices/{number}/allowances/{allowance_number}/void": "merchant",
    "/console/received": "merchant",
    "/console/received/lists/download": "merchant",
    "/console/received/allowances": "merchant",
    "/console/received/{seller_ubn}/{invoice_number}": "merchant",
    "/console/received/{seller_ubn}/{invoice_number}/xml": "merchant",
    "/console/received/{seller_ubn}/{invoice_number}/pdf": "merchant",
    "/console/exchange": "merchant",
    "/console/exchange/{exchange_id}": "merchant",
    "/console/exchange/{exchange_id}/{action}": "merchant",
    "/console/exchange/{exchange_id}/messages/{message_type}": "merchant",
    "/console/settings/receiving": "merchant",
    # B2B exchange allowances (交換折讓): the exchanged invoice's page and the allowance's
    "/console/exchange/{exchange_id}/allowances": "merchant",
    "/console/exchange/allowances/{allowance_id}": "merchant",
    "/console/exchange/allowances/{allowance_id}/messages/{message_type}": "merchant",
    "/console/exchange/allowances/{allowance_id}/confirm": "merchant",
    "/console/exchange/allowances/{allowance_id}/cancel": "merchant",
    "/console/exchange/allowances/{allowance_id}/confirm-cancel": "merchant",
    "/console/pending": "merchant",
    "/console/pending/new": "merchant",
    "/console/pending/{pending_id}": "merchant",
    "/console/pending/{pending_id}/issue": "merchant",
    "/console/pending/{pending_id}/delete": "merchant",
    "/console/mig": "merchant",
    "/console/filings": "merchant",
    "/console/filings/{period}": "merchant",
    "/console/filings/{period}/submit": "merchant",
    "/console/filings/{period}/payment": "merchant",
    "/console/filings/{period}/reconcile": "merchant",
    "/console/filings/{period}/blank-numbers": "merchant",
    "/console/filings/{period}/versions/{version}/{kind}": "merchant",
    "/console/filings/{period}/blank-numbers/{name}": "merchant",
    "/console/settings": "merchant",
    "/console/settings/profile": "merchant",
    "/console/settings/receivers": "merchant",
    "/console/settings/receivers/verify": "merchant",
    "/console/settings/api-keys": "merchant",
    "/console/settings/api-keys/{key_id}/revoke": "merchant",
    "/console/settings/webhook": "merchant",
    "/console/settings/qr-key": "merchant",
    "/console/settings/issuing": "merchant",
    "/console/tracks": "merchant",
    "/console/tracks/{track_id}": "merchant",
    "/console/tracks/{track_id}/activate": "merchant",
    "/console/tracks/{track_id}/channels": "merchant",
    "/console/tracks/import": "merchant",
    "/console/tracks/blank-report": "merchant",
    "/console/tracks/blank-report/download": "merchant",
    "/captcha/new": "public",
    "/captcha/audio/{captcha_id}": "public",
    "/password/forgot": "public",
    "/password/reset": "public",
    "/activate": "public",
    "/signup/certificate": "public",
    "/lookup": "public",
    "/staff": "staff",
    "/staff/password": "staff",
    "/staff/registry": "staff",
    "/staff/registry/new": "staff",
    "/staff/registry/import": "staff",
    "/staff/registry/{ubn}": "staff",
    "/staff/registry/{ubn}/credentials": "staff",
    "/staff/allocations": "staff",
    "/staff/jobs": "staff",
    "/staff/jobs/{job}": "staff",
    "/staff/announcements": "staff",
    "/staff/announcements/{announcement_id}": "staff",
    "/staff/announcements/{announcement_id}/withdraw": "staff",
    "/staff/lottery": "staff",
    "/staff/lottery/replace": "staff",
    "/staff/lottery/e0504": "staff",
    "/console/lottery": "merchant",
    "/console/lottery/{period}": "merchant",
    "/console/lottery/{period}/{number}/proof": "merchant",
    "/console/lottery/{period}/{number}/delivered": "merchant",
    "/console/announcements": "merchant",
    "/console/announcements/{announcement_id}": "merchant",
    "/console/notifications": "merchant",
    "/console/notifications/read-all": "merchant",
    "/console/notifications/{notification_id}": "merchant",
    "/console/settings/notifications": "merchant",
    "/console/settings/webhooks": "merchant",
    "/console/settings/webhooks/{endpoint_id}": "merchant",
    "/console/settings/webhooks/{endpoint_id}/enabled": "merchant",
    "/console/settings/webhooks/{endpoint_id}/rotate": "merchant",
    "/console/settings/webhooks/{endpoint_id}/delete": "merchant",
    "/console/settings/webhooks/{endpoint_id}/replay": "merchant",
}
# pages a merchant (or staff) holding only the tax-office initial password may open
PASSWORD_CHANGE_PAGES = {"/console/password", "/staff/password"}
SIGN_IN = {"merchant": "/login", "staff": "/staff/login"}
_SAMPLES = {"number": "AB00000000", "period": "11401", "ubn": "12345675", "name": "console.css"}


def _concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: _SAMPLES.get(m.group(1), "x1"), path)


def _pages() -> list[tuple[str, str]]:
    return sorted({(p.path, m) for p in PAGES for m in p.methods})


def test_every_page_is_in_the_table() -> None:
    served = {p.path for p in PAGES}
    assert served - set(PAGE_ACCESS) == set(), "console pages with no line in the access table"
    assert set(PAGE_ACCESS) - served == set(), "table lines for pages that are not served"


def test_each_page_declares_what_the_table_says() -> None:
    assert {p.path: p.auth for p in PAGES} == {path: PAGE_ACCESS[path] for path in {p.path for p in PAGES}}


@pytest.fixture(scope="module")
def callers(client, staff_headers) -> dict[str, Any]:
    from tests.api.conftest import sign_up_merchant

    return {"merchant": sign_up_merchant(client, staff_headers)}


def _as(kind: str, client: Any, callers: dict[str, Any]) -> Console:
    browser = Console(client)
    if kind == "merchant":
        browser.sign_in(callers["merchant"].ubn, callers["merchant"].password)
    elif kind == "staff":
        browser.sign_in_staff()
    return browser


def _call(browser: Console, method: str, path: str, *, csrf: bool = True, headers: dict[str, str] | None = None) -> Any:
    if method == "GET":
        return browser.get(path, headers=headers)
    return browser.post(path, {}, csrf=csrf, headers=headers)


def _sent_to_sign_in(response: Any, audience: str) -> bool:
    location = str(response.headers.get("Location") or response.headers.get("HX-Redirect") or "")
    return response.status_code in (303, 204) and location.split("?", 1)[0] == SIGN_IN[audience]


@pytest.mark.parametrize(("path", "method"), _pages(), ids=lambda v: v)
def test_each_caller_gets_what_the_table_says(client, callers, path: str, method: str) -> None:
    audience = PAGE_ACCESS[path]
    concrete = _concrete(path)
    for kind in ("anonymous", "merchant", "staff", "api_key_only"):
        browser = _as("anonymous" if kind == "api_key_only" else kind, client, callers)
        headers = {"X-Api-Key": "ek_live_not_a_session"} if kind == "api_key_only" else None
        response = _call(browser, method, concrete, headers=headers)
        assert response.status_code < 500, (kind, method, path, response.status_code)
        if audience == "public":
            continue  # anyone: the page decides (the root and sign-out send strangers to sign in)
        if audience == kind:
            assert not _sent_to_sign_in(response, audience), (kind, path)
        else:
            assert _sent_to_sign_in(response, audience), (kind, method, path, response.status_code, response.headers)


@pytest.mark.parametrize(("path", "method"), [p for p in _pages() if p[1] != "GET"], ids=lambda v: v)
def test_every_change_without_the_csrf_token_is_refused(client, callers, path: str, method: str) -> None:
    for kind in ("anonymous", "merchant"):
        browser = _as(kind, client, callers)
        response = _call(browser, method, _concrete(path), csrf=False)
        assert response.status_code == 403, (kind, path, response.status_code)


@pytest.fixture(scope="module")
def initial_password_holder(client, staff_headers) -> tuple[str, str]:
    """A business the tax office has just issued an initial password to."""
    return issued_initial_password(client, staff_headers)


@pytest.mark.parametrize(
    ("path", "method"),
    [(p, m) for p, m in _pages() if PAGE_ACCESS.get(p) == "merchant" and p not in PASSWORD_CHANGE_PAGES],
    ids=lambda v: v,
)
def test_the_initial_password_opens_only_the_password_change(
    client, initial_password_holder, path: str, method: str
) -> None:
    ubn, initial = initial_password_holder
    browser = Console(client)
    signed = browser.post("/login", {"ubn": ubn, "password": initial})
    assert signed.status_code == 303 and signed.headers["Location"] == "/console/password"
    response = _call(browser, method, _concrete(path))
    assert response.status_code == 303 and response.headers["Location"] == "/console/password"

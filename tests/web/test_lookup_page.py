"""The buyer's look-up page (/lookup): a stateless GET form, in both languages, with the same answers
and limits as the API route, linked from the merchant sign-in page."""

from __future__ import annotations

import html
from urllib.parse import urlencode

from tests.api.conftest import body_of, post_json
from tests.api.test_invoices import B2C_CARRIER
from tests.api.test_rate_limits import containers, from_ip, scale  # noqa: F401 - fixtures
from tests.api.test_sign_in_limits import random_ip
from tests.web.conftest import Console, error_text, text_of

BUYER = {"ubn": None, "name": "王大明", "email": "wang@example.com"}


def _issue(client, issuer, **extra):
    response = post_json(client, "/v1/invoices", {**B2C_CARRIER, "buyer": BUYER, **extra}, issuer.headers)
    assert response.status_code == 201, response.body
    return body_of(response)


def _page(console: Console, **query: str):
    return console.get(f"/lookup?{urlencode(query)}")


def _set_cookies(response) -> list[str]:
    raw = next((v for k, v in response.headers.items() if k.lower() == "set-cookie"), None)
    return raw if isinstance(raw, list) else ([raw] if raw else [])


def test_the_form_sets_no_cookie_and_has_no_csrf_token(console):
    response = console.get("/lookup")
    assert response.status_code == 200
    page = text_of(response)
    assert 'method="get"' in page and "csrf_token" not in page
    assert 'for="f-random_number"' in page and 'for="f-order_id"' in page
    assert _set_cookies(response) == []


def test_the_page_speaks_english_on_request(console):
    page = text_of(console.get("/lookup?lang=en"))
    assert "Look up your invoice" in page and "Random number (4 digits)" in page
    assert '<html lang="en">' in page


def test_the_sign_in_page_links_to_it(console):
    page = text_of(console.get("/login"))
    assert 'href="/lookup"' in page


def test_a_wrong_code_shows_the_same_neutral_message_as_no_invoice(client, console, issuer):
    invoice = _issue(client, issuer)
    number, day = invoice["invoice_number"], invoice["invoice_date"]
    wrong = f"{(int(invoice['random_number']) + 1) % 10000:04d}"
    missing = _page(console, invoice_number="IO" + number[2:], random_number=wrong, invoice_date=day)
    refused = _page(console, invoice_number=number, random_number=wrong, invoice_date=day)
    assert missing.status_code == refused.status_code == 404
    assert "查無符合的發票" in text_of(refused)
    assert text_of(missing).replace("IO" + number[2:], number) == text_of(refused)


def test_the_right_code_shows_the_invoice_and_its_proof(client, console, issuer):
    invoice = _issue(client, issuer)
    number = invoice["invoice_number"]
    response = _page(
        console, invoice_number=number, random_number=invoice["random_number"], invoice_date=invoice["invoice_date"]
    )
    assert response.status_code == 200
    page = html.unescape(text_of(response))
    assert f"{number[:2]}-{number[2:]}" in page
    assert invoice["seller"]["name"] in page and issuer.ubn in page
    assert "王*明" in page and "王大明" not in page
    assert "拿鐵咖啡" in page and "NT$ 130" in page
    start = page.index('href="/v1/public/invoices/proof?token=') + len('href="')
    proof = console.get(page[start : page.index('"', start)])
    assert proof.status_code == 302 and proof.headers["Location"]


def test_by_order_on_the_page(client, console, issuer):
    _issue(client, issuer, order_id="WEB-0001")
    found = _page(console, by="order", seller_ubn=issuer.ubn, order_id="WEB-0001", email="WANG@example.com")
    assert found.status_code == 200
    assert "王*明" in html.unescape(text_of(found))
    missing_field = _page(console, by="order", seller_ubn=issuer.ubn, order_id="WEB-0001")
    assert missing_field.status_code == 422
    assert error_text(text_of(missing_field), "f-email") == "請輸入收件電子郵件"


def test_the_page_is_held_to_the_per_invoice_limit(client, console, issuer, containers, scale, from_ip):  # noqa: F811
    invoice = _issue(client, issuer)
    number, day = invoice["invoice_number"], invoice["invoice_date"]
    wrong = f"{(int(invoice['random_number']) + 1) % 10000:04d}"
    scale(1)
    statuses = []
    for _ in range(6):
        from_ip(random_ip())
        statuses.append(_page(console, invoice_number=number, random_number=wrong, invoice_date=day))
    assert [r.status_code for r in statuses] == [404] * 5 + [429]
    assert statuses[5].headers["Retry-After"] == "60"
    assert "60" in text_of(statuses[5])

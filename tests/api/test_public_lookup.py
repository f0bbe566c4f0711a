"""The buyer's public look-up (issue 18, part 4): no sign-in, one invoice for the right pair, the same
answer for every wrong one, limits per client and per invoice, a proof link that expires and ends
with a void and re-issue, and the buyer's mail linking to it."""

from __future__ import annotations

import email
import json
import re
import urllib.request
from datetime import date, timedelta
from urllib.parse import urlencode, urlsplit

import pytest

from chalicelib.api import deps
from tests.api.conftest import body_of, post_json
from tests.api.test_invoices import B2B, B2C_CARRIER, issuer  # noqa: F401 - the fixture is shared
from tests.api.test_rate_limits import _assert_rate_limited, containers, from_ip, scale  # noqa: F401 - fixtures
from tests.api.test_sign_in_limits import MovableClock, random_ip
from tests.outbox_stream import deliver

LOOKUP = "/v1/public/invoices/lookup"
BUYER = {"ubn": None, "name": "陳小明", "email": "Chen.Xiaoming@example.com"}
# The headers whose values belong to one request, not to what was asked.
_PER_REQUEST = {"x-request-id", "ratelimit-remaining", "ratelimit-reset"}


def _issue(client, issuer, payload=None, **extra):  # noqa: F811
    body = {**(payload or {**B2C_CARRIER, "buyer": BUYER}), **extra}
    response = post_json(client, "/v1/invoices", body, issuer.headers)
    assert response.status_code == 201, response.body
    return body_of(response)


def _by_number(client, number, random_number, day, headers=None):
    query = urlencode({"invoice_number": number, "random_number": random_number, "invoice_date": day})
    return client.http.get(f"{LOOKUP}?{query}", headers=headers or {})


def _by_order(client, seller_ubn, order_id, address):
    query = urlencode({"seller_ubn": seller_ubn, "order_id": order_id, "email": address})
    return client.http.get(f"{LOOKUP}?{query}")


def _unused_number(invoice) -> str:
    """A number in no track range: its track letters are never allocated by the tests (I, O)."""
    return "IO" + invoice["invoice_number"][2:]


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10000:04d}"


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - moto on loopback
        return response.read()


def test_the_right_pair_shows_the_main_data_and_the_buyer_masked(client, issuer):  # noqa: F811
    invoice = _issue(client, issuer)
    number = invoice["invoice_number"]
    response = _by_number(client, number, invoice["random_number"], invoice["invoice_date"])
    assert response.status_code == 200, response.body
    shown = body_of(response)
    assert shown["invoice_number"] == f"{number[:2]}-{number[2:]}"
    assert (shown["invoice_date"], shown["invoice_time"]) == (invoice["invoice_date"], invoice["invoice_time"])
    assert shown["seller"]["ubn"] == issuer.ubn and shown["seller"]["name"] == invoice["seller"]["name"]
    assert shown["status"] == "issued" and shown["reissued"] is False
    assert shown["amounts"]["total_amount"] == 130  # 2 × NT$65, tax included
    assert [(i["description"], i["quantity"], i["amount"]) for i in shown["items"]] == [("拿鐵咖啡", "2", "130")]
    # The buyer as the value-added centers' links show them: never in full.
    assert shown["buyer"]["name"] == "陳*明"
    assert shown["buyer"]["email"] == "Ch***@example.com"
    assert shown["carrier"] == {"type": "3J0002", "id": "/A*****3"}
    assert "Xiaoming" not in response.body.decode() and "/ABC+123" not in response.body.decode()
    assert "random_number" not in shown


def test_the_number_may_be_typed_as_printed(client, issuer):  # noqa: F811
    invoice = _issue(client, issuer)
    number = invoice["invoice_number"]
    printed = f"{number[:2].lower()}-{number[2:]}"
    response = _by_number(client, printed, invoice["random_number"], invoice["invoice_date"])
    assert response.status_code == 200, response.body


def _same_answer(first, second) -> None:
    assert first.status_code == second.status_code == 404
    assert first.body == second.body
    assert {k.lower() for k in first.headers} == {k.lower() for k in second.headers}
    for name, value in first.headers.items():
        if name.lower() not in _PER_REQUEST:
            assert second.headers[name] == value, name


def test_a_wrong_code_or_date_tells_nothing_a_missing_invoice_does_not(client, issuer):  # noqa: F811
    invoice = _issue(client, issuer)
    number, code, day = invoice["invoice_number"], invoice["random_number"], invoice["invoice_date"]
    missing = _by_number(client, _unused_number(invoice), code, day)
    error = body_of(missing)["error"]
    assert error["code"] == "INVOICE_NOT_FOUND" and error["field"] is None
    assert error["message"] and error["message_zh"]
    _same_answer(missing, _by_number(client, number, _wrong(code), day))
    other_day = date.fromisoformat(day) + timedelta(days=1)
    _same_answer(missing, _by_number(client, number, code, other_day.isoformat()))


def test_the_order_id_needs_its_seller_and_the_address_it_was_sent_to(client, issuer, new_merchant, staff_headers):  # noqa: F811
    from tests.api.test_invoices import make_issuer

    other = make_issuer(client, staff_headers, new_merchant)
    mine = _issue(client, issuer, order_id="SO-2026-0001")
    theirs = _issue(client, other, order_id="SO-2026-0001")  # order ids are unique per seller only

    found = _by_order(client, issuer.ubn, "SO-2026-0001", "  chen.xiaoming@EXAMPLE.com ")
    assert found.status_code == 200, found.body
    assert body_of(found)["invoice_number"].replace("-", "") == mine["invoice_number"]
    found = _by_order(client, other.ubn, "SO-2026-0001", BUYER["email"])
    assert body_of(found)["invoice_number"].replace("-", "") == theirs["invoice_number"]

    missing = _by_order(client, issuer.ubn, "SO-NOT-THERE", BUYER["email"])
    assert body_of(missing)["error"]["code"] == "INVOICE_NOT_FOUND"
    _same_answer(missing, _by_order(client, issuer.ubn, "SO-2026-0001", "someone.else@example.com"))


def test_an_invoice_never_mailed_is_not_found_by_order(client, issuer):  # noqa: F811
    body = {**B2C_CARRIER, "buyer": {"ubn": None, "name": "消費者"}, "order_id": "SO-NO-MAIL"}
    assert post_json(client, "/v1/invoices", body, issuer.headers).status_code == 201
    missing = _by_order(client, issuer.ubn, "SO-NOT-THERE", "a@example.com")
    _same_answer(missing, _by_order(client, issuer.ubn, "SO-NO-MAIL", "a@example.com"))


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"invoice_number": "AB12345678", "invoice_date": "2026-01-01"}, "random_number"),
        ({"invoice_number": "AB12345678", "random_number": "123", "invoice_date": "2026-01-01"}, "random_number"),
        ({"invoice_number": "AB1234567", "random_number": "1234", "invoice_date": "2026-01-01"}, "invoice_number"),
        ({"invoice_number": "AB12345678", "random_number": "1234", "invoice_date": "2026-02-30"}, "invoice_date"),
        ({"seller_ubn": "12345675", "order_id": "SO-1"}, "email"),
        ({}, "invoice_number"),
    ],
)
def test_bad_input_names_the_field_in_both_languages(client, query, field):
    response = client.http.get(f"{LOOKUP}?{urlencode(query)}")
    assert response.status_code == 400, response.body
    error = body_of(response)["error"]
    assert error["field"] == field
    assert error["message"] and re.search(r"[\u4e00-\u9fff]", error["message_zh"])


def test_a_cancelled_invoice_shows_as_cancelled(client, issuer):  # noqa: F811
    invoice = _issue(client, issuer)
    number = invoice["invoice_number"]
    cancelled = post_json(client, f"/v1/invoices/{number}/cancel", {"reason": "買受人要求退貨"}, issuer.headers)
    assert cancelled.status_code == 200, cancelled.body
    shown = body_of(_by_number(client, number, invoice["random_number"], invoice["invoice_date"]))
    assert shown["status"] == "cancelled"
    assert shown["cancelled_at"]


def test_the_proof_downloads_once_looked_up(client, issuer):  # noqa: F811
    invoice = _issue(client, issuer)
    shown = body_of(_by_number(client, invoice["invoice_number"], invoice["random_number"], invoice["invoice_date"]))
    assert shown["proof_url"].startswith("/v1/public/invoices/proof?token=")
    assert invoice["random_number"] not in shown["proof_url"].split("token=", 1)[1].split(".")[0]
    link = client.http.get(shown["proof_url"])
    assert link.status_code == 302, link.body
    assert link.headers["Cache-Control"] == "no-store"
    pdf = _fetch(link.headers["Location"])
    assert pdf.startswith(b"%PDF")


def test_a_proof_link_cannot_be_made_up_or_kept(client, issuer, monkeypatch):  # noqa: F811
    invoice = _issue(client, issuer)
    number = invoice["invoice_number"]
    token = body_of(_by_number(client, number, invoice["random_number"], invoice["invoice_date"]))["proof_url"]
    token = token.split("token=", 1)[1]
    _, expires, mac = token.split(".")
    forged = [
        f"{_unused_number(invoice)}.{expires}.{mac}",  # another invoice under the same signature
        f"{number}.{int(expires) + 86400}.{mac}",  # a later expiry
        f"{number}.{expires}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}",
        "not-a-token",
    ]
    for candidate in forged:
        response = client.http.get(f"/v1/public/invoices/proof?{urlencode({'token': candidate})}")
        assert response.status_code == 404, candidate
        assert body_of(response)["error"]["code"] == "LOOKUP_LINK_INVALID"

    later = MovableClock()
    later.advance(seconds=11 * 60)  # the link works for 10 minutes
    monkeypatch.setattr(deps, "clock", later)
    response = client.http.get(f"/v1/public/invoices/proof?{urlencode({'token': token})}")
    assert response.status_code == 404
    assert body_of(response)["error"]["code"] == "LOOKUP_LINK_INVALID"


def test_a_void_and_reissue_shows_the_current_version_only(client, issuer):  # noqa: F811
    invoice = _issue(client, issuer)
    number, old_code, day = invoice["invoice_number"], invoice["random_number"], invoice["invoice_date"]
    old_link = body_of(_by_number(client, number, old_code, day))["proof_url"]
    voided = post_json(
        client,
        f"/v1/invoices/{number}/void",
        {"reason": "載具錯誤", "replacement": {"carrier": {"type": "3J0002", "id": "/XYZ+789"}}},
        issuer.headers,
    )
    assert voided.status_code == 200, voided.body
    new_code = body_of(voided)["random_number"]

    assert _by_number(client, number, old_code, day).status_code == 404  # the voided version's code
    assert client.http.get(old_link).status_code == 404  # and its proof link
    shown = body_of(_by_number(client, number, new_code, day))
    assert shown["reissued"] is True and shown["status"] == "issued"
    assert shown["carrier"]["id"] == "/X*****9"
    assert client.http.get(shown["proof_url"]).status_code == 302


def test_only_that_invoice_is_shown_never_the_sellers_others(client, issuer):  # noqa: F811
    first = _issue(client, issuer)
    second = _issue(client, issuer, B2B)
    shown = _by_number(client, first["invoice_number"], first["random_number"], first["invoice_date"]).body.decode()
    assert second["invoice_number"][2:] not in shown and "台灣積體電路" not in shown


# --- rate limits ------------------------------------------------------------------------------------


def test_guessing_one_invoices_code_is_throttled_across_clients(client, issuer, containers, scale, from_ip):  # noqa: F811
    invoice = _issue(client, issuer)
    number, code, day = invoice["invoice_number"], invoice["random_number"], invoice["invoice_date"]
    scale(1)  # the limits every stage runs: lookup-invoice 5 at once, then one a minute
    answers = []
    for attempt in range(6):
        from_ip(random_ip())  # a new address each try: the limit counts the invoice, whoever asks
        answers.append(_by_number(client, number, _wrong(code) if attempt < 5 else code, day))
    assert [a.status_code for a in answers] == [404] * 5 + [429]
    _assert_rate_limited(answers[5], retry_after=60)
    assert answers[5].headers["RateLimit-Policy"] == '"lookup-invoice";burst=5;per-minute=1'

    # Other invoices are not held back by it.
    other = _issue(client, issuer)
    from_ip(random_ip())
    assert _by_number(client, other["invoice_number"], other["random_number"], other["invoice_date"]).status_code == 200

    containers.clock.advance(seconds=60)  # one more try a minute
    assert _by_number(client, number, code, day).status_code == 200


def test_one_client_is_throttled_across_invoices(client, issuer, containers, scale, from_ip):  # noqa: F811
    invoice = _issue(client, issuer)
    from_ip(random_ip())
    scale(1)  # lookup-ip: 10 at once, then 10 a minute
    numbers = [f"IO{int(invoice['invoice_number'][2:]) + i:08d}" for i in range(11)]
    answers = [_by_number(client, n, "1234", invoice["invoice_date"]) for n in numbers]
    assert [a.status_code for a in answers] == [404] * 10 + [429]
    _assert_rate_limited(answers[10], retry_after=6)
    assert answers[10].headers["RateLimit-Policy"] == '"lookup-ip";burst=10;per-minute=10'


# --- the buyer's mail --------------------------------------------------------------------------------


def _mails_to(local_aws, address: str) -> list[email.message.Message]:
    with urllib.request.urlopen(f"{local_aws.moto.endpoint}/moto-api/data.json", timeout=5) as response:  # noqa: S310
        state = json.loads(response.read())
    raw = [m for m in state["ses"]["RawMessage"] if address in (m.get("destinations") or [])]
    return [email.message_from_string(m["raw_data"]) for m in raw]


def test_the_buyer_mail_links_to_the_look_up_page(client, local_aws, issuer):  # noqa: F811
    client.http.patch(
        "/v1/merchant",
        headers={"Content-Type": "application/json", **issuer.headers},
        body=json.dumps({"settings": {"email_buyer": True}}),
    )
    address = f"lookup-{issuer.ubn}@example.com"
    body = {**B2C_CARRIER, "buyer": {"ubn": None, "name": "林小姐", "email": address}}
    invoice = body_of(post_json(client, "/v1/invoices", body, issuer.headers))
    deliver(client, issuer.ubn, invoice["invoice_number"], "issued")
    [mail] = _mails_to(local_aws, address)
    text = next(p for p in mail.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    links = re.findall(r"https?://\S+/lookup\?\S+", text)
    assert len(links) == 2  # in the Chinese and the English part
    page = client.http.get(urlsplit(links[0]).path + "?" + urlsplit(links[0]).query)
    assert page.status_code == 200
    assert f"{invoice['invoice_number'][:2]}-{invoice['invoice_number'][2:]}" in page.body.decode()

"""Received invoices, pending invoices and MIG upload in the console, over Chalice's test client."""

from __future__ import annotations

import re
import secrets

import pytest

from chalicelib.web import inbox_pages
from tests.api.conftest import body_of, post_json
from tests.api.test_invoices import B2B
from tests.api.test_mig_intake import _xml
from tests.web.conftest import Console, console_of, error_of, text_of

FIRST_PENDING = {
    "order_id": "",
    "channel": "api",
    "buyer.ubn": "",
    "buyer.name": "",
    "buyer.email": "",
    "carrier.type": "3J0002",
    "carrier.id": "/ABC+123",
    "donation_code": "",
    "print": "",
    "prices_include_tax": "1",
    "items[0].description": "拿鐵咖啡",
    "items[0].quantity": "2",
    "items[0].unit": "杯",
    "items[0].unit_price": "65",
    "items[0].tax_type": "1",
}


def _issue_to(client, issuer, buyer_ubn: str, unit_price: str = "1380", description: str = "顧問服務") -> dict:
    payload = {
        **B2B,
        "buyer": {"ubn": buyer_ubn, "name": "買方公司"},
        "items": [{"description": description, "quantity": "1", "unit_price": unit_price, "tax_type": "1"}],
    }
    response = post_json(client, "/v1/invoices", payload, issuer.headers)
    assert response.status_code == 201, response.body
    return body_of(response)


# --- sign-in ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/console/received",
        "/console/received/12345675/AB12345678",
        "/console/received/12345675/AB12345678/xml",
        "/console/received/12345675/AB12345678/pdf",
        "/console/pending",
        "/console/pending/new",
        "/console/pending/pnd_000000000000000000000000",
        "/console/mig",
    ],
)
def test_every_page_needs_a_signed_in_merchant(console: Console, path: str) -> None:
    response = console.get(path)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/login?next={path}"


@pytest.mark.parametrize(
    "path",
    [
        "/console/pending/new",
        "/console/pending/pnd_000000000000000000000000/issue",
        "/console/pending/pnd_000000000000000000000000/delete",
        "/console/mig",
    ],
)
def test_every_change_needs_a_signed_in_merchant(console: Console, path: str) -> None:
    response = console.post(path, {})
    assert response.status_code == 303 and response.headers["Location"] == "/login"


def test_a_change_without_the_csrf_token_changes_nothing(client, issuer) -> None:
    browser = console_of(client, issuer.ubn)
    pending_id = _hold(browser, f"SO-{secrets.token_hex(3)}")
    for path in (f"/console/pending/{pending_id}/issue", f"/console/pending/{pending_id}/delete"):
        assert browser.post(path, {}, csrf=False).status_code == 403
    assert browser.post("/console/pending/new", {**FIRST_PENDING, "order_id": "SO-CSRF"}, csrf=False).status_code == 403
    assert browser.post("/console/mig", {"message_type": "F0401", "xml": "<Invoice/>"}, csrf=False).status_code == 403
    assert "待付款開立" in text_of(browser.get(f"/console/pending/{pending_id}"))
    assert "SO-CSRF" not in text_of(browser.get("/console/pending"))


# --- received invoices (進項) ---------------------------------------------------------------------


def test_an_invoice_another_merchant_issued_to_me_is_listed_shown_and_downloadable(client, signed_in, issuer) -> None:
    browser, me = signed_in()
    invoice = _issue_to(client, issuer, me.ubn)
    number = invoice["invoice_number"]

    listed = browser.get("/console/received")
    assert listed.status_code == 200
    page = text_of(listed)
    assert number in page and issuer.ubn in page and "1,380" in page
    assert f'href="/console/received/{issuer.ubn}/{number}"' in page

    detail = browser.get(f"/console/received/{issuer.ubn}/{number}")
    assert detail.status_code == 200
    shown = text_of(detail)
    # 1,380 tax included on a B2B invoice: 1,314 before tax and 66 of tax (1,380 / 1.05, rounded).
    assert "顧問服務" in shown and "1,314" in shown and ">66<" in shown and "1,380" in shown

    xml = browser.get(f"/console/received/{issuer.ubn}/{number}/xml")
    assert xml.status_code == 200 and xml.headers["Content-Type"].startswith("application/xml")
    assert "attachment" in xml.headers["Content-Disposition"]
    document = text_of(xml)
    assert f"<InvoiceNumber>{number[2:]}</InvoiceNumber>" in document or number in document
    assert me.ubn in document

    pdf = browser.get(f"/console/received/{issuer.ubn}/{number}/pdf?layout=a4")
    assert pdf.status_code == 303 and pdf.headers["Location"].startswith("http")


def test_someone_elses_received_invoice_is_not_found(client, signed_in, issuer) -> None:
    _, buyer = signed_in()
    invoice = _issue_to(client, issuer, buyer.ubn)
    stranger, _ = signed_in()
    base = f"/console/received/{issuer.ubn}/{invoice['invoice_number']}"
    for path in (base, base + "/xml", base + "/pdf"):
        assert stranger.get(path).status_code == 404, path
    assert invoice["invoice_number"] not in text_of(stranger.get("/console/received"))
    # The seller issued it; under 進項 it is not the seller's purchase.
    assert console_of(client, issuer.ubn).get(base).status_code == 404
    assert stranger.get("/console/received/not-a-ubn/AB12345678").status_code == 404


def test_filters_narrow_the_list_and_pages_follow_on(client, signed_in, issuer, monkeypatch) -> None:
    browser, me = signed_in()
    small = _issue_to(client, issuer, me.ubn, "105", "小額耗材")["invoice_number"]
    large = _issue_to(client, issuer, me.ubn, "21000", "伺服器")["invoice_number"]

    over_1000 = text_of(browser.get("/console/received?min_total=1000"))
    assert large in over_1000 and small not in over_1000
    other_seller = text_of(browser.get("/console/received?seller_ubn=22099131"))
    assert large not in other_seller and small not in other_seller

    monkeypatch.setattr(inbox_pages, "RECEIVED_PAGE_SIZE", 1)
    first = text_of(browser.get("/console/received"))
    assert large in first and small not in first  # newest first
    following = re.search(r'href="(/console/received\?cursor=[^"]+)" rel="next"', first)
    assert following
    second = text_of(browser.get(following.group(1).replace("&amp;", "&")))
    assert small in second and large not in second


def test_bad_filters_are_explained_next_to_their_field(signed_in) -> None:
    browser, _ = signed_in()
    response = browser.get("/console/received?seller_ubn=1234")
    assert response.status_code == 422
    assert error_of(response, "f-seller_ubn")
    odd_month = browser.get("/console/received?period=11411")
    assert odd_month.status_code == 422 and error_of(odd_month, "f-period")
    reversed_dates = browser.get("/console/received?date_from=2025-03-01&date_to=2025-01-01")
    # Reversed dates are told on the start date, saying what is wrong (issue 15 item 11).
    assert reversed_dates.status_code == 422 and "不可晚於" in error_of(reversed_dates, "f-date_from")
    forged = browser.get("/console/received?cursor=not-a-cursor")
    assert forged.status_code == 422 and "分頁游標無效" in text_of(forged)


def test_the_received_pages_speak_english(client, signed_in, issuer) -> None:
    browser, me = signed_in()
    number = _issue_to(client, issuer, me.ubn)["invoice_number"]
    listed = text_of(browser.get("/console/received?lang=en"))
    assert "Received invoices" in listed and "Seller UBN" in listed and "進項發票" not in listed
    detail = text_of(browser.get(f"/console/received/{issuer.ubn}/{number}"))
    assert "Proof of invoice (PDF)" in detail and "deductible input tax" in detail


# --- pending invoices (待開立發票) ------------------------------------------------------------------


def _hold(browser: Console, order_id: str, **changes: str) -> str:
    response = browser.post("/console/pending/new", {**FIRST_PENDING, "order_id": order_id, **changes})
    assert response.status_code == 303, text_of(response)
    location = response.headers["Location"]
    match = re.fullmatch(r"/console/pending/(pnd_[0-9a-f]{24})\?done=created", location)
    assert match, location
    return match.group(1)


def test_a_pending_invoice_is_held_then_issued_by_hand(client, issuer) -> None:
    browser = console_of(client, issuer.ubn)
    assert "訂單編號" in text_of(browser.get("/console/pending/new"))
    order = f"SO-{secrets.token_hex(3)}"
    pending_id = _hold(browser, order)

    detail = text_of(browser.get(f"/console/pending/{pending_id}?done=created"))
    assert "待付款開立" in detail and order in detail and "130" in detail
    listed = text_of(browser.get("/console/pending"))
    assert order in listed and f"/console/pending/{pending_id}" in listed
    found = body_of(client.http.get(f"/v1/invoices?order_id={order}", headers=issuer.headers))
    assert found["items"] == []  # held: no number taken

    issued = browser.post(f"/console/pending/{pending_id}/issue", {})
    assert issued.status_code == 303 and issued.headers["Location"] == f"/console/pending/{pending_id}?done=issued"
    found = body_of(client.http.get(f"/v1/invoices?order_id={order}", headers=issuer.headers))["items"]
    assert len(found) == 1 and found[0]["amounts"]["total_amount"] == 130
    number = found[0]["invoice_number"]
    after = text_of(browser.get(f"/console/pending/{pending_id}"))
    assert f'href="/console/invoices/{number}"' in after and "立即開立發票" not in after
    assert number in text_of(browser.get("/console/pending?status=issued"))
    assert order not in text_of(browser.get("/console/pending?status=pending"))

    # Issued: it can no longer be deleted, and the page says why.
    refused = browser.post(f"/console/pending/{pending_id}/delete", {})
    assert refused.status_code == 409 and "已開立" in text_of(refused)
    # Issuing again answers the same invoice.
    assert browser.post(f"/console/pending/{pending_id}/issue", {}).status_code == 303
    assert len(body_of(client.http.get(f"/v1/invoices?order_id={order}", headers=issuer.headers))["items"]) == 1


def test_a_pending_invoice_can_be_dropped_and_is_then_gone(client, issuer) -> None:
    browser = console_of(client, issuer.ubn)
    order = f"SO-{secrets.token_hex(3)}"
    pending_id = _hold(browser, order)
    dropped = browser.post(f"/console/pending/{pending_id}/delete", {})
    assert dropped.status_code == 303 and dropped.headers["Location"] == "/console/pending?done=deleted"
    assert browser.get(f"/console/pending/{pending_id}").status_code == 404
    assert order not in text_of(browser.get("/console/pending"))
    assert "查無此訂單" in text_of(browser.get(f"/console/pending?order_id={order}"))


def test_the_form_shows_each_problem_next_to_its_input(client, issuer) -> None:
    browser = console_of(client, issuer.ubn)
    too_long = browser.post("/console/pending/new", {**FIRST_PENDING, "order_id": "X" * 21})
    assert too_long.status_code == 422 and error_of(too_long, "f-order_id")
    bad_ubn = browser.post("/console/pending/new", {**FIRST_PENDING, "order_id": "SO-1", "buyer.ubn": "12345678"})
    assert bad_ubn.status_code == 422 and error_of(bad_ubn, "f-buyer-ubn")
    # The first row left empty, the second wrong: the error is under the second row's quantity.
    second_row = {k.replace("items[0]", "items[1]"): v for k, v in FIRST_PENDING.items()}
    shifted = browser.post(
        "/console/pending/new", {**second_row, "order_id": "SO-2", "items[1].quantity": "-1", "items[0].tax_type": "1"}
    )
    assert shifted.status_code == 422 and error_of(shifted, "f-items-1-quantity")
    assert 'value="SO-2"' in text_of(shifted)  # what was typed stays
    nothing = browser.post("/console/pending/new", {**FIRST_PENDING, "order_id": "SO-3", "items[0].description": ""})
    assert nothing.status_code == 422
    no_items = {k: v for k, v in FIRST_PENDING.items() if not k.startswith("items[")}
    empty = browser.post("/console/pending/new", {**no_items, "order_id": "SO-4"})
    assert empty.status_code == 422 and error_of(empty, "f-items-0-description")
    english = browser.post("/console/pending/new?lang=en", {**FIRST_PENDING, "order_id": "X" * 21})
    assert "Order ID" in text_of(english) and "訂單編號" not in text_of(english)


def test_another_merchants_pending_invoice_is_not_found(client, issuer, signed_in) -> None:
    owner = console_of(client, issuer.ubn)
    pending_id = _hold(owner, f"SO-{secrets.token_hex(3)}")
    stranger, _ = signed_in()
    assert stranger.get(f"/console/pending/{pending_id}").status_code == 404
    assert stranger.post(f"/console/pending/{pending_id}/issue", {}).status_code == 404
    assert stranger.post(f"/console/pending/{pending_id}/delete", {}).status_code == 404
    assert stranger.get("/console/pending/garbage").status_code == 404
    assert pending_id not in text_of(stranger.get("/console/pending"))
    assert "待付款開立" in text_of(owner.get(f"/console/pending/{pending_id}"))  # untouched


# --- MIG XML upload ---------------------------------------------------------------------------------


def test_an_uploaded_f0401_is_accepted_with_a_link_to_the_invoice(client, issuer) -> None:
    browser = console_of(client, issuer.ubn)
    assert "MIG XML 檔案" in text_of(browser.get("/console/mig"))
    number = f"{issuer.track}{issuer.begin:08d}"  # the online channel's next number
    document = _xml(issuer.ubn, number)
    uploaded = browser.post_multipart(
        "/console/mig", {"message_type": "F0401", "xml": ""}, {"document": ("a.xml", document, "application/xml")}
    )
    assert uploaded.status_code == 200, text_of(uploaded)
    page = text_of(uploaded)
    assert "已接受" in page and f'href="/console/invoices/{number}"' in page and "a.xml" in page
    invoice = body_of(client.http.get(f"/v1/invoices/{number}", headers=issuer.headers))
    assert invoice["amounts"]["total_amount"] == 130
    # Pasted instead of a file: the same message again answers the same invoice.
    pasted = browser.post("/console/mig", {"message_type": "F0401", "xml": document.decode()})
    assert pasted.status_code == 200 and "已接受" in text_of(pasted) and number in text_of(pasted)


def test_a_refused_message_names_the_element_and_why_in_the_readers_language(client, issuer) -> None:
    browser = console_of(client, issuer.ubn)
    number = f"{issuer.track}{issuer.begin:08d}"
    wrong_total = _xml(issuer.ubn, number, total=131).decode()
    refused = browser.post("/console/mig", {"message_type": "F0401", "xml": wrong_total})
    assert refused.status_code == 422
    page = text_of(refused)
    assert "已退回" in page and "<code>Amount.TotalAmount</code>" in page
    assert f'href="/console/invoices/{number}"' not in page  # nothing was issued
    broken = browser.post("/console/mig", {"message_type": "F0401", "xml": "<Invoice><Main>"})
    assert broken.status_code == 422 and "已退回" in text_of(broken) and "MIG_" in text_of(broken)
    wrong_type = browser.post("/console/mig", {"message_type": "F0501", "xml": wrong_total})
    assert wrong_type.status_code == 422 and "已退回" in text_of(wrong_type)
    english = text_of(browser.post("/console/mig?lang=en", {"message_type": "F0401", "xml": wrong_total}))
    assert "Refused" in english and "Amount.TotalAmount" in english
    reason = re.search(r'<span class="reason">([^<]+)</span>', english)
    assert reason and re.search(r"[A-Za-z]", reason.group(1)) and not re.search(r"[\u4e00-\u9fff]", reason.group(1))


def test_the_upload_form_says_what_is_missing(client, issuer) -> None:
    browser = console_of(client, issuer.ubn)
    nothing = browser.post("/console/mig", {"message_type": "F0401", "xml": "  "})
    assert nothing.status_code == 422 and error_of(nothing, "f-document")
    no_type = browser.post("/console/mig", {"message_type": "X0401", "xml": "<Invoice/>"})
    assert no_type.status_code == 422 and error_of(no_type, "f-message_type")
    english = browser.post("/console/mig?lang=en", {"message_type": "F0401", "xml": ""})
    assert "Choose an XML file or paste the XML" in text_of(english) and "Message type" in text_of(english)

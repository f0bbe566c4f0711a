"""交換發票 in the console: the receiving-method setting, issuing for exchange from the issue form,
the to-do list of each side, one exchange with its answers (htmx and plain forms), its XML."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from chalicelib.documents.mig.schema import check_message
from tests.api.conftest import body_of
from tests.api.test_exchange import issue, receives_by
from tests.web.conftest import Console, console_of, error_text, text_of
from tests.web.test_issue_pages import b2b_form, form_key, issued_number

HTMX = {"HX-Request": "true"}


@pytest.fixture
def buyer(client, new_merchant):
    merchant = new_merchant()
    assert receives_by(client, merchant, "exchange").status_code == 200
    return merchant


def _page(browser: Console, path: str) -> str:
    response = browser.get(path)
    assert response.status_code == 200, (path, response.status_code, text_of(response)[:300])
    return html.unescape(text_of(response))


def _buttons(page: str) -> list[str]:
    return [html.unescape(b).strip() for b in re.findall(r'<button type="submit" class="[^"]*">([^<]+)</button>', page)]


def test_the_receiving_method_is_chosen_in_the_settings(client, signed_in):
    browser, merchant = signed_in()
    page = _page(browser, "/console/settings/receiving")
    assert 'id="f-receiving-storage" name="settings.receiving_method" value="storage" checked' in page
    saved = browser.post("/console/settings/receiving", {"settings.receiving_method": "exchange"})
    assert saved.status_code == 303 and saved.headers["Location"] == "/console/settings/receiving?done=saved"
    assert body_of(client.http.get("/v1/merchant", headers=merchant.headers))["settings"]["receiving_method"] == (
        "exchange"
    )
    assert "交換（於待辦事項確認或退回）" in _page(browser, "/console/settings")
    refused = browser.post("/console/settings/receiving", {"settings.receiving_method": "fax"})
    assert refused.status_code == 422
    assert "storage" in html.unescape(text_of(refused))
    english = _page(browser, "/console/settings/receiving?lang=en")
    assert "Exchange: confirm (A0102) or reject (A0301)" in english


def test_the_seller_issues_for_exchange_from_the_issue_form(client, issuer, seller, buyer):
    page = _page(seller, "/console/issue")
    assert '<label class="radio" for="f-exchange">' in page
    # The buyer look-up says this buyer receives by exchange.
    note = _page(seller, f"/console/issue/buyer?buyer.ubn={buyer.ubn}&buyer.name=&buyer_name_source=")
    assert "此買方的接收方式為「交換」" in note

    number = issued_number(seller.post("/console/issue", b2b_form(form_key(seller), buyer.ubn, exchange=["0", "1"])))
    detail = _page(seller, f"/console/invoices/{number}")
    assert "下載 XML（A0101）" in detail and f"/console/exchange/{issuer.ubn}-{number}" in detail
    assert f"/console/invoices/{number}/cancel" not in detail  # a storage cancel is not for it
    xml = seller.get(f"/console/invoices/{number}/xml")
    assert f'filename="{number}-A0101.xml"' in xml.headers["Content-Disposition"]
    check_message("A0101", xml.body)

    # To a buyer that receives by storage the form says why, next to the checkbox.
    storage = receives_by(client, buyer, "storage")
    assert storage.status_code == 200
    refused = seller.post("/console/issue", b2b_form(form_key(seller), buyer.ubn, exchange=["0", "1"]))
    assert refused.status_code == 422
    assert "存證" in error_text(html.unescape(text_of(refused)), "f-exchange")


def test_the_buyer_rejects_and_the_seller_confirms_the_rejection(client, issuer, seller, buyer):
    invoice = issue(client, issuer, buyer.ubn)
    ident = f"{issuer.ubn}-{invoice['invoice_number']}"
    mine = console_of(client, buyer.ubn)

    todo = _page(mine, "/console/exchange")
    assert invoice["invoice_number"] in todo and "待您處理" in todo and "待買方確認" in todo
    assert f"/console/exchange/{ident}" in todo
    assert invoice["invoice_number"] not in _page(mine, "/console/exchange?tab=sent")
    assert invoice["invoice_number"] in _page(seller, "/console/exchange?tab=sent")

    detail = _page(mine, f"/console/exchange/{ident}")
    assert _buttons(detail) == ["確認收受", "退回"]
    assert 'for="f-reject-reason"' in detail and f'hx-post="/console/exchange/{ident}/reject"' in detail

    # htmx: a reject without a reason comes back as the panel with the error under the field.
    missing = mine.post(f"/console/exchange/{ident}/reject", {"reason": ""}, headers=HTMX)
    assert missing.status_code == 422
    panel = html.unescape(text_of(missing))
    assert panel.startswith('<div id="exchange-panel">') or '<div id="exchange-panel">' in panel[:400]
    assert error_text(panel, "f-reject-reason")

    done = mine.post(f"/console/exchange/{ident}/reject", {"reason": "單價錯誤"}, headers=HTMX)
    assert done.status_code == 200
    answered = html.unescape(text_of(done))
    assert "已退回此發票（A0301）" in answered and "單價錯誤" in answered and _buttons(answered) == []

    seller_page = _page(seller, f"/console/exchange/{ident}")
    assert _buttons(seller_page) == ["確認退回"]
    plain = seller.post(f"/console/exchange/{ident}/confirm-reject", {})
    assert plain.status_code == 303 and plain.headers["Location"] == f"/console/exchange/{ident}?done=confirm-reject"
    settled = _page(seller, plain.headers["Location"])
    assert "已確認買方退回（A0302）" in settled and "退回已確認" in settled
    for message_type in ("A0101", "A0301", "A0302"):
        assert f"/console/exchange/{ident}/messages/{message_type}" in settled
        download = seller.get(f"/console/exchange/{ident}/messages/{message_type}")
        assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
        check_message(message_type, download.body)
    assert "沒有待確認的交換發票" in _page(mine, "/console/exchange")


def test_a_cancel_is_asked_by_the_seller_and_confirmed_by_the_buyer(client, issuer, seller, buyer):
    invoice = issue(client, issuer, buyer.ubn)
    ident = f"{issuer.ubn}-{invoice['invoice_number']}"
    mine = console_of(client, buyer.ubn)
    assert mine.post(f"/console/exchange/{ident}/confirm", {}).status_code == 303

    assert _buttons(_page(seller, f"/console/exchange/{ident}")) == ["作廢"]
    asked = seller.post(f"/console/exchange/{ident}/cancel", {"reason": "訂單取消", "return_tax_document_number": ""})
    assert asked.status_code == 303
    assert "作廢待買方確認" in _page(mine, "/console/exchange")
    confirmed = mine.post(f"/console/exchange/{ident}/confirm-cancel", {}, headers=HTMX)
    assert "已確認作廢（A0202）" in html.unescape(text_of(confirmed))
    history = _page(seller, f"/console/invoices/{invoice['invoice_number']}")
    assert "買方確認作廢（A0202）" in history and "已作廢" in history


def test_another_merchant_finds_nothing(client, issuer, buyer, signed_in):
    invoice = issue(client, issuer, buyer.ubn)
    ident = f"{issuer.ubn}-{invoice['invoice_number']}"
    stranger, _ = signed_in()
    for path in (f"/console/exchange/{ident}", f"/console/exchange/{ident}/messages/A0101"):
        assert stranger.get(path).status_code == 404, path
    for action, form in (("confirm", {}), ("reject", {"reason": "x"}), ("cancel", {"reason": "x"})):
        assert stranger.post(f"/console/exchange/{ident}/{action}", form).status_code == 404, action
    assert stranger.post(f"/console/exchange/{ident}/approve", {}).status_code == 404
    assert invoice["invoice_number"] not in _page(stranger, "/console/exchange")


def test_the_to_do_list_in_english(client, issuer, buyer):
    issue(client, issuer, buyer.ubn)
    page: Any = _page(console_of(client, buyer.ubn), "/console/exchange?lang=en")
    assert "B2B exchange to-dos" in page and "Your turn" in page and "Awaiting the buyer" in page

"""Allowances by exchange (交換折讓) in the console: either party issues one on the exchanged
invoice's page, and each finds on the allowance's page only the answers it may give."""

# ruff: noqa: F811 - fixtures imported from sibling test modules are parameters of these tests

from __future__ import annotations

import re

from tests.api.test_exchange import buyer, issue, step  # noqa: F401 - the buyer fixture
from tests.api.test_exchange_allowances import counted
from tests.api.test_invoices import issuer  # noqa: F401 - the issuer fixture
from tests.web.conftest import console_of, text_of
from tests.web.test_accessible_pages import _problems

FORM = {
    "items[0].description": "退貨折讓",
    "items[0].quantity": "1",
    "items[0].unit_price": "100",
    "items[0].tax_type": "1",
    "prices_include_tax": "false",
    "allowance_number": "",
    "remark": "",
}


def test_the_buyer_issues_an_allowance_in_the_console_and_the_seller_confirms_it(client, issuer, buyer):
    invoice = issue(client, issuer, buyer.ubn)
    exchange = f"{issuer.ubn}-{invoice['invoice_number']}"
    buyer_console, seller_console = console_of(client, buyer.ubn), console_of(client, issuer.ubn)

    # Before the buyer confirmed the invoice there is no form, only why.
    page = text_of(buyer_console.get(f"/console/exchange/{exchange}"))
    assert "開立折讓證明單（B0101）" not in page and "僅買方已確認" in page
    assert step(client, buyer, exchange, "confirm").status_code == 200
    page = text_of(buyer_console.get(f"/console/exchange/{exchange}"))
    assert 'action="/console/exchange/' + exchange + '/allowances"' in page
    assert _problems(page) == []  # every control of the form has its label

    refused = buyer_console.post(f"/console/exchange/{exchange}/allowances", {**FORM, "items[0].unit_price": "10.5"})
    assert refused.status_code == 422 and "整數" in text_of(refused)
    issued = buyer_console.post(f"/console/exchange/{exchange}/allowances", FORM)
    assert issued.status_code == 303
    location = issued.headers["Location"]
    assert re.fullmatch(rf"/console/exchange/allowances/{issuer.ubn}-ALW-BA\d+\?done=issued", location)
    path = location.split("?")[0]

    mine = text_of(buyer_console.get(location))
    assert "折讓證明單已開立" in mine and "/cancel" in mine and '/confirm"' not in mine
    theirs = text_of(seller_console.get(path))
    assert 'action="' + path + '/confirm"' in theirs and path + "/cancel" not in theirs
    assert _problems(mine) == [] and _problems(theirs) == []

    # The buyer cannot confirm its own, even by posting the form.
    own = buyer_console.post(path + "/confirm", {"remark": ""})
    assert own.status_code == 403
    assert seller_console.post(path + "/confirm", {"remark": "同意"}).status_code == 303
    assert counted(issuer.ubn, buyer.ubn) == (105, 100)
    assert "對方已確認" in text_of(seller_console.get(path))
    xml = seller_console.get(path + "/messages/B0102")
    assert xml.status_code == 200 and "<AllowanceType>1</AllowanceType>" in text_of(xml)

    # Cancel: a reason is required; then the seller confirms it.
    no_reason = buyer_console.post(path + "/cancel", {"reason": "", "remark": ""})
    assert no_reason.status_code == 400 and "原因" in text_of(no_reason)
    assert buyer_console.post(path + "/cancel", {"reason": "數量有誤", "remark": ""}).status_code == 303
    assert seller_console.post(path + "/confirm-cancel", {"remark": ""}).status_code == 303
    assert counted(issuer.ubn, buyer.ubn) == (0, 0)
    listed = text_of(seller_console.get(f"/console/exchange/{exchange}"))
    assert "作廢已確認" in listed


def test_another_merchant_finds_neither_page(client, issuer, buyer, new_merchant):
    invoice = issue(client, issuer, buyer.ubn)
    exchange = f"{issuer.ubn}-{invoice['invoice_number']}"
    step(client, buyer, exchange, "confirm")
    seller_console = console_of(client, issuer.ubn)
    path = seller_console.post(f"/console/exchange/{exchange}/allowances", FORM).headers["Location"].split("?")[0]
    stranger = console_of(client, new_merchant().ubn)
    for url in (f"/console/exchange/{exchange}", path, path + "/messages/B0101"):
        assert stranger.get(url).status_code == 404
    assert stranger.post(path + "/confirm", {"remark": ""}).status_code == 404
    assert stranger.post(f"/console/exchange/{exchange}/allowances", FORM).status_code == 404

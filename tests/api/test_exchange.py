"""B2B exchange (交換) over the API: a seller issues for exchange to a merchant that receives by
exchange; the buyer confirms (A0102) or rejects (A0301) it in its to-do list, the seller confirms a
rejection (A0302), asks to cancel (A0201) and the cancel counts once the buyer confirms (A0202).
What each party sees, what the period totals count, and who may do what."""

# ruff: noqa: F811 - fixtures imported from sibling test modules are parameters of these tests

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from lxml import etree

from chalicelib.adapters.dynamo_invoices import DynamoInvoices
from chalicelib.documents.mig.schema import check_message
from chalicelib.domain.period import TAIWAN_TZ, Period
from tests.api.conftest import body_of, post_json
from tests.api.test_invoices import B2B, issuer  # noqa: F401 - the issuer fixture


def _period() -> str:
    return Period.from_date(datetime.now(TAIWAN_TZ).date()).code


def receives_by(client, merchant, method: str) -> Any:
    return client.http.patch(
        "/v1/merchant",
        headers={"Content-Type": "application/json", **merchant.headers},
        body=json.dumps({"settings": {"receiving_method": method}}),
    )


@pytest.fixture
def buyer(client, new_merchant):
    merchant = new_merchant()
    assert receives_by(client, merchant, "exchange").status_code == 200
    return merchant


def for_exchange(buyer_ubn: str, unit_price: str = "1000", **changes: Any) -> dict[str, Any]:
    return {
        **B2B,
        "buyer": {"ubn": buyer_ubn, "name": "買方股份有限公司"},
        "print": False,
        "prices_include_tax": False,
        "exchange": True,
        "items": [{"description": "顧問服務", "quantity": "1", "unit_price": unit_price, "tax_type": "1"}],
        **changes,
    }


def issue(client, seller, buyer_ubn: str, unit_price: str = "1000") -> dict[str, Any]:
    response = post_json(client, "/v1/invoices", for_exchange(buyer_ubn, unit_price), seller.headers)
    assert response.status_code == 201, response.body
    return body_of(response)


def ident(seller, invoice: dict[str, Any]) -> str:
    return f"{seller.ubn}-{invoice['invoice_number']}"


def step(client, who, exchange: str, action: str, payload: dict[str, Any] | None = None) -> Any:
    return post_json(client, f"/v1/exchange/{exchange}/{action}", payload or {}, who.headers)


def error_of(response) -> tuple[int, str, str | None]:
    error = body_of(response)["error"]
    return response.status_code, error["code"], error["field"]


def totals(ubn: str, group: str = "07") -> dict[str, Any]:
    return DynamoInvoices().totals(ubn, _period(), group) or {}


def valid_xml(response, message_type: str) -> etree._Element:
    assert response.status_code == 200, response.body
    check_message(message_type, response.body)  # the official MIG 4.1 XSD
    return etree.fromstring(response.body)


def text(root: etree._Element, path: str) -> str:
    found = root.find(path, {"m": root.nsmap[None]})
    assert found is not None, path
    return str(found.text)


# --- the setting ---------------------------------------------------------------------------------


def test_the_receiving_method_is_storage_until_set_and_only_storage_or_exchange(client, new_merchant):
    merchant = new_merchant()
    profile = body_of(client.http.get("/v1/merchant", headers=merchant.headers))
    assert profile["settings"]["receiving_method"] == "storage"

    assert receives_by(client, merchant, "exchange").status_code == 200
    assert body_of(client.http.get("/v1/merchant", headers=merchant.headers))["settings"]["receiving_method"] == (
        "exchange"
    )
    refused = receives_by(client, merchant, "email")
    assert error_of(refused) == (400, "INVALID_RECEIVING_METHOD", "settings.receiving_method")
    assert "storage" in body_of(refused)["error"]["message_zh"]


# --- issuing for exchange --------------------------------------------------------------------------


def test_an_invoice_issued_for_exchange_awaits_the_buyer_and_serves_its_a0101(client, issuer, buyer):
    before_sales, before_purchases = totals(issuer.ubn), totals(buyer.ubn, "purchases")
    invoice = issue(client, issuer, buyer.ubn)
    number = invoice["invoice_number"]

    exchange = body_of(client.http.get(f"/v1/exchange/{ident(issuer, invoice)}", headers=issuer.headers))
    assert (exchange["role"], exchange["state"], exchange["waiting_on"]) == ("seller", "awaiting_buyer", "buyer")
    assert exchange["actions"] == ["cancel"]
    # ⚠️ 7 days to answer (docs/exchange.md): the deadline is a week after the issue.
    issued_at = datetime.fromisoformat(f"{invoice['invoice_date']}T{invoice['invoice_time']}+08:00")
    assert (datetime.fromisoformat(exchange["deadline"]) - issued_at).days == 7

    root = valid_xml(client.http.get(f"/v1/invoices/{number}/xml", headers=issuer.headers), "A0101")
    assert etree.QName(root).localname == "Invoice" and "A0101" in root.nsmap[None]
    assert text(root, "m:Main/m:Buyer/m:Identifier") == buyer.ubn
    assert (text(root, "m:Amount/m:SalesAmount"), text(root, "m:Amount/m:TotalAmount")) == ("1000", "1050")
    # The buyer reads the same A0101 as its received invoice.
    valid_xml(client.http.get(f"/v1/received-invoices/{issuer.ubn}/{number}/xml", headers=buyer.headers), "A0101")

    # Sales count at once; the buyer's input side waits for its confirmation.
    assert totals(issuer.ubn).get("total_amount", 0) - before_sales.get("total_amount", 0) == 1050
    assert totals(buyer.ubn, "purchases") == before_purchases


def test_issuing_for_exchange_needs_a_buyer_that_receives_by_exchange(client, issuer, new_merchant):
    storage = new_merchant()
    cases = [
        (for_exchange(storage.ubn), (422, "EXCHANGE_NOT_BUYERS_METHOD", "exchange")),
        (for_exchange("04595257"), (422, "EXCHANGE_BUYER_NOT_ON_PLATFORM", "buyer.ubn")),
        (
            {**for_exchange(storage.ubn), "buyer": {"ubn": None, "name": "消費者"}, "print": True},
            (422, "EXCHANGE_NEEDS_BUYER_UBN", "buyer.ubn"),
        ),
        (for_exchange(issuer.ubn), (422, "EXCHANGE_WITH_SELF", "buyer.ubn")),
        ({**for_exchange(storage.ubn), "exchange": "yes"}, (400, "INVALID_TYPE", "exchange")),
    ]
    for payload, expected in cases:
        response = post_json(client, "/v1/invoices", payload, issuer.headers)
        assert error_of(response) == expected, response.body
        assert body_of(response)["error"]["message_zh"]
    # Nothing was issued by any of them: the next invoice still takes the channel's first number.
    listed = body_of(client.http.get("/v1/invoices", headers=issuer.headers))
    assert listed["items"] == []


def test_an_exchange_invoice_has_no_carrier_and_no_printed_proof(client, issuer, buyer):
    printed = post_json(client, "/v1/invoices", for_exchange(buyer.ubn, print=True), issuer.headers)
    assert error_of(printed) == (422, "EXCHANGE_PRINTED", "print")
    carried = post_json(
        client, "/v1/invoices", for_exchange(buyer.ubn, carrier={"type": "3J0002", "id": "/ABC+123"}), issuer.headers
    )
    assert error_of(carried) == (422, "EXCHANGE_WITH_CARRIER", "carrier")


def test_a_storage_invoice_to_an_exchange_buyer_stays_storage(client, issuer, buyer):
    """Exchange is asked for per invoice; without it today's storage path is unchanged."""
    payload = {**for_exchange(buyer.ubn), "exchange": False}
    invoice = body_of(post_json(client, "/v1/invoices", payload, issuer.headers))
    xml = client.http.get(f"/v1/invoices/{invoice['invoice_number']}/xml", headers=issuer.headers)
    valid_xml(xml, "F0401")
    assert client.http.get(f"/v1/exchange/{ident(issuer, invoice)}", headers=issuer.headers).status_code == 404
    inbox = body_of(client.http.get("/v1/exchange/inbox", headers=buyer.headers))
    assert inbox["items"] == []

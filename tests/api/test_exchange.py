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
from tests.api.test_events import _process_outbox as process_outbox
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


# --- the buyer's answers -------------------------------------------------------------------------


def test_the_buyer_sees_it_in_its_to_do_list_and_confirms_it(client, issuer, buyer):
    before = totals(buyer.ubn, "purchases")
    invoice = issue(client, issuer, buyer.ubn)
    exchange = ident(issuer, invoice)

    (todo,) = body_of(client.http.get("/v1/exchange/inbox", headers=buyer.headers))["items"]
    assert (todo["id"], todo["role"], todo["your_turn"], todo["actions"]) == (
        exchange,
        "buyer",
        True,
        ["confirm", "reject"],
    )
    assert (todo["counterpart"]["ubn"], todo["total_amount"], todo["overdue"]) == (issuer.ubn, 1050, False)
    (theirs,) = body_of(client.http.get("/v1/exchange/inbox", headers=issuer.headers))["items"]
    assert (theirs["role"], theirs["your_turn"], theirs["actions"]) == ("seller", False, ["cancel"])

    confirmed = step(client, buyer, exchange, "confirm", {"remark": "貨已收到"})
    assert confirmed.status_code == 200, confirmed.body
    view = body_of(confirmed)
    assert (view["state"], view["waiting_on"], view["actions"]) == ("confirmed", None, [])
    assert [m["type"] for m in view["messages"]] == ["A0101", "A0102"]
    assert [(s["event"], s["by"]) for s in view["steps"]] == [("issued", "seller"), ("exchange_confirmed", "buyer")]
    # Now it is the buyer's purchase (進項), once.
    after = totals(buyer.ubn, "purchases")
    assert after.get("amount", 0) - before.get("amount", 0) == 1000
    assert after.get("tax", 0) - before.get("tax", 0) == 50
    # Settled: it leaves both to-do lists.
    assert body_of(client.http.get("/v1/exchange/inbox", headers=buyer.headers))["items"] == []
    assert body_of(client.http.get("/v1/exchange/inbox", headers=issuer.headers))["items"] == []

    a0102 = valid_xml(client.http.get(f"/v1/exchange/{exchange}/messages/A0102", headers=issuer.headers), "A0102")
    assert (text(a0102, "m:InvoiceNumber"), text(a0102, "m:Remark")) == (invoice["invoice_number"], "貨已收到")
    assert text(a0102, "m:BuyerId") == buyer.ubn
    # The seller's history of the invoice has the step too.
    history = body_of(client.http.get(f"/v1/invoices/{invoice['invoice_number']}", headers=issuer.headers))["history"]
    assert history[-1]["event"] == "exchange_confirmed"


def test_a_rejected_invoice_leaves_the_sellers_sales_and_the_seller_confirms_it(client, issuer, buyer):
    before = totals(issuer.ubn)
    invoice = issue(client, issuer, buyer.ubn)
    exchange = ident(issuer, invoice)

    missing = step(client, buyer, exchange, "reject", {})
    assert error_of(missing)[:1] == (400,) and error_of(missing)[2] == "reason"
    too_long = step(client, buyer, exchange, "reject", {"reason": "原" * 21})
    assert error_of(too_long)[0] == 400 and error_of(too_long)[2] == "reason"

    rejected = step(client, buyer, exchange, "reject", {"reason": "單價錯誤"})
    assert rejected.status_code == 200, rejected.body
    assert (body_of(rejected)["state"], body_of(rejected)["invoice"]["status"]) == ("rejected", "rejected")
    assert totals(issuer.ubn).get("total_amount", 0) == before.get("total_amount", 0)

    (todo,) = body_of(client.http.get("/v1/exchange/inbox", headers=issuer.headers))["items"]
    assert (todo["your_turn"], todo["actions"], todo["state"]) == (True, ["confirm-reject"], "rejected")
    a0301 = valid_xml(client.http.get(f"/v1/exchange/{exchange}/messages/A0301", headers=buyer.headers), "A0301")
    assert text(a0301, "m:RejectReason") == "單價錯誤"

    done = step(client, issuer, exchange, "confirm-reject")
    assert (done.status_code, body_of(done)["state"]) == (200, "rejection_confirmed")
    valid_xml(client.http.get(f"/v1/exchange/{exchange}/messages/A0302", headers=buyer.headers), "A0302")
    assert body_of(client.http.get("/v1/exchange/inbox", headers=issuer.headers))["items"] == []
    # What the invoice is now cannot be undone with the storage tools either.
    cancel = post_json(client, f"/v1/invoices/{invoice['invoice_number']}/cancel", {"reason": "x"}, issuer.headers)
    assert error_of(cancel)[:2] == (409, "EXCHANGE_INVOICE")


def test_answers_in_the_wrong_state_or_by_the_wrong_party_are_refused(client, issuer, buyer):
    confirmed = ident(issuer, issue(client, issuer, buyer.ubn))
    rejected = ident(issuer, issue(client, issuer, buyer.ubn, "2000"))
    assert step(client, buyer, confirmed, "confirm").status_code == 200
    assert step(client, buyer, rejected, "reject", {"reason": "重複開立"}).status_code == 200

    assert error_of(step(client, buyer, confirmed, "reject", {"reason": "x"})) == (
        409,
        "EXCHANGE_STATE_CONFLICT",
        "state",
    )
    assert error_of(step(client, buyer, rejected, "confirm")) == (409, "EXCHANGE_STATE_CONFLICT", "state")
    assert error_of(step(client, issuer, rejected, "confirm"))[:2] == (403, "EXCHANGE_NOT_YOUR_STEP")
    assert error_of(step(client, buyer, rejected, "confirm-reject"))[:2] == (403, "EXCHANGE_NOT_YOUR_STEP")
    assert error_of(step(client, buyer, confirmed, "cancel", {"reason": "x"}))[:2] == (403, "EXCHANGE_NOT_YOUR_STEP")
    assert error_of(step(client, issuer, confirmed, "confirm-cancel"))[:2] == (403, "EXCHANGE_NOT_YOUR_STEP")
    # A message that does not exist (yet) is not served.
    missing = client.http.get(f"/v1/exchange/{confirmed}/messages/A0301", headers=buyer.headers)
    assert error_of(missing) == (404, "EXCHANGE_MESSAGE_NOT_FOUND", "message_type")


def test_another_merchant_gets_404_on_everything(client, issuer, buyer, new_merchant):
    stranger = new_merchant()
    exchange = ident(issuer, issue(client, issuer, buyer.ubn))
    base = f"/v1/exchange/{exchange}"
    for path in (base, f"{base}/messages/A0101", "/v1/exchange/12345675-AB00000000", "/v1/exchange/nonsense"):
        assert error_of(client.http.get(path, headers=stranger.headers))[:2] == (404, "EXCHANGE_NOT_FOUND"), path
    for action, payload in (
        ("confirm", {}),
        ("reject", {"reason": "x"}),
        ("confirm-reject", {}),
        ("cancel", {"reason": "x"}),
        ("confirm-cancel", {}),
    ):
        response = step(client, stranger, exchange, action, payload)
        assert error_of(response)[:2] == (404, "EXCHANGE_NOT_FOUND"), action
    assert body_of(client.http.get("/v1/exchange/inbox", headers=stranger.headers))["items"] == []
    assert body_of(client.http.get(base, headers=buyer.headers))["state"] == "awaiting_buyer"


# --- cancel (A0201 + A0202) ---------------------------------------------------------------------------


def test_a_cancel_counts_only_when_the_buyer_confirms_it(client, issuer, buyer):
    sales_before, purchases_before = totals(issuer.ubn), totals(buyer.ubn, "purchases")
    invoice = issue(client, issuer, buyer.ubn)
    exchange = ident(issuer, invoice)
    assert step(client, buyer, exchange, "confirm").status_code == 200

    asked = step(client, issuer, exchange, "cancel", {"reason": "訂單取消"})
    assert asked.status_code == 200, asked.body
    assert (body_of(asked)["state"], body_of(asked)["invoice"]["status"]) == ("cancel_requested", "issued")
    # Still counted on both sides until the buyer's A0202.
    assert totals(issuer.ubn)["total_amount"] - sales_before.get("total_amount", 0) == 1050
    assert totals(buyer.ubn, "purchases")["amount"] - purchases_before.get("amount", 0) == 1000
    (todo,) = body_of(client.http.get("/v1/exchange/inbox", headers=buyer.headers))["items"]
    assert (todo["state"], todo["actions"]) == ("cancel_requested", ["confirm-cancel"])
    a0201 = valid_xml(client.http.get(f"/v1/exchange/{exchange}/messages/A0201", headers=buyer.headers), "A0201")
    assert text(a0201, "m:CancelReason") == "訂單取消"

    done = step(client, buyer, exchange, "confirm-cancel", {"remark": "同意作廢"})
    assert (body_of(done)["state"], body_of(done)["invoice"]["status"]) == ("cancelled", "cancelled")
    assert totals(issuer.ubn).get("total_amount", 0) == sales_before.get("total_amount", 0)
    assert totals(buyer.ubn, "purchases").get("amount", 0) == purchases_before.get("amount", 0)
    valid_xml(client.http.get(f"/v1/exchange/{exchange}/messages/A0202", headers=issuer.headers), "A0202")
    seller_view = body_of(client.http.get(f"/v1/invoices/{invoice['invoice_number']}", headers=issuer.headers))
    assert seller_view["status"] == "cancelled"
    assert [h["event"] for h in seller_view["history"]][-3:] == [
        "exchange_confirmed",
        "exchange_cancel_requested",
        "exchange_cancelled",
    ]


def test_the_counterpart_is_told_in_its_inbox(client, issuer, buyer):
    exchange = ident(issuer, issue(client, issuer, buyer.ubn))
    process_outbox(buyer.ubn)  # what the worker does after each commit
    told = body_of(client.http.get("/v1/notifications?kind=exchange", headers=buyer.headers))["items"]
    assert [n["link"] for n in told] == [f"/console/exchange/{exchange}"]
    step(client, buyer, exchange, "reject", {"reason": "單價錯誤"})
    process_outbox(issuer.ubn)
    told = body_of(client.http.get("/v1/notifications?kind=exchange", headers=issuer.headers))["items"]
    assert len(told) == 1 and "單價錯誤" in told[0]["body_zh"]
    events = body_of(client.http.get("/v1/events?type=exchange.rejected", headers=issuer.headers))["items"]
    assert [e["data"]["object"]["id"] for e in events] == [exchange]

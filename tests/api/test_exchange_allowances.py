"""Allowances by B2B exchange (交換折讓) over the API: either party of an exchanged invoice the buyer
confirmed issues one (B0101); the other confirms it (B0102) from its to-do list; the issuer asks to
cancel it (B0201) and the cancel counts once the other confirms (B0202). What each party sees and
downloads, what the period totals count at each step, and who may do what."""

# ruff: noqa: F811 - fixtures imported from sibling test modules are parameters of these tests

from __future__ import annotations

from typing import Any

from tests.api.conftest import body_of, post_json
from tests.api.test_exchange import buyer, error_of, ident, issue, step, text, totals, valid_xml  # noqa: F401
from tests.api.test_invoices import issuer  # noqa: F401 - the issuer fixture


def confirmed_invoice(client, seller, buyer) -> tuple[str, dict[str, Any]]:
    """An invoice of NT$1,000 + 50 tax issued for exchange and confirmed by its buyer (A0102)."""
    invoice = issue(client, seller, buyer.ubn)
    exchange = ident(seller, invoice)
    confirmed = step(client, buyer, exchange, "confirm")
    assert confirmed.status_code == 200, confirmed.body
    return exchange, invoice


def lines(unit_price: str = "100", **changes: Any) -> dict[str, Any]:
    return {
        "items": [{"description": "退貨折讓", "quantity": "1", "unit_price": unit_price, "tax_type": "1"}],
        "prices_include_tax": False,
        **changes,
    }


def allow(client, who, exchange: str, payload: dict[str, Any]) -> Any:
    return post_json(client, f"/v1/exchange/{exchange}/allowances", payload, who.headers)


def answer(client, who, allowance: str, action: str, payload: dict[str, Any] | None = None) -> Any:
    return post_json(client, f"/v1/exchange/allowances/{allowance}/{action}", payload or {}, who.headers)


def get(client, who, path: str) -> Any:
    return client.http.get(path, headers=who.headers)


def counted(seller_ubn: str, buyer_ubn: str) -> tuple[int, int]:
    """The seller's allowances (tax included) and the buyer's purchase returns (before tax)."""
    return (
        int(totals(seller_ubn).get("allowance_total", 0)),
        int(totals(buyer_ubn, "purchases").get("allowance_amount", 0)),
    )


def test_a_sellers_allowance_counts_once_the_buyer_confirms_it_from_its_to_do_list(client, issuer, buyer):
    exchange, invoice = confirmed_invoice(client, issuer, buyer)
    issued = allow(client, issuer, exchange, lines("100", remark="數量短少"))
    assert issued.status_code == 201, issued.body
    allowance = body_of(issued)
    aid = allowance["id"]
    assert issued.headers["Location"] == f"/v1/exchange/allowances/{aid}"
    assert (allowance["role"], allowance["issuer"], allowance["allowance_type"]) == ("seller", "seller", "2")
    assert (allowance["state"], allowance["status"], allowance["waiting_on"]) == (
        "awaiting_counterpart",
        "pending",
        "buyer",
    )
    assert (allowance["sales_amount"], allowance["tax_amount"], allowance["total_amount"]) == (100, 5, 105)
    assert counted(issuer.ubn, buyer.ubn) == (0, 0)  # not before the buyer confirms

    # The buyer finds it in its to-do list, its turn, and reads the seller's B0101.
    inbox = body_of(get(client, buyer, "/v1/exchange/inbox"))["items"]
    [task] = [t for t in inbox if t["kind"] == "allowance"]
    assert (task["id"], task["your_turn"], task["actions"], task["total_amount"]) == (aid, True, ["confirm"], 105)
    assert task["links"]["self"] == f"/v1/exchange/allowances/{aid}"
    root = valid_xml(get(client, buyer, f"/v1/exchange/allowances/{aid}/messages/B0101"), "B0101")
    assert text(root, "m:Main/m:AllowanceType") == "2"
    assert text(root, "m:Details/m:ProductItem/m:OriginalInvoiceNumber") == invoice["invoice_number"]
    assert (text(root, "m:Amount/m:TotalAmount"), text(root, "m:Amount/m:TaxAmount")) == ("100", "5")
    assert get(client, buyer, f"/v1/exchange/allowances/{aid}/messages/B0102").status_code == 404

    # The seller may not confirm its own; the buyer does, once.
    own = answer(client, issuer, aid, "confirm")
    assert error_of(own) == (403, "EXCHANGE_NOT_YOUR_STEP", "action")
    done = answer(client, buyer, aid, "confirm", {"remark": "同意折讓"})
    assert done.status_code == 200, done.body
    assert (body_of(done)["state"], body_of(done)["status"]) == ("confirmed", "issued")
    assert error_of(answer(client, buyer, aid, "confirm"))[:2] == (409, "EXCHANGE_STATE_CONFLICT")
    assert counted(issuer.ubn, buyer.ubn) == (105, 100)
    b0102 = valid_xml(get(client, issuer, f"/v1/exchange/allowances/{aid}/messages/B0102"), "B0102")
    assert (text(b0102, "m:BuyerId"), text(b0102, "m:Remark")) == (buyer.ubn, "同意折讓")
    assert [t for t in body_of(get(client, buyer, "/v1/exchange/inbox"))["items"] if t["kind"] == "allowance"] == []

    # In the seller's own allowances too, answered on the exchange route only; its XML is the B0101.
    number = allowance["allowance_number"]
    own_view = body_of(get(client, issuer, f"/v1/allowances/{number}"))
    assert own_view["links"]["exchange"] == f"/v1/exchange/allowances/{aid}" and "cancel" not in own_view["links"]
    storage_cancel = post_json(client, f"/v1/allowances/{number}/cancel", {"reason": "x"}, issuer.headers)
    assert error_of(storage_cancel) == (409, "EXCHANGE_ALLOWANCE", "allowance_number")
    valid_xml(get(client, issuer, f"/v1/allowances/{number}/xml"), "B0101")
    listed = body_of(get(client, buyer, f"/v1/exchange/{exchange}/allowances"))["items"]
    assert [a["id"] for a in listed] == [aid]


def test_a_buyers_allowance_is_confirmed_by_the_seller_and_its_cancel_counts_once_confirmed(client, issuer, buyer):
    exchange, _ = confirmed_invoice(client, issuer, buyer)
    issued = allow(client, buyer, exchange, lines("200", allowance_number="RET-0001"))
    assert issued.status_code == 201, issued.body
    aid = body_of(issued)["id"]
    assert (body_of(issued)["issuer"], body_of(issued)["allowance_type"]) == ("buyer", "1")
    root = valid_xml(get(client, issuer, f"/v1/exchange/allowances/{aid}/messages/B0101"), "B0101")
    assert (text(root, "m:Main/m:AllowanceType"), text(root, "m:Main/m:AllowanceNumber")) == ("1", "RET-0001")

    assert answer(client, issuer, aid, "confirm").status_code == 200
    assert counted(issuer.ubn, buyer.ubn) == (210, 200)

    # Only the issuer (here the buyer) asks to cancel, with a reason; only the seller confirms it.
    assert error_of(answer(client, issuer, aid, "cancel", {"reason": "金額有誤"}))[:2] == (
        403,
        "EXCHANGE_NOT_YOUR_STEP",
    )
    assert error_of(answer(client, buyer, aid, "cancel", {}))[:2] == (400, "MISSING_FIELD")
    asked = answer(client, buyer, aid, "cancel", {"reason": "金額有誤"})
    assert body_of(asked)["state"] == "cancel_requested"
    assert counted(issuer.ubn, buyer.ubn) == (210, 200)  # nothing moves until it is confirmed
    inbox = body_of(get(client, issuer, "/v1/exchange/inbox"))["items"]
    assert [(t["id"], t["your_turn"], t["actions"]) for t in inbox if t["kind"] == "allowance"] == [
        (aid, True, ["confirm-cancel"])
    ]
    done = answer(client, issuer, aid, "confirm-cancel")
    assert (body_of(done)["state"], body_of(done)["status"]) == ("cancelled", "cancelled")
    assert counted(issuer.ubn, buyer.ubn) == (0, 0)
    b0201 = valid_xml(get(client, issuer, f"/v1/exchange/allowances/{aid}/messages/B0201"), "B0201")
    assert (text(b0201, "m:CancelReason"), text(b0201, "m:AllowanceType")) == ("金額有誤", "1")
    valid_xml(get(client, buyer, f"/v1/exchange/allowances/{aid}/messages/B0202"), "B0202")
    steps = [(s["event"], s["by"], s["message"]) for s in body_of(done)["steps"]]
    assert steps == [
        ("issued", "buyer", "B0101"),
        ("exchange_confirmed", "seller", "B0102"),
        ("exchange_cancel_requested", "buyer", "B0201"),
        ("exchange_cancelled", "seller", "B0202"),
    ]
    # The whole invoice is allowable again.
    assert allow(client, issuer, exchange, lines("1000")).status_code == 201


def test_an_allowance_needs_a_confirmed_invoice_and_what_remains_on_it(client, issuer, buyer):
    invoice = issue(client, issuer, buyer.ubn)
    exchange = ident(issuer, invoice)
    unconfirmed = allow(client, issuer, exchange, lines())
    assert error_of(unconfirmed) == (409, "EXCHANGE_INVOICE_NOT_CONFIRMED", "exchange_id")
    assert body_of(unconfirmed)["error"]["message_zh"]
    # The storage route refuses the exchanged invoice and names the exchange route.
    storage = post_json(
        client,
        "/v1/allowances",
        {"items": [{"original_invoice_number": invoice["invoice_number"], **lines()["items"][0]}]},
        issuer.headers,
    )
    assert error_of(storage)[:2] == (409, "EXCHANGE_INVOICE")
    assert f"/v1/exchange/{exchange}/allowances" in body_of(storage)["error"]["message"]

    assert step(client, buyer, exchange, "confirm").status_code == 200
    assert error_of(allow(client, buyer, exchange, lines("1001")))[:2] == (422, "ALLOWANCE_EXCEEDS_INVOICE")
    assert allow(client, issuer, exchange, lines("600")).status_code == 201  # NT$630 reserved, pending
    # A second pending allowance cannot take what the first reserved.
    assert error_of(allow(client, buyer, exchange, lines("401")))[:2] == (422, "ALLOWANCE_EXCEEDS_INVOICE")
    fraction = allow(client, buyer, exchange, lines("10.5"))
    assert error_of(fraction) == (422, "EXCHANGE_ALLOWANCE_WHOLE_DOLLARS", "items[0].unit_price")
    bad = allow(client, buyer, exchange, {"items": [{"description": "x", "quantity": "1", "tax_type": "1"}]})
    assert error_of(bad)[0] == 400 and error_of(bad)[2] == "items[0].unit_price"
    # While an allowance reduces it, the invoice cannot be cancelled.
    cancel = step(client, issuer, exchange, "cancel", {"reason": "訂單取消"})
    assert error_of(cancel)[:2] == (422, "INVOICE_HAS_ALLOWANCES")


def test_another_merchant_gets_404_on_every_exchange_allowance_route(client, issuer, buyer, new_merchant):
    exchange, _ = confirmed_invoice(client, issuer, buyer)
    aid = body_of(allow(client, issuer, exchange, lines()))["id"]
    stranger = new_merchant()
    assert error_of(allow(client, stranger, exchange, lines()))[:2] == (404, "EXCHANGE_NOT_FOUND")
    assert get(client, stranger, f"/v1/exchange/{exchange}/allowances").status_code == 404
    for path in (f"/v1/exchange/allowances/{aid}", f"/v1/exchange/allowances/{aid}/messages/B0101"):
        assert get(client, stranger, path).status_code == 404
    for action, payload in (("confirm", {}), ("cancel", {"reason": "x"}), ("confirm-cancel", {})):
        assert error_of(answer(client, stranger, aid, action, payload))[:2] == (404, "EXCHANGE_ALLOWANCE_NOT_FOUND")
    assert get(client, issuer, "/v1/exchange/allowances/not-an-id").status_code == 404
    assert get(client, issuer, f"/v1/exchange/allowances/{aid}/messages/A0101").status_code == 404


def test_each_step_tells_the_other_party_by_event_and_notice(client, issuer, buyer):
    from tests.api.test_events import _process_outbox, _types

    exchange, _ = confirmed_invoice(client, issuer, buyer)
    aid = body_of(allow(client, issuer, exchange, lines()))["id"]
    _process_outbox(buyer.ubn)
    assert "exchange.allowance_received" in _types(buyer.ubn)
    notices = body_of(get(client, buyer, "/v1/notifications?kind=exchange"))["items"]
    [received] = [n for n in notices if n["link"] == f"/console/exchange/allowances/{aid}"]
    assert "NT$105" in received["body_en"] and received["title_zh"].startswith("收到交換折讓證明單")

    answer(client, buyer, aid, "confirm")
    _process_outbox(issuer.ubn)
    assert "exchange.allowance_confirmed" in _types(issuer.ubn)
    assert "exchange.allowance_confirmed" not in _types(buyer.ubn)  # told to the other party only

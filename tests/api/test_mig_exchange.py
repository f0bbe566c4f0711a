"""B2B exchange (交換) as MIG 4.1 XML in: the seller's A0101 (with its next number, checked like an
F0401) and every answer through ``POST /v1/mig/{type}``, from the party whose step it is only."""

# ruff: noqa: F811 - fixtures imported from sibling test modules are parameters of these tests

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.documents.mig import (
    CancelInvoiceConfirm,
    ExchangeCancelInvoice,
    ExchangeInvoice,
    InvoiceConfirm,
    RejectInvoice,
    RejectInvoiceConfirm,
    build_xml,
)
from chalicelib.domain.period import TAIWAN_TZ
from tests.api.conftest import body_of
from tests.api.test_exchange import buyer, ident, issue, receives_by, totals, valid_xml  # noqa: F401 - fixture
from tests.api.test_invoices import issuer  # noqa: F401 - the issuer fixture


def a0101(seller_ubn: str, buyer_ubn: str, number: str, *, total: int = 1050, sales: int = 1000) -> bytes:
    now = datetime.now(TAIWAN_TZ)
    return build_xml(
        ExchangeInvoice.from_data(
            {
                "main": {
                    "invoice_number": number,
                    "invoice_date": now.date(),
                    "invoice_time": now.time().replace(microsecond=0),
                    "seller": {
                        "identifier": seller_ubn,
                        "name": "測試商行",
                        "address": "臺北市中正區重慶南路一段 2 號",
                    },
                    "buyer": {"identifier": buyer_ubn, "name": "買方股份有限公司", "address": "臺北市"},
                    "invoice_type": "07",
                    "donate_mark": "0",
                },
                "details": [
                    {
                        "description": "顧問服務",
                        "quantity": "1",
                        "unit_price": str(sales),
                        "tax_type": "1",
                        "amount": str(sales),
                        "sequence_number": "1",
                    }
                ],
                "amount": {
                    "sales_amount": sales,
                    "tax_type": "1",
                    "tax_rate": Decimal("0.05"),
                    "tax_amount": total - sales,
                    "total_amount": total,
                },
            }
        )
    )


def post(client, who, message_type: str, body: bytes) -> Any:
    return client.http.post(
        f"/v1/mig/{message_type}", headers={"Content-Type": "application/xml", **who.headers}, body=body
    )


def result(response) -> dict[str, Any]:
    return body_of(response)["results"][0]


def _parties(invoice: dict[str, Any]) -> dict[str, Any]:
    return {
        "invoice_date": datetime.fromisoformat(invoice["invoice_date"]).date(),
        "buyer_id": invoice["buyer"]["ubn"],
        "seller_id": invoice["seller"]["ubn"],
    }


def _at(offset_minutes: int = 1) -> tuple[Any, Any]:
    moment = datetime.now(TAIWAN_TZ) + timedelta(minutes=offset_minutes)
    return moment.date(), moment.time().replace(microsecond=0)


def confirm_xml(invoice: dict[str, Any], **changes: Any) -> bytes:
    day, time = _at()
    data = {"invoice_number": invoice["invoice_number"], **_parties(invoice), "receive_date": day}
    return build_xml(InvoiceConfirm.from_data({**data, "receive_time": time, "remark": "已收到", **changes}))


def reject_xml(invoice: dict[str, Any], reason: str = "品項與訂單不符") -> bytes:
    day, time = _at()
    data = {"reject_invoice_number": invoice["invoice_number"], **_parties(invoice)}
    return build_xml(
        RejectInvoice.from_data({**data, "reject_date": day, "reject_time": time, "reject_reason": reason})
    )


def reject_confirm_xml(invoice: dict[str, Any]) -> bytes:
    day, time = _at(2)
    data = {"reject_invoice_number": invoice["invoice_number"], **_parties(invoice)}
    return build_xml(RejectInvoiceConfirm.from_data({**data, "reject_date": day, "reject_time": time}))


def cancel_xml(invoice: dict[str, Any], reason: str = "訂單取消") -> bytes:
    day, time = _at(2)
    data = {"cancel_invoice_number": invoice["invoice_number"], **_parties(invoice)}
    return build_xml(
        ExchangeCancelInvoice.from_data({**data, "cancel_date": day, "cancel_time": time, "cancel_reason": reason})
    )


def cancel_confirm_xml(invoice: dict[str, Any]) -> bytes:
    day, time = _at(3)
    data = {"cancel_invoice_number": invoice["invoice_number"], **_parties(invoice)}
    return build_xml(CancelInvoiceConfirm.from_data({**data, "cancel_date": day, "cancel_time": time}))


def test_an_a0101_with_the_next_number_is_issued_for_exchange(client, issuer, buyer):
    number = f"{issuer.track}{issuer.begin:08d}"  # the online channel's next number
    message = a0101(issuer.ubn, buyer.ubn, number)
    answered = post(client, issuer, "A0101", message)
    assert answered.status_code == 201, answered.body
    assert result(answered) == {"invoice_number": number, "status": "accepted"}

    exchange = body_of(client.http.get(f"/v1/exchange/{issuer.ubn}-{number}", headers=buyer.headers))
    assert (exchange["role"], exchange["state"], exchange["actions"]) == (
        "buyer",
        "awaiting_buyer",
        ["confirm", "reject"],
    )
    served = valid_xml(client.http.get(f"/v1/invoices/{number}/xml", headers=issuer.headers), "A0101")
    assert served.find("{*}Main/{*}InvoiceNumber").text == number

    # The ERP sends it again: the same invoice, no second number taken.
    again = post(client, issuer, "A0101", message)
    assert (again.status_code, result(again)["invoice_number"]) == (200, number)
    assert len(body_of(client.http.get("/v1/invoices", headers=issuer.headers))["items"]) == 1


def test_an_a0101_is_refused_like_an_f0401_and_for_a_storage_buyer(client, issuer, buyer, new_merchant):
    number = f"{issuer.track}{issuer.begin:08d}"
    wrong_total = post(client, issuer, "A0101", a0101(issuer.ubn, buyer.ubn, number, total=1060))
    assert (wrong_total.status_code, result(wrong_total)["field"]) == (422, "Amount.TaxAmount")
    storage = new_merchant()
    to_storage = post(client, issuer, "A0101", a0101(issuer.ubn, storage.ubn, number))
    assert (to_storage.status_code, result(to_storage)["code"]) == (422, "EXCHANGE_NOT_BUYERS_METHOD")
    assert result(to_storage)["field"] == "Main.Buyer.Identifier"
    not_mine = post(client, buyer, "A0101", a0101(issuer.ubn, buyer.ubn, number))
    assert result(not_mine)["code"] == "SELLER_NOT_CALLER"
    bad = post(client, issuer, "A0101", a0101(issuer.ubn, buyer.ubn, number).replace(b"SalesAmount", b"SaleAmount"))
    assert (bad.status_code, body_of(bad)["error"]["mof_code"]) == (400, "E0304")
    assert body_of(client.http.get("/v1/invoices", headers=issuer.headers))["items"] == []


def _state(client, who, exchange: str) -> str:
    return body_of(client.http.get(f"/v1/exchange/{exchange}", headers=who.headers))["state"]


def test_the_buyers_erp_confirms_by_a0102_once(client, issuer, buyer):
    invoice = issue(client, issuer, buyer.ubn)
    exchange = ident(issuer, invoice)
    before = totals(buyer.ubn, "purchases").get("amount", 0)
    message = confirm_xml(invoice)

    answered = post(client, buyer, "A0102", message)
    assert (answered.status_code, result(answered)) == (
        200,
        {"invoice_number": invoice["invoice_number"], "status": "accepted"},
    )
    assert _state(client, buyer, exchange) == "confirmed"
    # The ERP retries the same message: accepted, and counted once.
    assert result(post(client, buyer, "A0102", message))["status"] == "accepted"
    assert totals(buyer.ubn, "purchases")["amount"] - before == 1000
    # What is served is the message it sent (its remark and time).
    served = valid_xml(client.http.get(f"/v1/exchange/{exchange}/messages/A0102", headers=issuer.headers), "A0102")
    assert served.find("{*}Remark").text == "已收到"
    # Another A0102 later, or an A0301 now, finds the answer given.
    later = post(client, buyer, "A0102", confirm_xml(invoice, remark="again"))
    assert (later.status_code, result(later)["code"], result(later)["field"]) == (
        409,
        "EXCHANGE_STATE_CONFLICT",
        "InvoiceNumber",
    )
    refused = post(client, buyer, "A0301", reject_xml(invoice))
    assert (refused.status_code, result(refused)["code"]) == (409, "EXCHANGE_STATE_CONFLICT")


def test_each_answer_comes_only_from_its_party(client, issuer, buyer, new_merchant):
    invoice = issue(client, issuer, buyer.ubn)
    exchange = ident(issuer, invoice)
    # The seller sends the buyer's confirmation: BuyerId is not the caller.
    by_seller = post(client, issuer, "A0102", confirm_xml(invoice))
    assert (by_seller.status_code, result(by_seller)["code"], result(by_seller)["field"]) == (
        422,
        "PARTY_NOT_CALLER",
        "BuyerId",
    )
    by_buyer = post(client, buyer, "A0201", cancel_xml(invoice))
    assert (result(by_buyer)["code"], result(by_buyer)["field"]) == ("PARTY_NOT_CALLER", "SellerId")
    # A third merchant names itself as buyer of someone else's invoice: no such exchange for it.
    stranger = new_merchant()
    forged = confirm_xml({**invoice, "buyer": {"ubn": stranger.ubn}})
    answered = post(client, stranger, "A0102", forged)
    assert (answered.status_code, result(answered)["code"], result(answered)["field"]) == (
        404,
        "EXCHANGE_NOT_FOUND",
        "InvoiceNumber",
    )
    wrong_date = confirm_xml(
        invoice, invoice_date=datetime.fromisoformat(invoice["invoice_date"]).date() - timedelta(days=1)
    )
    assert result(post(client, buyer, "A0102", wrong_date))["field"] == "InvoiceDate"
    assert _state(client, issuer, exchange) == "awaiting_buyer"


def test_reject_and_its_confirmation_and_a_cancel_and_its_confirmation_by_xml(client, issuer, buyer):
    rejected, cancelled = issue(client, issuer, buyer.ubn), issue(client, issuer, buyer.ubn, "2000")

    too_long = post(
        client, buyer, "A0301", reject_xml(rejected).replace("品項與訂單不符".encode(), ("原" * 21).encode())
    )
    assert (too_long.status_code, body_of(too_long)["error"]["mof_code"]) == (400, "E0305")
    assert result(post(client, buyer, "A0301", reject_xml(rejected)))["status"] == "accepted"
    assert _state(client, issuer, ident(issuer, rejected)) == "rejected"
    assert result(post(client, issuer, "A0302", reject_confirm_xml(rejected)))["status"] == "accepted"
    assert _state(client, buyer, ident(issuer, rejected)) == "rejection_confirmed"

    assert result(post(client, buyer, "A0102", confirm_xml(cancelled)))["status"] == "accepted"
    assert result(post(client, issuer, "A0201", cancel_xml(cancelled)))["status"] == "accepted"
    assert _state(client, buyer, ident(issuer, cancelled)) == "cancel_requested"
    early = post(client, issuer, "A0202", cancel_confirm_xml(cancelled))
    assert result(early)["code"] == "PARTY_NOT_CALLER"
    assert result(post(client, buyer, "A0202", cancel_confirm_xml(cancelled)))["status"] == "accepted"
    view = body_of(client.http.get(f"/v1/exchange/{ident(issuer, cancelled)}", headers=issuer.headers))
    assert (view["state"], view["invoice"]["status"]) == ("cancelled", "cancelled")
    assert [m["type"] for m in view["messages"]] == ["A0101", "A0102", "A0201", "A0202"]
    for message in view["messages"]:
        valid_xml(client.http.get(message["link"], headers=buyer.headers), message["type"])

"""Allowances by B2B exchange (交換折讓) as MIG 4.1 XML in: B0101 from its issuer (either party, by
AllowanceType), B0201 from the issuer, B0102 and B0202 from the other party, through
``POST /v1/mig/{type}``; every message sent here is valid against the official XSD first."""

# ruff: noqa: F811 - fixtures imported from sibling test modules are parameters of these tests

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from chalicelib.documents.mig import (
    AllowanceConfirm,
    CancelAllowanceConfirm,
    ExchangeAllowance,
    ExchangeCancelAllowance,
    build_xml,
)
from chalicelib.documents.mig.schema import check_message
from chalicelib.domain.period import TAIWAN_TZ
from tests.api.conftest import body_of
from tests.api.test_exchange import buyer, text, valid_xml  # noqa: F401 - the buyer fixture
from tests.api.test_exchange_allowances import confirmed_invoice, counted, get
from tests.api.test_invoices import issuer  # noqa: F401 - the issuer fixture
from tests.api.test_mig_exchange import post, result


def _xml(message_type: str, message: Any) -> bytes:
    body = build_xml(message)
    check_message(message_type, body)  # what is sent is valid MIG 4.1
    return body


def b0101(
    invoice: dict[str, Any], number: str, *, allowance_type: str, sales: int = 100, tax: int = 5, **item: Any
) -> bytes:
    seller, buyer_ = invoice["seller"], invoice["buyer"]
    return _xml(
        "B0101",
        ExchangeAllowance.from_data(
            {
                "main": {
                    "allowance_number": number,
                    "allowance_date": datetime.now(TAIWAN_TZ).date(),
                    "seller": {"identifier": seller["ubn"], "name": "賣方", "address": "臺北市"},
                    "buyer": {"identifier": buyer_["ubn"], "name": "買方股份有限公司"},
                    "allowance_type": allowance_type,
                },
                "details": [
                    {
                        "original_invoice_date": date.fromisoformat(invoice["invoice_date"]),
                        "original_invoice_number": invoice["invoice_number"],
                        "original_description": "退貨折讓",
                        "quantity": Decimal(1),
                        "unit_price": Decimal(sales),
                        "amount": Decimal(sales),
                        "tax": tax,
                        "allowance_sequence_number": "1",
                        "tax_type": "1",
                        **item,
                    }
                ],
                "amount": {"tax_amount": tax, "total_amount": sales},
            }
        ),
    )


def _parties(invoice: dict[str, Any], allowance_type: str) -> dict[str, Any]:
    return {
        "allowance_date": datetime.now(TAIWAN_TZ).date(),
        "buyer_id": invoice["buyer"]["ubn"],
        "seller_id": invoice["seller"]["ubn"],
        "allowance_type": allowance_type,
    }


def _at(minutes: int) -> tuple[date, Any]:
    moment = datetime.now(TAIWAN_TZ) + timedelta(minutes=minutes)
    return moment.date(), moment.time().replace(microsecond=0)


def b0102(invoice: dict[str, Any], number: str, allowance_type: str) -> bytes:
    day, time = _at(1)
    data = {"allowance_number": number, "receive_date": day, "receive_time": time, "remark": "同意"}
    return _xml("B0102", AllowanceConfirm.from_data({**data, **_parties(invoice, allowance_type)}))


def b0201(invoice: dict[str, Any], number: str, allowance_type: str, reason: str = "金額有誤") -> bytes:
    day, time = _at(2)
    data = {"cancel_allowance_number": number, "cancel_date": day, "cancel_time": time, "cancel_reason": reason}
    return _xml("B0201", ExchangeCancelAllowance.from_data({**data, **_parties(invoice, allowance_type)}))


def b0202(invoice: dict[str, Any], number: str, allowance_type: str) -> bytes:
    day, time = _at(3)
    data = {"cancel_allowance_number": number, "cancel_date": day, "cancel_time": time}
    return _xml("B0202", CancelAllowanceConfirm.from_data({**data, **_parties(invoice, allowance_type)}))


def test_a_sellers_b0101_is_confirmed_by_the_buyers_b0102_and_the_same_message_again_is_one(client, issuer, buyer):
    exchange, invoice = confirmed_invoice(client, issuer, buyer)
    message = b0101(invoice, "ERP-AL-1", allowance_type="2")
    sent = post(client, issuer, "B0101", message)
    assert sent.status_code == 201, sent.body
    assert result(sent) == {"invoice_number": "ERP-AL-1", "status": "accepted"}
    again = post(client, issuer, "B0101", message)
    assert (again.status_code, result(again)["status"]) == (200, "accepted")
    aid = f"{issuer.ubn}-ALW-ERP-AL-1"
    seen = body_of(get(client, buyer, f"/v1/exchange/allowances/{aid}"))
    assert (seen["issuer"], seen["state"], seen["actions"]) == ("seller", "awaiting_counterpart", ["confirm"])
    assert len(body_of(get(client, buyer, f"/v1/exchange/{exchange}/allowances"))["items"]) == 1

    # The seller may not send the confirmation of its own allowance: BuyerId is not its UBN.
    wrong = post(client, issuer, "B0102", b0102(invoice, "ERP-AL-1", "2"))
    assert (wrong.status_code, result(wrong)["code"], result(wrong)["field"]) == (422, "PARTY_NOT_CALLER", "BuyerId")
    confirm = b0102(invoice, "ERP-AL-1", "2")
    assert post(client, buyer, "B0102", confirm).status_code == 200
    assert post(client, buyer, "B0102", confirm).status_code == 200  # a repeat applies nothing twice
    assert counted(issuer.ubn, buyer.ubn) == (105, 100)
    served = valid_xml(get(client, issuer, f"/v1/exchange/allowances/{aid}/messages/B0102"), "B0102")
    assert text(served, "m:Remark") == "同意"


def test_a_buyers_b0101_and_its_cancel_go_through_the_seller(client, issuer, buyer):
    _, invoice = confirmed_invoice(client, issuer, buyer)
    # AllowanceType 1: the buyer's own; the seller may not send it.
    refused = post(client, issuer, "B0101", b0101(invoice, "PO-9", allowance_type="1"))
    assert (result(refused)["code"], result(refused)["field"]) == ("PARTY_NOT_CALLER", "Main.Buyer.Identifier")
    assert post(client, buyer, "B0101", b0101(invoice, "PO-9", allowance_type="1")).status_code == 201
    assert post(client, issuer, "B0102", b0102(invoice, "PO-9", "1")).status_code == 200
    assert counted(issuer.ubn, buyer.ubn) == (105, 100)

    # The AllowanceType must be the allowance's: a B0201 saying the seller issued it is refused.
    mismatched = post(client, issuer, "B0201", b0201(invoice, "PO-9", "2"))
    assert (result(mismatched)["code"], result(mismatched)["field"]) == ("MESSAGE_DOES_NOT_MATCH", "AllowanceType")
    assert post(client, buyer, "B0201", b0201(invoice, "PO-9", "1")).status_code == 200
    assert counted(issuer.ubn, buyer.ubn) == (105, 100)
    early = post(client, buyer, "B0202", b0202(invoice, "PO-9", "1"))
    assert (result(early)["code"], result(early)["field"]) == ("PARTY_NOT_CALLER", "SellerId")
    assert post(client, issuer, "B0202", b0202(invoice, "PO-9", "1")).status_code == 200
    assert counted(issuer.ubn, buyer.ubn) == (0, 0)
    for message_type in ("B0101", "B0102", "B0201", "B0202"):
        served = valid_xml(
            get(client, buyer, f"/v1/exchange/allowances/{issuer.ubn}-ALW-PO-9/messages/{message_type}"), message_type
        )
        assert text(served, "m:Main/m:AllowanceType" if message_type == "B0101" else "m:AllowanceType") == "1"


def test_a_b0101_is_refused_on_figures_the_lines_do_not_give_and_on_an_unconfirmed_invoice(
    client, issuer, buyer, new_merchant
):
    _, invoice = confirmed_invoice(client, issuer, buyer)
    wrong_tax = post(client, issuer, "B0101", b0101(invoice, "X-1", allowance_type="2", tax=6))
    assert (wrong_tax.status_code, result(wrong_tax)["field"]) == (422, "Details.ProductItem[0].Tax")
    beyond = post(client, issuer, "B0101", b0101(invoice, "X-2", allowance_type="2", sales=1001, tax=50))
    assert (beyond.status_code, result(beyond)["code"]) == (422, "ALLOWANCE_EXCEEDS_INVOICE")
    stranger = new_merchant()
    foreign = post(client, stranger, "B0201", b0201(invoice, "X-3", "2"))
    assert result(foreign)["code"] == "PARTY_NOT_CALLER"

    from tests.api.test_exchange import issue

    unconfirmed = issue(client, issuer, buyer.ubn)
    early = post(client, issuer, "B0101", b0101(unconfirmed, "X-4", allowance_type="2"))
    assert (early.status_code, result(early)["code"], result(early)["field"]) == (
        409,
        "EXCHANGE_INVOICE_NOT_CONFIRMED",
        "Details.ProductItem[0].OriginalInvoiceNumber",
    )
    bad = post(client, issuer, "B0101", b0101(invoice, "X-5", allowance_type="2").replace(b"TaxAmount", b"TaxAmnt"))
    assert (bad.status_code, body_of(bad)["error"]["mof_code"]) == (400, "E0304")
    assert (
        body_of(get(client, issuer, f"/v1/exchange/{issuer.ubn}-{invoice['invoice_number']}/allowances"))["items"] == []
    )

"""Purchase lists over HTTP: what a second merchant issued to the first, as the MOF's E0502/E0503
lists (XML in their envelope, every document checked against the official XSDs) and as CSV."""

# ruff: noqa: F811 - fixtures imported from sibling test modules are parameters of these tests

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

import pytest
from lxml import etree

from chalicelib.api import deps
from chalicelib.documents.mig import parse_envelope
from chalicelib.documents.mig.schema import schema_for
from chalicelib.domain.period import TAIWAN_TZ
from chalicelib.services.purchase_lists import PurchaseLists
from tests.api.conftest import body_of, post_json
from tests.api.test_invoices import B2B, B2C_CARRIER, _period, issuer  # noqa: F401 - the issuer fixture

ENVELOPE = "{urn:GEINV:InvoiceEnvelope:4.1}"


def _to(buyer_ubn: str, price: str) -> dict[str, Any]:
    return {
        **B2B,
        "buyer": {"ubn": buyer_ubn, "name": "買方公司"},
        "items": [{"description": "辦公椅", "quantity": "1", "unit_price": price, "tax_type": "1"}],
    }


def _issue(client, seller, buyer_ubn: str, price: str) -> dict[str, Any]:
    response = post_json(client, "/v1/invoices", _to(buyer_ubn, price), seller.headers)
    assert response.status_code == 201, response.body
    return body_of(response)


def _allow(client, seller, number: str, price: str) -> dict[str, Any]:
    line = {"original_invoice_number": number, "description": "辦公椅折讓", "quantity": "1", "unit_price": price}
    response = post_json(client, "/v1/allowances", {"items": [{**line, "tax_type": "1"}]}, seller.headers)
    assert response.status_code == 201, response.body
    return body_of(response)


def _valid_documents(xml: bytes, code: str) -> list[Any]:
    """Every document of the envelope, after the envelope and each document validated on their own."""
    root = etree.fromstring(xml)
    envelope_schema = schema_for("InvoiceEnvelope")
    assert envelope_schema.validate(root), str(envelope_schema.error_log)
    pack = root.find(f"{ENVELOPE}InvoicePack")
    assert pack is not None and pack.get("messageType") == code and pack.get("count") == str(len(pack))
    for child in pack:
        document = etree.fromstring(etree.tostring(child))
        assert schema_for(code).validate(document), str(schema_for(code).error_log)
    return list(parse_envelope(xml, code).messages)


def _rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.body.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM
    return list(csv.DictReader(io.StringIO(response.body.decode("utf-8-sig"))))


@pytest.fixture
def purchases(client, staff_headers, issuer, new_merchant) -> dict[str, Any]:
    """Two sellers' sales to one buyer: invoices (one cancelled) and allowances (one cancelled)."""
    from tests.api.test_invoices import make_issuer

    buyer, stranger = new_merchant(), new_merchant()
    second = make_issuer(client, staff_headers, new_merchant)
    kept = _issue(client, issuer, buyer.ubn, "1050")
    cancelled = _issue(client, issuer, buyer.ubn, "2100")
    other_seller = _issue(client, second, buyer.ubn, "525")
    strangers = _issue(client, issuer, stranger.ubn, "315")
    post_json(client, "/v1/invoices", B2C_CARRIER, issuer.headers)  # a consumer's: nobody's purchase
    reason = "買受人要求退貨"
    response = post_json(
        client, f"/v1/invoices/{cancelled['invoice_number']}/cancel", {"reason": reason}, issuer.headers
    )
    assert response.status_code == 200, response.body
    allowed = _allow(client, issuer, kept["invoice_number"], "210")
    withdrawn = _allow(client, second, other_seller["invoice_number"], "105")
    response = post_json(
        client, f"/v1/allowances/{withdrawn['allowance_number']}/cancel", {"reason": "折讓金額錯誤"}, second.headers
    )
    assert response.status_code == 200, response.body
    return {
        "buyer": buyer,
        "stranger": stranger,
        "sellers": (issuer, second),
        "invoices": [kept, cancelled, other_seller],
        "cancelled": cancelled,
        "reason": reason,
        "allowances": [allowed, withdrawn],
        "strangers": strangers,
    }


def test_e0502_lists_every_received_invoice_with_the_cancelled_ones_cancel_part(client, purchases) -> None:
    buyer, period = purchases["buyer"], _period().code
    response = client.http.get(f"/v1/purchase-lists/{period}/invoices.xml", headers=buyer.headers)
    assert response.status_code == 200, response.body
    assert response.headers["Content-Type"].startswith("application/xml")
    assert response.headers["Content-Disposition"] == f'attachment; filename="E0502-{period}-{buyer.ubn}.xml"'
    assert (response.headers["X-List-Count"], response.headers["X-List-Parts"]) == ("3", "1")
    documents = _valid_documents(response.body, "E0502")

    issued = {i["invoice_number"]: i for i in purchases["invoices"]}
    assert sorted(d.main.invoice_number for d in documents) == sorted(issued)
    for document in documents:
        invoice = issued[document.main.invoice_number]
        assert (document.main.seller_id, document.main.buyer_id) == (invoice["seller"]["ubn"], buyer.ubn)
        amounts = invoice["amounts"]
        assert (document.amount.sales_amount, document.amount.tax_amount, document.amount.total_amount) == (
            amounts["sales_amount"],
            amounts["tax_amount"],
            amounts["total_amount"],
        )
        assert [item.description for item in document.details] == ["辦公椅"]
    by_number = {d.main.invoice_number: d for d in documents}
    cancelled = by_number[purchases["cancelled"]["invoice_number"]]
    assert cancelled.cancel is not None
    assert cancelled.cancel.cancel_reason == purchases["reason"]
    assert cancelled.cancel.cancel_date == datetime.now(TAIWAN_TZ).date()
    in_force = [d for d in documents if d is not cancelled]
    assert all(d.cancel is None for d in in_force)
    assert {d.main.current_status for d in in_force} != {cancelled.main.current_status}


def test_the_csv_has_one_row_per_invoice_with_the_issued_amounts(client, purchases) -> None:
    buyer, period = purchases["buyer"], _period().code
    rows = _rows(client.http.get(f"/v1/purchase-lists/{period}/invoices.csv", headers=buyer.headers))
    assert len(rows) == 3
    by_number = {row["發票號碼 / Invoice number"]: row for row in rows}
    for invoice in purchases["invoices"]:
        row = by_number[invoice["invoice_number"]]
        amounts = invoice["amounts"]
        assert row["期別 / Period"] == period
        assert row["賣方統一編號 / Seller UBN"] == invoice["seller"]["ubn"]
        assert row["買方統一編號 / Buyer UBN"] == buyer.ubn
        assert row["銷售額 / Sales amount"] == str(amounts["sales_amount"])
        assert row["稅額 / Tax amount"] == str(amounts["tax_amount"])
        assert row["總計 / Total amount"] == str(amounts["total_amount"])
    cancelled = by_number[purchases["cancelled"]["invoice_number"]]
    assert cancelled["狀態 / Status"] == "已作廢 / cancelled"
    assert cancelled["作廢原因 / Cancel reason"] == purchases["reason"]
    assert cancelled["作廢日期 / Cancel date"] == datetime.now(TAIWAN_TZ).date().isoformat()


def test_e0503_and_its_csv_list_the_received_allowances(client, purchases) -> None:
    buyer, period = purchases["buyer"], _period().code
    response = client.http.get(f"/v1/purchase-lists/{period}/allowances.xml", headers=buyer.headers)
    assert response.status_code == 200, response.body
    documents = _valid_documents(response.body, "E0503")
    issued = {a["allowance_number"]: a for a in purchases["allowances"]}
    # Both sellers may number allowances alike: a document is a seller's number.
    assert sorted((d.main.seller_id, d.main.allowance_number) for d in documents) == sorted(
        (a["seller"]["ubn"], a["allowance_number"]) for a in purchases["allowances"]
    )
    withdrawn = purchases["allowances"][1]
    for document in documents:
        allowance = next(
            a
            for a in purchases["allowances"]
            if (a["seller"]["ubn"], a["allowance_number"]) == (document.main.seller_id, document.main.allowance_number)
        )
        assert (document.amount.total_amount, document.amount.tax_amount) == (
            allowance["sales_amount"],
            allowance["tax_amount"],
        )
        assert [d.original_invoice_number for d in document.details] == [
            o["invoice_number"] for o in allowance["original_invoices"]
        ]
        cancelled = allowance is withdrawn
        assert (document.cancel is not None) is cancelled
        if cancelled:
            assert document.cancel.cancel_reason == "折讓金額錯誤"
    assert issued

    rows = _rows(client.http.get(f"/v1/purchase-lists/{period}/allowances.csv", headers=buyer.headers))
    assert len(rows) == 2
    for allowance in purchases["allowances"]:
        (row,) = [
            r
            for r in rows
            if (r["賣方統一編號 / Seller UBN"], r["折讓單號碼 / Allowance number"])
            == (allowance["seller"]["ubn"], allowance["allowance_number"])
        ]
        assert row["折讓金額（未稅） / Allowed amount before tax"] == str(allowance["sales_amount"])
        assert row["折讓稅額 / Tax allowed"] == str(allowance["tax_amount"])
        assert row["折讓合計（含稅） / Total allowed, tax included"] == str(allowance["total_amount"])
        assert row["原發票號碼 / Original invoice numbers"] == allowance["original_invoices"][0]["invoice_number"]
    statuses = sorted(r["狀態 / Status"] for r in rows)
    assert statuses == ["已作廢 / cancelled", "已開立 / issued"]


def test_each_merchant_sees_only_what_was_issued_to_it(client, purchases) -> None:
    period = _period().code
    stranger = purchases["stranger"]
    documents = _valid_documents(
        client.http.get(f"/v1/purchase-lists/{period}/invoices.xml", headers=stranger.headers).body, "E0502"
    )
    assert [d.main.invoice_number for d in documents] == [purchases["strangers"]["invoice_number"]]
    # Nothing was allowed to the stranger: no E0503 (an envelope cannot be empty), a header-only CSV.
    nothing = client.http.get(f"/v1/purchase-lists/{period}/allowances.xml", headers=stranger.headers)
    assert nothing.status_code == 404
    assert (body_of(nothing)["error"]["code"], body_of(nothing)["error"]["field"]) == ("NOTHING_RECEIVED", "period")
    assert _rows(client.http.get(f"/v1/purchase-lists/{period}/allowances.csv", headers=stranger.headers)) == []
    # The sellers' sales are not their purchases.
    for seller in purchases["sellers"]:
        assert _rows(client.http.get(f"/v1/purchase-lists/{period}/invoices.csv", headers=seller.headers)) == []
        assert client.http.get(f"/v1/purchase-lists/{period}/invoices.xml", headers=seller.headers).status_code == 404
    assert client.http.get(f"/v1/purchase-lists/{period}/invoices.csv").status_code == 401


@pytest.mark.parametrize("path", ["invoices.xml", "invoices.csv", "allowances.xml", "allowances.csv"])
@pytest.mark.parametrize("period", ["11411", "11413", "1141", "114120", "abcde", "00012"])
def test_a_bad_period_is_a_400_naming_it(client, new_merchant, path, period) -> None:
    merchant = new_merchant()
    response = client.http.get(f"/v1/purchase-lists/{period}/{path}", headers=merchant.headers)
    assert response.status_code == 400, response.body
    error = body_of(response)["error"]
    assert (error["code"], error["field"]) == ("INVALID_PERIOD", "period")
    assert error["message"] and error["message_zh"]


def test_part_chooses_a_file_and_is_checked(client, purchases) -> None:
    buyer, period = purchases["buyer"], _period().code
    url = f"/v1/purchase-lists/{period}/invoices.xml"
    assert client.http.get(f"{url}?part=1", headers=buyer.headers).status_code == 200
    beyond = client.http.get(f"{url}?part=2", headers=buyer.headers)
    assert beyond.status_code == 404 and body_of(beyond)["error"]["field"] == "part"
    for bad in ("0", "x", "-1"):
        refused = client.http.get(f"{url}?part={bad}", headers=buyer.headers)
        assert refused.status_code == 400 and body_of(refused)["error"]["field"] == "part"
    unknown = client.http.get(f"{url}?limit=5", headers=buyer.headers)
    assert unknown.status_code == 400


def test_the_list_pages_through_the_whole_index(client, purchases, monkeypatch) -> None:
    """One item a DynamoDB page: the list still holds every invoice and allowance of the period."""
    monkeypatch.setattr(
        deps,
        "purchase_lists",
        lambda: PurchaseLists(search=deps.invoice_search(), allowances=deps.allowances(), page_size=1),
    )
    buyer, period = purchases["buyer"], _period().code
    rows = _rows(client.http.get(f"/v1/purchase-lists/{period}/invoices.csv", headers=buyer.headers))
    assert sorted(r["發票號碼 / Invoice number"] for r in rows) == sorted(
        i["invoice_number"] for i in purchases["invoices"]
    )
    documents = _valid_documents(
        client.http.get(f"/v1/purchase-lists/{period}/allowances.xml", headers=buyer.headers).body, "E0503"
    )
    assert len(documents) == 2


def test_an_api_key_reads_the_lists_its_scope_allows(client, purchases) -> None:
    buyer, period = purchases["buyer"], _period().code
    created = post_json(client, "/v1/api-keys", {"name": "ERP 進項", "scopes": ["invoices:read"]}, buyer.headers)
    key = {"X-Api-Key": body_of(created)["api_key"]}
    assert len(_rows(client.http.get(f"/v1/purchase-lists/{period}/invoices.csv", headers=key))) == 3
    refused = client.http.get(f"/v1/purchase-lists/{period}/allowances.csv", headers=key)
    assert refused.status_code == 403

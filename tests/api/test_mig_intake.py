"""MIG 4.1 XML in (issue 7): F0401 with the merchant's next number, validated like the JSON API."""

# ruff: noqa: F811 - fixtures imported from sibling test modules are parameters of these tests

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.api import deps
from chalicelib.documents.mig import Allowance, CancelAllowance, CancelInvoice, Invoice, VoidInvoice, build_xml
from chalicelib.domain.period import TAIWAN_TZ
from tests.api.conftest import body_of
from tests.api.test_invoices import issuer  # noqa: F401 - the issuer fixture
from tests.api.test_no_server_errors import fuzz_merchant  # noqa: F401 - a merchant without booklets

F0401 = "/v1/mig/F0401"


def _xml(
    seller_ubn: str,
    number: str,
    *,
    total: int = 130,
    random_number: str | None = "1234",
    at: tuple[date, time] | None = None,
    carrier_id: str = "/ABC+123",
) -> bytes:
    now = datetime.now(TAIWAN_TZ)
    invoice_date, invoice_time = at or (now.date(), now.time().replace(microsecond=0))
    message = Invoice.from_data(
        {
            "main": {
                "invoice_number": number,
                "invoice_date": invoice_date,
                "invoice_time": invoice_time,
                "seller": {"identifier": seller_ubn, "name": "測試商行", "address": "臺北市中正區重慶南路一段 2 號"},
                "buyer": {"identifier": "0000000000", "name": "消費者"},
                "invoice_type": "07",
                "donate_mark": "0",
                "carrier_type": "3J0002",
                "carrier_id1": carrier_id,
                "carrier_id2": carrier_id,
                "print_mark": "N",
                "random_number": random_number,
            },
            "details": [
                {
                    "description": "拿鐵咖啡",
                    "quantity": "2",
                    "unit": "杯",
                    "unit_price": "65",
                    "tax_type": "1",
                    "amount": "130",
                    "sequence_number": "1",
                }
            ],
            "amount": {
                "sales_amount": 130,
                "free_tax_sales_amount": 0,
                "zero_tax_sales_amount": 0,
                "tax_type": "1",
                "tax_rate": Decimal("0.05"),
                "tax_amount": 0,
                "total_amount": total,
            },
        }
    )
    return build_xml(message)


def _post(client, headers, body: bytes, path: str = F0401):
    return client.http.post(path, headers={"Content-Type": "application/xml", **headers}, body=body)


def test_f0401_with_the_next_number_is_issued(client, issuer):
    number = f"{issuer.track}{issuer.begin:08d}"  # the online channel's next number
    response = _post(client, issuer.key_headers, _xml(issuer.ubn, number))
    assert response.status_code == 201, response.body
    assert body_of(response) == {
        "message_type": "F0401",
        "results": [{"invoice_number": number, "status": "accepted"}],
    }
    invoice = body_of(client.http.get(f"/v1/invoices/{number}", headers=issuer.headers))
    assert invoice["random_number"] == "1234"  # the ERP printed it; it is kept
    assert invoice["amounts"]["total_amount"] == 130
    assert invoice["carrier"] == {"type": "3J0002", "id": "/ABC+123"}
    assert invoice["channel"] == "online"
    # The same message again (the ERP missed the answer): the same invoice, nothing new issued.
    again = _post(client, issuer.key_headers, _xml(issuer.ubn, number))
    assert again.status_code == 200, again.body
    assert body_of(again)["results"] == [{"invoice_number": number, "status": "accepted"}]
    # Different content under the used number is refused.
    changed = _post(client, issuer.key_headers, _xml(issuer.ubn, number, random_number="9999"))
    assert changed.status_code == 409
    assert body_of(changed)["results"][0]["field"] == "Main.InvoiceNumber"
    other_item = _xml(issuer.ubn, number).replace("拿鐵咖啡".encode(), "美式咖啡".encode())
    assert body_of(_post(client, issuer.key_headers, other_item))["results"][0]["code"] == "NUMBER_ALREADY_USED"
    # The following number continues the booklet.
    following = f"{issuer.track}{issuer.begin + 1:08d}"
    assert _post(client, issuer.key_headers, _xml(issuer.ubn, following, random_number=None)).status_code == 201


def test_refused_messages(client, issuer, new_merchant):
    number = f"{issuer.track}{issuer.begin:08d}"
    skipped = _post(client, issuer.key_headers, _xml(issuer.ubn, f"{issuer.track}{issuer.begin + 5:08d}"))
    assert skipped.status_code == 409
    result = body_of(skipped)["results"][0]
    assert (result["status"], result["code"], result["field"]) == ("rejected", "NOT_NEXT_NUMBER", "Main.InvoiceNumber")
    assert result["reason_zh"]

    other = new_merchant()
    wrong_seller = _post(client, issuer.key_headers, _xml(other.ubn, number))
    assert wrong_seller.status_code == 422
    assert body_of(wrong_seller)["results"][0]["field"] == "Main.Seller.Identifier"
    # Another merchant posting this merchant's message (its own UBN is not the seller): refused.
    assert _post(client, other.headers, _xml(issuer.ubn, number)).status_code == 422

    wrong_total = _post(client, issuer.key_headers, _xml(issuer.ubn, number, total=131))
    assert wrong_total.status_code == 422
    assert body_of(wrong_total)["results"][0]["field"] == "Amount.TotalAmount"

    malformed = _post(client, issuer.key_headers, b"<Invoice><Main>")
    assert malformed.status_code == 400
    schema = _post(client, issuer.key_headers, _xml(issuer.ubn, number).replace(b"<Name>", b"<Nam>", 1))
    assert schema.status_code == 400
    assert body_of(schema)["error"]["code"].startswith("MIG_")
    # Seller is an xsd:sequence in the official F0401.xsd (Main itself is xsd:all, any order):
    # Name before Identifier is refused by the schema, naming the element (E0304, format).
    swapped = _xml(issuer.ubn, number).replace(
        f"<Identifier>{issuer.ubn}</Identifier><Name>測試商行</Name>".encode(),
        f"<Name>測試商行</Name><Identifier>{issuer.ubn}</Identifier>".encode(),
    )
    order = _post(client, issuer.key_headers, swapped)
    assert order.status_code == 400
    assert body_of(order)["error"] | {"message": "", "message_zh": ""} == {
        "code": "MIG_SCHEMA_FORMAT",
        "mof_code": "E0304",
        "field": "Main.Seller.Name",
        "message": "",
        "message_zh": "",
    }

    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE Invoice [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<Invoice xmlns="urn:GEINV:eInvoiceMessage:F0401:4.1">'
        b"<Main><InvoiceNumber>&x;</InvoiceNumber></Main></Invoice>"
    )
    refused = _post(client, issuer.key_headers, xxe)
    assert refused.status_code == 400
    assert "root:" not in refused.body.decode()

    assert _post(client, issuer.key_headers, b"").status_code == 400
    assert _post(client, issuer.key_headers, _xml(issuer.ubn, number), "/v1/mig/E9999").status_code == 404
    assert _post(client, issuer.key_headers, b"<x/>", "/v1/mig/F0701").status_code == 400
    assert _post(client, {}, _xml(issuer.ubn, number)).status_code == 401
    # Nothing above took a number: the next one is still the first.
    assert _post(client, issuer.key_headers, _xml(issuer.ubn, number)).status_code == 201


def _cancel_xml(seller_ubn: str, number: str, invoice_date, buyer_id: str = "0000000000") -> bytes:
    now = datetime.now(TAIWAN_TZ)
    return build_xml(
        CancelInvoice.from_data(
            {
                "cancel_invoice_number": number,
                "invoice_date": invoice_date,
                "buyer_id": buyer_id,
                "seller_id": seller_ubn,
                "cancel_date": now.date(),
                "cancel_time": now.time().replace(microsecond=0),
                "cancel_reason": "買受人要求退貨",
            }
        )
    )


def test_f0501_cancels_through_the_json_rules(client, issuer, new_merchant):
    number = f"{issuer.track}{issuer.begin:08d}"
    assert _post(client, issuer.key_headers, _xml(issuer.ubn, number)).status_code == 201
    today = datetime.now(TAIWAN_TZ).date()
    cancel = "/v1/mig/F0501"
    other = new_merchant()
    # Another merchant cannot cancel it, whether it names itself or the real seller.
    assert _post(client, other.headers, _cancel_xml(other.ubn, number, today), cancel).status_code == 404
    assert _post(client, other.headers, _cancel_xml(issuer.ubn, number, today), cancel).status_code == 422
    wrong_buyer = _post(client, issuer.key_headers, _cancel_xml(issuer.ubn, number, today, "12345675"), cancel)
    assert wrong_buyer.status_code == 422
    assert body_of(wrong_buyer)["results"][0]["field"] == "BuyerId"
    done = _post(client, issuer.key_headers, _cancel_xml(issuer.ubn, number, today), cancel)
    assert done.status_code == 200, done.body
    assert body_of(done)["results"] == [{"invoice_number": number, "status": "accepted"}]
    invoice = body_of(client.http.get(f"/v1/invoices/{number}", headers=issuer.headers))
    assert invoice["status"] == "cancelled"
    twice = _post(client, issuer.key_headers, _cancel_xml(issuer.ubn, number, today), cancel)
    assert twice.status_code in (409, 422)
    assert body_of(twice)["results"][0]["status"] == "rejected"


def test_g0501_of_an_unknown_allowance_is_rejected(client, issuer):
    now = datetime.now(TAIWAN_TZ)
    xml = build_xml(
        CancelAllowance.from_data(
            {
                "cancel_allowance_number": "NOPE1",
                "allowance_type": "2",
                "allowance_date": now.date(),
                "buyer_id": "0000000000",
                "seller_id": issuer.ubn,
                "cancel_date": now.date(),
                "cancel_time": now.time().replace(microsecond=0),
                "cancel_reason": "折讓錯誤",
            }
        )
    )
    response = _post(client, issuer.key_headers, xml, "/v1/mig/G0501")
    assert response.status_code == 404, response.body
    assert body_of(response)["results"][0]["status"] == "rejected"


def _allowance_xml(
    seller_ubn: str, invoice_number: str, *, number: str = "AL0001", tax: int = 5, tax_amount: int = 5
) -> bytes:
    today = datetime.now(TAIWAN_TZ).date()
    return build_xml(
        Allowance.from_data(
            {
                "main": {
                    "allowance_number": number,
                    "allowance_date": today,
                    "seller": {
                        "identifier": seller_ubn,
                        "name": "測試商行",
                        "address": "臺北市中正區重慶南路一段 2 號",
                    },
                    "buyer": {"identifier": "0000000000", "name": "消費者"},
                    "allowance_type": "2",
                },
                "details": [
                    {
                        "original_invoice_date": today,
                        "original_invoice_number": invoice_number,
                        "original_sequence_number": "1",
                        "original_description": "拿鐵咖啡",
                        "quantity": "1",
                        "unit": "杯",
                        "unit_price": "100",
                        "amount": "100",
                        "tax": tax,
                        "allowance_sequence_number": "1",
                        "tax_type": "1",
                    }
                ],
                "amount": {"tax_amount": tax_amount, "total_amount": 100},
            }
        )
    )


def test_g0401_issues_an_allowance_once(client, issuer, new_merchant):
    number = f"{issuer.track}{issuer.begin:08d}"
    assert _post(client, issuer.key_headers, _xml(issuer.ubn, number)).status_code == 201
    g0401 = "/v1/mig/G0401"
    # The platform recomputes: a tax total or a line tax other than its own is refused, naming it.
    wrong_total = _post(client, issuer.key_headers, _allowance_xml(issuer.ubn, number, tax_amount=6), g0401)
    assert wrong_total.status_code == 422, wrong_total.body
    assert body_of(wrong_total)["results"][0]["field"] == "Amount.TaxAmount"
    wrong_line = _post(client, issuer.key_headers, _allowance_xml(issuer.ubn, number, tax=4, tax_amount=4), g0401)
    assert body_of(wrong_line)["results"][0]["field"] == "Details.ProductItem[0].Tax"
    other = new_merchant()
    wrong_seller = _post(client, issuer.key_headers, _allowance_xml(other.ubn, number), g0401)
    assert wrong_seller.status_code == 422
    assert body_of(wrong_seller)["results"][0]["field"] == "Main.Seller.Identifier"
    # Another merchant cannot reduce this merchant's invoice.
    assert _post(client, other.headers, _allowance_xml(other.ubn, number), g0401).status_code == 404

    done = _post(client, issuer.key_headers, _allowance_xml(issuer.ubn, number), g0401)
    assert done.status_code == 201, done.body
    assert body_of(done) == {"message_type": "G0401", "results": [{"invoice_number": "AL0001", "status": "accepted"}]}
    allowance = body_of(client.http.get("/v1/allowances/AL0001", headers=issuer.headers))
    assert (allowance["sales_amount"], allowance["tax_amount"], allowance["total_amount"]) == (100, 5, 105)
    # The ERP sends the same message again: the same allowance, nothing more taken off the invoice.
    again = _post(client, issuer.key_headers, _allowance_xml(issuer.ubn, number), g0401)
    assert again.status_code == 200, again.body
    assert body_of(again)["results"] == [{"invoice_number": "AL0001", "status": "accepted"}]
    # Other content under the used number is refused.
    changed = _allowance_xml(issuer.ubn, number).replace("拿鐵咖啡".encode(), "美式咖啡".encode())
    taken = _post(client, issuer.key_headers, changed, g0401)
    assert taken.status_code == 409
    assert body_of(taken)["results"][0]["field"] == "Main.AllowanceNumber"


def _void_xml(seller_ubn: str, number: str, invoice_date) -> bytes:
    now = datetime.now(TAIWAN_TZ)
    return build_xml(
        VoidInvoice.from_data(
            {
                "void_invoice_number": number,
                "invoice_date": invoice_date,
                "buyer_id": "0000000000",
                "seller_id": seller_ubn,
                "void_date": now.date(),
                "void_time": now.time().replace(microsecond=0),
                "void_reason": "補登載具",
            }
        )
    )


def test_f0701_then_f0401_reissues_the_same_number(client, issuer, new_merchant):
    number = f"{issuer.track}{issuer.begin:08d}"
    assert _post(client, issuer.key_headers, _xml(issuer.ubn, number)).status_code == 201
    original = body_of(client.http.get(f"/v1/invoices/{number}", headers=issuer.headers))
    at = (date.fromisoformat(original["invoice_date"]), time.fromisoformat(original["invoice_time"]))
    replacement = _xml(issuer.ubn, number, random_number="5678", at=at, carrier_id="/XYZ+789")
    # Without an F0701 first, the number is simply used.
    assert _post(client, issuer.key_headers, replacement).status_code == 409

    other = new_merchant()
    assert _post(client, other.headers, _void_xml(other.ubn, number, at[0]), "/v1/mig/F0701").status_code == 404
    void = _post(client, issuer.key_headers, _void_xml(issuer.ubn, number, at[0]), "/v1/mig/F0701")
    assert void.status_code == 202, void.body
    assert body_of(void)["results"] == [{"invoice_number": number, "status": "awaiting_replacement"}]
    # The replacement keeps the items and amounts: other goods are refused, naming the field.
    other_item = replacement.replace("拿鐵咖啡".encode(), "美式咖啡".encode())
    refused = _post(client, issuer.key_headers, other_item)
    assert refused.status_code == 422
    assert body_of(refused)["results"][0]["field"] == "Details.ProductItem[0].Description"

    done = _post(client, issuer.key_headers, replacement)
    assert done.status_code == 201, done.body
    assert body_of(done)["results"] == [{"invoice_number": number, "status": "accepted"}]
    invoice = body_of(client.http.get(f"/v1/invoices/{number}", headers=issuer.headers))
    assert (invoice["invoice_date"], invoice["invoice_time"]) == (original["invoice_date"], original["invoice_time"])
    assert invoice["random_number"] == "5678" != original["random_number"]
    assert invoice["carrier"] == {"type": "3J0002", "id": "/XYZ+789"}
    assert invoice["status"] == "issued"
    # The replacement again (the ERP missed the answer): the same answer; the void is spent.
    assert _post(client, issuer.key_headers, replacement).status_code == 200
    again = _xml(issuer.ubn, number, random_number="4321", at=at, carrier_id="/QQQ+000")
    assert _post(client, issuer.key_headers, again).status_code == 409


def test_f0701_outside_the_void_window_is_refused(client, issuer, monkeypatch):
    from tests.api.test_invoice_lifecycle import ShiftedClock

    number = f"{issuer.track}{issuer.begin:08d}"
    assert _post(client, issuer.key_headers, _xml(issuer.ubn, number)).status_code == 201
    today = datetime.now(TAIWAN_TZ).date()
    monkeypatch.setattr(deps, "rules_clock", lambda: ShiftedClock(timedelta(hours=49)))
    late = _post(client, issuer.key_headers, _void_xml(issuer.ubn, number, today), "/v1/mig/F0701")
    assert late.status_code == 422, late.body
    result = body_of(late)["results"][0]
    assert (result["code"], result["field"]) == ("VOID_WINDOW_PASSED", "VoidInvoiceNumber")


def test_a_number_taken_by_a_race_is_refused_not_moved(client, issuer, monkeypatch):
    from chalicelib.adapters.dynamo_tracks import DynamoTracks
    from chalicelib.api import deps
    from chalicelib.services.numbering import NumberingService
    from tests.api.test_invoices import B2C_CARRIER

    raced: list[str] = []

    def another_till_first(_number):
        # Another writer on the same channel commits between our read of the counter and our write.
        if raced:
            return
        plain = NumberingService(tracks=DynamoTracks(), clock=deps.clock)
        service = deps.invoicing_service(numbering=plain)
        raced.append(service.issue(issuer.ubn, B2C_CARRIER, channel="online", actor="test").record.invoice_number)

    monkeypatch.setattr(
        deps,
        "numbering_service",
        lambda: NumberingService(tracks=DynamoTracks(), clock=deps.clock, before_commit=another_till_first),
    )
    number = f"{issuer.track}{issuer.begin:08d}"
    response = _post(client, issuer.key_headers, _xml(issuer.ubn, number))
    assert raced == [number]
    assert response.status_code == 409, response.body
    assert body_of(response)["results"][0]["code"] == "NOT_NEXT_NUMBER"
    following = f"{issuer.track}{issuer.begin + 1:08d}"
    assert client.http.get(f"/v1/invoices/{following}", headers=issuer.headers).status_code == 404


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    message_type=st.sampled_from(["F0401", "F0501", "F0701", "G0401", "G0501", "G0701", "X"]),
    body=st.binary(max_size=300) | st.text(max_size=300).map(str.encode),
)
def test_any_body_is_answered_without_a_server_error(client, fuzz_merchant, message_type, body):
    response = client.http.post(
        f"/v1/mig/{message_type}", headers={"Content-Type": "application/xml", **fuzz_merchant}, body=body
    )
    assert response.status_code < 500, response.body

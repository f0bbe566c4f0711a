"""G0701 then G0401 as MIG 4.1 XML: an allowance voided (註銷) and re-issued under its number, the
Turnkey way, through the same rules and the one transaction of POST /v1/allowances/{n}/void."""

# ruff: noqa: F811 - fixtures imported from sibling test modules are parameters of these tests

from __future__ import annotations

from datetime import date, datetime

from chalicelib.documents.mig import VoidAllowance, build_xml
from chalicelib.documents.mig.schema import check_message
from chalicelib.domain.period import TAIWAN_TZ
from tests.api.conftest import body_of
from tests.api.test_invoices import issuer  # noqa: F401 - the issuer fixture
from tests.api.test_mig_intake import _allowance_xml, _post, _xml

G0401, G0701 = "/v1/mig/G0401", "/v1/mig/G0701"


def _g0701(seller_ubn: str, number: str, *, allowance_date: date | None = None, buyer: str = "0000000000") -> bytes:
    now = datetime.now(TAIWAN_TZ)
    xml = build_xml(
        VoidAllowance.from_data(
            {
                "void_allowance_number": number,
                "allowance_type": "2",
                "allowance_date": allowance_date or now.date(),
                "buyer_id": buyer,
                "seller_id": seller_ubn,
                "void_date": now.date(),
                "void_time": now.time().replace(microsecond=0),
                "void_reason": "折讓金額錯誤",
            }
        )
    )
    check_message("G0701", xml)  # what the test sends is itself a valid official G0701
    return xml


def _corrected(seller_ubn: str, invoice: str, number: str) -> bytes:
    """The G0401 of the correction: 60 before tax (3 tax) instead of 100 (5)."""
    xml = (
        _allowance_xml(seller_ubn, invoice, number=number, tax=3, tax_amount=3)
        .replace(b"<UnitPrice>100</UnitPrice>", b"<UnitPrice>60</UnitPrice>")
        .replace(b"<Amount>100</Amount>", b"<Amount>60</Amount>")
        .replace(b"<TotalAmount>100</TotalAmount>", b"<TotalAmount>60</TotalAmount>")
    )
    check_message("G0401", xml)
    return xml


def _remaining(client, who, invoice: str) -> tuple[int, int]:
    body = body_of(client.http.get(f"/v1/invoices/{invoice}", headers=who.headers))
    return body["allowance_remaining"], body["allowance_count"]


def test_g0701_then_g0401_re_issues_the_allowance_with_the_new_lines(client, issuer, new_merchant):
    invoice = f"{issuer.track}{issuer.begin:08d}"
    assert _post(client, issuer.key_headers, _xml(issuer.ubn, invoice)).status_code == 201  # NT$130
    assert (
        _post(client, issuer.key_headers, _allowance_xml(issuer.ubn, invoice, number="ALV01"), G0401).status_code == 201
    )
    assert _remaining(client, issuer, invoice) == (25, 1)  # 130 - 105

    other = new_merchant()
    assert _post(client, other.headers, _g0701(other.ubn, "ALV01"), G0701).status_code == 404
    wrong_buyer = _post(client, issuer.key_headers, _g0701(issuer.ubn, "ALV01", buyer="04595257"), G0701)
    assert wrong_buyer.status_code == 422 and body_of(wrong_buyer)["results"][0]["field"] == "BuyerId"

    void = _post(client, issuer.key_headers, _g0701(issuer.ubn, "ALV01"), G0701)
    assert void.status_code == 202, void.body
    assert body_of(void)["results"] == [{"invoice_number": "ALV01", "status": "awaiting_replacement"}]
    # Nothing moves until the G0401 comes.
    assert _remaining(client, issuer, invoice) == (25, 1)

    reissued = _post(client, issuer.key_headers, _corrected(issuer.ubn, invoice, "ALV01"), G0401)
    assert reissued.status_code == 201, reissued.body
    allowance = body_of(client.http.get("/v1/allowances/ALV01", headers=issuer.headers))
    assert (allowance["sales_amount"], allowance["tax_amount"], allowance["void_count"]) == (60, 3, 1)
    assert allowance["void_reason"] == "折讓金額錯誤"
    assert _remaining(client, issuer, invoice) == (130 - 63, 1)
    # The ERP sends the replacement again: the same allowance, nothing taken twice.
    again = _post(client, issuer.key_headers, _corrected(issuer.ubn, invoice, "ALV01"), G0401)
    assert again.status_code == 200, again.body
    assert _remaining(client, issuer, invoice) == (67, 1)


def test_g0701_of_a_cancelled_or_unknown_allowance_is_refused(client, issuer):
    invoice = f"{issuer.track}{issuer.begin:08d}"
    assert _post(client, issuer.key_headers, _xml(issuer.ubn, invoice)).status_code == 201
    assert (
        _post(client, issuer.key_headers, _allowance_xml(issuer.ubn, invoice, number="ALV02"), G0401).status_code == 201
    )
    cancel = client.http.post(
        "/v1/allowances/ALV02/cancel",
        headers={"Content-Type": "application/json", **issuer.headers},
        body='{"reason": "取消"}',
    )
    assert cancel.status_code == 200, cancel.body
    refused = _post(client, issuer.key_headers, _g0701(issuer.ubn, "ALV02"), G0701)
    assert refused.status_code == 409, refused.body
    result = body_of(refused)["results"][0]
    assert (result["status"], result["code"], result["field"]) == (
        "rejected",
        "ALLOWANCE_NOT_ISSUED",
        "VoidAllowanceNumber",
    )
    unknown = _post(client, issuer.key_headers, _g0701(issuer.ubn, "NOSUCH"), G0701)
    assert unknown.status_code == 404


def test_a_g0701_spent_by_a_json_void_does_not_re_issue_again(client, issuer):
    invoice = f"{issuer.track}{issuer.begin:08d}"
    assert _post(client, issuer.key_headers, _xml(issuer.ubn, invoice)).status_code == 201
    assert (
        _post(client, issuer.key_headers, _allowance_xml(issuer.ubn, invoice, number="ALV03"), G0401).status_code == 201
    )
    assert _post(client, issuer.key_headers, _g0701(issuer.ubn, "ALV03"), G0701).status_code == 202
    json_void = client.http.post(
        "/v1/allowances/ALV03/void",
        headers={"Content-Type": "application/json", **issuer.headers},
        body=(
            '{"reason": "改單價", "replacement": {"prices_include_tax": false, "items": [{"original_invoice_number": "'
            + invoice
            + '", "description": "拿鐵咖啡", "quantity": "1", "unit_price": "80", "tax_type": "1"}]}}'
        ),
    )
    assert json_void.status_code == 200, json_void.body
    late = _post(client, issuer.key_headers, _corrected(issuer.ubn, invoice, "ALV03"), G0401)
    assert late.status_code == 409, late.body
    assert body_of(client.http.get("/v1/allowances/ALV03", headers=issuer.headers))["sales_amount"] == 80

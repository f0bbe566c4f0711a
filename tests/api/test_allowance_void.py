"""Void and re-issue of an allowance (註銷重開, G0701 then the corrected G0401) over HTTP: the
amounts move back and forth in one transaction, the documents come through the outbox and
validate against the MOF's schemas, and the rules refuse what they must."""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamo_allowances import DynamoAllowances
from chalicelib.documents.mig import parse_xml
from chalicelib.documents.mig.schema import check_message
from tests.api.conftest import body_of, post_json
from tests.api.test_allowances import (
    _allow,
    _deliver,
    _invoice,
    _line,
    _mailed_allowance,
    _mails_to,
    _remaining,
    _s3_object,
    _totals,
    issuer,  # noqa: F401 - fixture
    mailing_issuer,  # noqa: F401 - fixture
)


def _void(client, who, number: str, *lines: dict[str, Any], reason: str = "金額開錯", **extra: Any) -> Any:
    body = {"reason": reason, "replacement": {"items": list(lines), **extra}}
    return post_json(client, f"/v1/allowances/{number}/void", body, who.headers)


def test_a_void_re_issues_the_allowance_under_its_number_and_moves_the_amounts_once(client, issuer):  # noqa: F811
    invoice = _invoice(client, issuer)  # NT$1,380 tax included
    allowance = body_of(_allow(client, issuer, _line(invoice, "1050")))
    number = allowance["allowance_number"]
    before = _totals(issuer)

    response = _void(client, issuer, number, _line(invoice, "420"))
    assert response.status_code == 200, response.body
    body = body_of(response)
    assert (body["allowance_number"], body["allowance_date"]) == (number, allowance["allowance_date"])
    # 420 tax included at 5%: 400 + 20.
    assert (body["sales_amount"], body["tax_amount"], body["total_amount"]) == (400, 20, 420)
    assert (body["status"], body["void_count"], body["void_reason"]) == ("issued", 1, "金額開錯")
    assert [h["event"] for h in body["history"]] == ["issued", "voided", "reissued"]
    # 1,050 given back and 420 taken: 1,380 - 420 remains, one allowance in force.
    assert _remaining(issuer, invoice) == (960, 1)
    after = _totals(issuer)
    assert after["allowance_count"] == before["allowance_count"]
    assert after["allowance_sales"] - before["allowance_sales"] == 400 - 1000
    assert after["allowance_tax"] - before["allowance_tax"] == 20 - 50
    history = body_of(client.http.get(f"/v1/invoices/{invoice}", headers=issuer.headers))["history"]
    assert [h["event"] for h in history][-3:] == ["allowance", "allowance_voided", "allowance"]


def test_the_outbox_writes_the_g0701_then_the_new_g0401_and_pdf_and_mails_the_correction(
    client,
    local_aws,
    mailing_issuer,  # noqa: F811
):
    from email.header import decode_header, make_header

    address = "ap-void@example.com"
    invoice, number = _mailed_allowance(client, mailing_issuer, address)
    _deliver(client, mailing_issuer.ubn, number)
    assert _void(client, mailing_issuer, number, _line(invoice, "210"), reason="單價誤植").status_code == 200
    _deliver(client, mailing_issuer.ubn, number, "allowance_voided")
    stored = DynamoAllowances().get(mailing_issuer.ubn, number) or {}
    assert stored["artifacts_pending"] is False
    g0701 = _s3_object(stored["artifacts"]["g0701_xml"])
    check_message("G0701", g0701)  # the MOF's own schema
    voided = parse_xml("G0701", g0701)
    assert (voided.void_allowance_number, voided.void_reason, voided.seller_id) == (  # type: ignore[attr-defined]
        number,
        "單價誤植",
        mailing_issuer.ubn,
    )
    g0401 = _s3_object(stored["artifacts"]["g0401_xml"])
    check_message("G0401", g0401)
    assert parse_xml("G0401", g0401).amount.total_amount == 200  # type: ignore[attr-defined]
    assert _s3_object(stored["artifacts"]["allowance_pdf"]).startswith(b"%PDF")
    subjects = [str(make_header(decode_header(m["Subject"]))) for m in _mails_to(local_aws, address)]
    assert len(subjects) == 2 and "更正" in subjects[1]


def test_a_cancelled_allowance_cannot_be_voided(client, issuer):  # noqa: F811
    invoice = _invoice(client, issuer)
    number = body_of(_allow(client, issuer, _line(invoice, "105")))["allowance_number"]
    assert post_json(client, f"/v1/allowances/{number}/cancel", {"reason": "取消"}, issuer.headers).status_code == 200
    refused = _void(client, issuer, number, _line(invoice, "50"))
    assert refused.status_code == 409, refused.body
    error = body_of(refused)["error"]
    assert error["code"] == "ALLOWANCE_NOT_ISSUED" and error["field"] == "allowance_number"
    assert error["message_zh"] and error["message"]
    assert _remaining(issuer, invoice) == (1380, 0)


def test_a_correction_beyond_the_invoice_is_refused_and_changes_nothing(client, issuer):  # noqa: F811
    invoice = _invoice(client, issuer)
    number = body_of(_allow(client, issuer, _line(invoice, "1000")))["allowance_number"]
    refused = _void(client, issuer, number, _line(invoice, "1381"))
    assert refused.status_code == 422, refused.body
    assert body_of(refused)["error"]["code"] == "ALLOWANCE_EXCEEDS_INVOICE"
    assert _remaining(issuer, invoice) == (380, 1)
    assert body_of(client.http.get(f"/v1/allowances/{number}", headers=issuer.headers))["void_count"] == 0
    # The whole invoice may be taken, the voided version's 1,000 included.
    assert _void(client, issuer, number, _line(invoice, "1380")).status_code == 200
    assert _remaining(issuer, invoice) == (0, 1)


def test_bad_input_names_the_field(client, issuer):  # noqa: F811
    invoice = _invoice(client, issuer)
    number = body_of(_allow(client, issuer, _line(invoice, "105")))["allowance_number"]
    blank = _void(client, issuer, number, _line(invoice, "50"), reason="  ")
    assert blank.status_code in (400, 422) and body_of(blank)["error"]["field"] == "reason"
    none = post_json(
        client, f"/v1/allowances/{number}/void", {"reason": "x", "replacement": {"items": []}}, issuer.headers
    )
    assert none.status_code in (400, 422) and body_of(none)["error"]["field"].startswith("replacement.items")


def test_another_merchants_allowance_is_not_found(client, issuer, new_merchant):  # noqa: F811
    invoice = _invoice(client, issuer)
    number = body_of(_allow(client, issuer, _line(invoice, "105")))["allowance_number"]
    other = new_merchant()
    refused = _void(client, other, number, _line(invoice, "50"))
    assert refused.status_code == 404, refused.body
    assert _remaining(issuer, invoice) == (1275, 1)

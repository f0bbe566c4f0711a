"""After issuing: cancel (作廢, F0501), void and re-issue (註銷重開, F0701 + F0401), send again."""

from __future__ import annotations

import email
import json
import secrets
import urllib.request
from datetime import datetime, timedelta
from email.message import Message

import pytest
from lxml import etree

from chalicelib.adapters.dynamo import dynamodb, key
from chalicelib.adapters.dynamo_invoices import DynamoInvoices, invoice_sort_key, invoices_table, owner
from chalicelib.adapters.s3_artifacts import S3Artifacts
from chalicelib.api import deps
from chalicelib.domain.artifacts import ArtifactKind
from chalicelib.domain.period import TAIWAN_TZ
from tests.api.conftest import body_of, post_json
from tests.api.test_invoices import B2C_CARRIER, issuer  # noqa: F401 - the fixture is shared
from tests.outbox_stream import deliver
from tests.unit.documents.test_pdf import pdf_tools, text_of  # noqa: F401 - pdf_tools checks poppler is there

F0401 = "{urn:GEINV:eInvoiceMessage:F0401:4.1}"
F0501 = "{urn:GEINV:eInvoiceMessage:F0501:4.1}"
F0701 = "{urn:GEINV:eInvoiceMessage:F0701:4.1}"


class ShiftedClock:
    """The real clock moved by ``delta``: a deadline passes without waiting for it."""

    def __init__(self, delta: timedelta) -> None:
        self.delta = delta

    def now(self) -> datetime:
        return datetime.now(TAIWAN_TZ) + self.delta


def _moto_mails(local_aws, address: str) -> list[Message]:
    with urllib.request.urlopen(f"{local_aws.moto.endpoint}/moto-api/data.json", timeout=5) as response:  # noqa: S310
        state = json.loads(response.read())
    raw = [m for m in state["ses"]["RawMessage"] if address in (m.get("destinations") or [])]
    return [email.message_from_string(m["raw_data"]) for m in raw]


def _subject(message: Message) -> str:
    return str(email.header.make_header(email.header.decode_header(message["Subject"])))


def _deliver(client, ubn: str, number: str, event: str) -> None:
    deliver(client, ubn, number, event)


def _mailbox() -> str:
    return f"buyer-{secrets.token_hex(6)}@example.com"


@pytest.fixture
def merchant(client, issuer):  # noqa: F811
    client.http.patch(
        "/v1/merchant",
        headers={"Content-Type": "application/json", **issuer.headers},
        body=json.dumps({"settings": {"email_buyer": True, "sms_buyer": True}}),
    )
    return issuer


def _issue(client, merchant, to: str, **changes) -> dict:
    payload = {**B2C_CARRIER, "buyer": {"name": "陳小姐", "email": to}, **changes}
    response = post_json(client, "/v1/invoices", payload, merchant.headers)
    assert response.status_code == 201, response.body
    return body_of(response)


def _totals(merchant, invoice) -> dict:
    return DynamoInvoices().totals(merchant.ubn, invoice["period"], invoice["invoice_type"]) or {}


def _xml(merchant, invoice, kind: ArtifactKind) -> etree._Element:
    body = S3Artifacts().get(merchant.ubn, invoice["period"], invoice["invoice_number"], kind)
    return etree.fromstring(body)


# --- cancel ---------------------------------------------------------------------------------------


def test_cancel_end_to_end(client, local_aws, merchant, tmp_path):
    to = _mailbox()
    invoice = _issue(client, merchant, to)
    number = invoice["invoice_number"]
    _deliver(client, merchant.ubn, number, "issued")
    issued_proof = S3Artifacts().get(merchant.ubn, invoice["period"], number, ArtifactKind.PROOF_PDF)
    before = _totals(merchant, invoice)

    response = post_json(client, f"/v1/invoices/{number}/cancel", {"reason": "買受人要求退貨"}, merchant.key_headers)
    assert response.status_code == 200, response.body
    cancelled = body_of(response)
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancellation"]["reason"] == "買受人要求退貨"

    detail = body_of(client.http.get(f"/v1/invoices/{number}", headers=merchant.headers))
    assert detail["status"] == "cancelled"
    assert [h["event"] for h in detail["history"]] == ["issued", "cancelled"]
    assert detail["history"][-1]["actor"].startswith("api_key:")
    listed = body_of(client.http.get("/v1/invoices?status=cancelled", headers=merchant.headers))
    assert [i["invoice_number"] for i in listed["items"]] == [number]
    assert body_of(client.http.get("/v1/invoices?status=issued", headers=merchant.headers))["items"] == []

    after = _totals(merchant, invoice)
    assert after["invoice_count"] == before["invoice_count"] - 1
    assert after["b2c_count"] == before["b2c_count"] - 1
    assert after["total_amount"] == before["total_amount"] - invoice["amounts"]["total_amount"]
    assert after["taxable_sales"] == before["taxable_sales"] - 124
    assert after["cancelled_count"] == before.get("cancelled_count", 0) + 1

    _deliver(client, merchant.ubn, number, "cancelled")
    root = _xml(merchant, invoice, ArtifactKind.F0501_XML)
    assert root.tag == f"{F0501}CancelInvoice"
    assert root.findtext(f"{F0501}CancelInvoiceNumber") == number
    assert root.findtext(f"{F0501}CancelReason") == "買受人要求退貨"
    assert root.findtext(f"{F0501}BuyerId") == "0000000000"
    detail = body_of(client.http.get(f"/v1/invoices/{number}", headers=merchant.headers))
    assert "f0501_xml" in detail["artifacts"]
    assert detail["artifacts"]["f0501_xml"].endswith(f"/{number}/F0501.xml")

    # the proof is rendered again, now with the 作廢 mark
    cancelled_proof = S3Artifacts().get(merchant.ubn, invoice["period"], number, ArtifactKind.PROOF_PDF)
    assert "作廢" not in text_of(issued_proof, tmp_path)
    assert "作廢" in text_of(cancelled_proof, tmp_path)
    assert set(detail["artifacts"]) >= {"xml", "proof_pdf", "a4_pdf", "f0501_xml"}

    mails = [m for m in _moto_mails(local_aws, to) if "作廢" in _subject(m)]
    assert len(mails) == 1
    assert "作廢" in _subject(mails[0]) and "cancelled" in _subject(mails[0])
    assert not [p for p in mails[0].walk() if p.get_content_type() == "application/pdf"]


def test_cancel_twice_is_a_conflict(client, merchant):
    number = _issue(client, merchant, _mailbox())["invoice_number"]
    assert (
        post_json(client, f"/v1/invoices/{number}/cancel", {"reason": "重複開立"}, merchant.headers).status_code == 200
    )
    again = post_json(client, f"/v1/invoices/{number}/cancel", {"reason": "重複開立"}, merchant.headers)
    assert again.status_code == 409
    assert body_of(again)["error"]["code"] == "INVOICE_NOT_ISSUED"
    void = post_json(client, f"/v1/invoices/{number}/void", {"reason": "x", "replacement": {}}, merchant.headers)
    assert void.status_code == 409


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "退" * 21}, "reason"),
        ({"reason": ""}, "reason"),
        ({}, "reason"),
        ({"reason": "ok", "return_tax_document_number": "x" * 61}, "return_tax_document_number"),
        ({"reason": "ok", "extra": 1}, "extra"),
    ],
)
def test_cancel_input_is_checked(client, merchant, body, field):
    number = _issue(client, merchant, _mailbox())["invoice_number"]
    response = post_json(client, f"/v1/invoices/{number}/cancel", body, merchant.headers)
    assert response.status_code == 400, response.body
    assert body_of(response)["error"]["field"] == field


def test_cancel_after_the_filing_deadline_needs_the_approval_number(client, merchant, monkeypatch):
    invoice = _issue(client, merchant, _mailbox())
    number = invoice["invoice_number"]
    # The filing deadline is at most ~75 days after the invoice date.
    monkeypatch.setattr(deps, "rules_clock", lambda: ShiftedClock(timedelta(days=100)))
    refused = post_json(client, f"/v1/invoices/{number}/cancel", {"reason": "逾期作廢"}, merchant.headers)
    assert refused.status_code == 422, refused.body
    assert body_of(refused)["error"]["code"] == "CANCEL_DEADLINE_PASSED"
    assert body_of(refused)["error"]["field"] == "return_tax_document_number"
    approved = post_json(
        client,
        f"/v1/invoices/{number}/cancel",
        {"reason": "專案作廢", "return_tax_document_number": "北區國稅字第1130001234號"},
        merchant.headers,
    )
    assert approved.status_code == 200, approved.body
    assert body_of(approved)["cancellation"]["return_tax_document_number"] == "北區國稅字第1130001234號"
    monkeypatch.undo()
    _deliver(client, merchant.ubn, number, "cancelled")
    root = _xml(merchant, invoice, ArtifactKind.F0501_XML)
    assert root.findtext(f"{F0501}ReturnTaxDocumentNumber") == "北區國稅字第1130001234號"


def test_cancel_refused_while_allowances_are_in_force(client, merchant):
    number = _issue(client, merchant, _mailbox())["invoice_number"]
    # The allowance service keeps this count on the invoice; simulate one allowance in force.
    DynamoInvoices().set_fields(merchant.ubn, number, {"allowance_count": 1})
    response = post_json(client, f"/v1/invoices/{number}/cancel", {"reason": "退貨"}, merchant.headers)
    assert response.status_code == 409
    assert body_of(response)["error"]["code"] == "HAS_ALLOWANCES"


# --- void and re-issue ----------------------------------------------------------------------------


def test_void_and_reissue_with_a_corrected_carrier(client, local_aws, merchant):
    to = _mailbox()
    invoice = _issue(client, merchant, to)
    number = invoice["invoice_number"]
    before = _totals(merchant, invoice)
    response = post_json(
        client,
        f"/v1/invoices/{number}/void",
        {"reason": "載具錯誤", "replacement": {"carrier": {"type": "3J0002", "id": "/XYZ+789"}}},
        merchant.headers,
    )
    assert response.status_code == 200, response.body
    reissued = body_of(response)
    assert reissued["invoice_number"] == number
    assert (reissued["invoice_date"], reissued["invoice_time"]) == (invoice["invoice_date"], invoice["invoice_time"])
    assert reissued["random_number"] != invoice["random_number"]
    assert reissued["carrier"] == {"type": "3J0002", "id": "/XYZ+789"}
    assert reissued["amounts"] == invoice["amounts"]
    assert reissued["status"] == "issued"
    assert reissued["barcode"] == invoice["period"] + number + reissued["random_number"]
    assert reissued["qr_left"][17:21] == reissued["random_number"]
    events = [h["event"] for h in reissued["history"]]
    assert events == ["issued", "voided", "reissued"]
    voided = reissued["history"][1]["detail"]
    assert voided["random_number"] == invoice["random_number"]
    assert voided["carrier"] == {"type": "3J0002", "id": "/ABC+123"}
    assert _totals(merchant, invoice)["total_amount"] == before["total_amount"]  # nothing changed

    _deliver(client, merchant.ubn, number, "voided")
    void_xml = _xml(merchant, invoice, ArtifactKind.F0701_XML)
    assert void_xml.tag == f"{F0701}VoidInvoice"
    assert void_xml.findtext(f"{F0701}VoidInvoiceNumber") == number
    assert void_xml.findtext(f"{F0701}VoidReason") == "載具錯誤"
    f0401 = _xml(merchant, invoice, ArtifactKind.XML)
    assert f0401.findtext(f"{F0401}Main/{F0401}RandomNumber") == reissued["random_number"]
    assert f0401.findtext(f"{F0401}Main/{F0401}CarrierId1") == "/XYZ+789"
    mails = _moto_mails(local_aws, to)
    assert len(mails) == 1 and "re-issued" in _subject(mails[0])
    assert [p for p in mails[0].walk() if p.get_content_type() == "application/pdf"]


def test_void_to_a_business_buyer_recomputes_amounts_and_totals(client, merchant):
    invoice = _issue(client, merchant, _mailbox())
    number = invoice["invoice_number"]
    before = _totals(merchant, invoice)
    response = post_json(
        client,
        f"/v1/invoices/{number}/void",
        {
            "reason": "補打統編",
            "replacement": {
                "buyer": {"ubn": "22099131", "name": "台灣積體電路製造股份有限公司", "email": _mailbox()},
                "carrier": None,
                "print": True,
            },
        },
        merchant.headers,
    )
    assert response.status_code == 200, response.body
    reissued = body_of(response)
    # 130 including tax: B2B shows 124 + 6 tax (VAT Act §32)
    assert (reissued["amounts"]["sales_amount"], reissued["amounts"]["tax_amount"]) == (124, 6)
    assert reissued["amounts"]["total_amount"] == 130
    after = _totals(merchant, invoice)
    assert after["b2c_count"] == before["b2c_count"] - 1
    assert after["b2b_count"] == before.get("b2b_count", 0) + 1
    assert after["invoice_count"] == before["invoice_count"]
    assert after["output_tax"] == before["output_tax"]  # tax-exclusive split is the same either way


def test_void_of_an_invoice_stored_without_its_price_mode_infers_it(client, merchant):
    invoice = _issue(client, merchant, _mailbox())
    number = invoice["invoice_number"]
    # Invoices issued before the record kept prices_include_tax: the stored amounts tell it.
    dynamodb().update_item(
        TableName=invoices_table(),
        Key=key(owner(merchant.ubn), invoice_sort_key(number)),
        UpdateExpression="REMOVE prices_include_tax",
    )
    response = post_json(
        client,
        f"/v1/invoices/{number}/void",
        {
            "reason": "補打統編",
            "replacement": {"buyer": {"ubn": "22099131", "name": "台積電"}, "carrier": None, "print": True},
        },
        merchant.headers,
    )
    assert response.status_code == 200, response.body
    assert body_of(response)["amounts"]["total_amount"] == 130  # not 130 + 5 % tax


def test_void_checks_the_corrected_invoice(client, merchant):
    number = _issue(client, merchant, _mailbox())["invoice_number"]
    # a carrier together with a donation code breaks the domain's rule: nothing changes
    response = post_json(
        client,
        f"/v1/invoices/{number}/void",
        {"reason": "改捐贈", "replacement": {"donation_code": "25885"}},
        merchant.headers,
    )
    assert response.status_code == 422, response.body
    assert body_of(response)["error"]["code"] == "CARRIER_WITH_DONATION"
    bad = post_json(
        client, f"/v1/invoices/{number}/void", {"reason": "x", "replacement": {"amounts": 1}}, merchant.headers
    )
    assert bad.status_code == 400


def test_void_after_48_hours_is_refused(client, merchant, monkeypatch):
    number = _issue(client, merchant, _mailbox())["invoice_number"]
    monkeypatch.setattr(deps, "rules_clock", lambda: ShiftedClock(timedelta(hours=49)))
    response = post_json(client, f"/v1/invoices/{number}/void", {"reason": "太晚", "replacement": {}}, merchant.headers)
    assert response.status_code == 422
    assert body_of(response)["error"]["code"] == "VOID_WINDOW_PASSED"


# --- notify ---------------------------------------------------------------------------------------


def test_notify_sends_the_invoice_again(client, local_aws, merchant):
    invoice = _issue(client, merchant, _mailbox())
    number = invoice["invoice_number"]
    _deliver(client, merchant.ubn, number, "issued")
    other = _mailbox()
    response = post_json(
        client, f"/v1/invoices/{number}/notify", {"channels": ["email"], "email": other}, merchant.headers
    )
    assert response.status_code == 202, response.body
    accepted = body_of(response)
    assert accepted["event"].startswith("notify-")
    _deliver(client, merchant.ubn, number, accepted["event"])
    mails = _moto_mails(local_aws, other)
    assert len(mails) == 1
    assert [p for p in mails[0].walk() if p.get_content_type() == "application/pdf"]
    detail = body_of(client.http.get(f"/v1/invoices/{number}", headers=merchant.headers))
    assert detail["history"][-1]["event"] == "notified"
    assert set(detail["artifacts"]) >= {"xml", "proof_pdf"}


# --- tenancy and robustness -----------------------------------------------------------------------


def test_another_merchant_cannot_touch_the_invoice(client, merchant, new_merchant):
    number = _issue(client, merchant, _mailbox())["invoice_number"]
    stranger = new_merchant()
    for path, body in (
        ("cancel", {"reason": "惡意"}),
        ("void", {"reason": "惡意", "replacement": {}}),
        ("notify", {"email": "x@example.com"}),
    ):
        response = post_json(client, f"/v1/invoices/{number}/{path}", body, stranger.headers)
        assert response.status_code == 404, (path, response.body)
    detail = body_of(client.http.get(f"/v1/invoices/{number}", headers=merchant.headers))
    assert [h["event"] for h in detail["history"]] == ["issued"]


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        "null",
        '{"reason": 5}',
        '{"reason": "x", "replacement": null}',
        '{"reason": "x", "replacement": {"buyer": "x"}}',
        '{"reason": "x", "replacement": {"carrier": {"type": "bad", "id": ""}}}',
        '{"reason": "x", "replacement": {"print": "yes"}}',
        '{"channels": ["fax"]}',
        '{"channels": []}',
        '{"mobile": "123"}',
    ],
)
def test_no_input_causes_a_server_error(client, merchant, body):
    number = _issue(client, merchant, _mailbox())["invoice_number"]
    for path in ("cancel", "void", "notify"):
        response = client.http.post(
            f"/v1/invoices/{number}/{path}", headers={"Content-Type": "application/json", **merchant.headers}, body=body
        )
        assert 400 <= response.status_code < 500, (path, body, response.body)
    for bad in ("ab12345678", "XX", "AB1234567%"):
        response = post_json(client, f"/v1/invoices/{bad}/cancel", {"reason": "x"}, merchant.headers)
        assert response.status_code in (400, 404), response.body


# --- deadline edges -----------------------------------------------------------------------------


class FixedClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


def test_cancel_on_the_15th_is_allowed_and_on_the_16th_needs_approval(client, merchant, monkeypatch):
    from chalicelib.domain.period import Period

    on_time = _issue(client, merchant, _mailbox())
    late = _issue(client, merchant, _mailbox())
    from chalicelib.adapters.taiwan_calendar import TaiwanCalendar
    from chalicelib.domain.working_days import filing_deadline

    # the 15th of the next odd month, moved off a day off (checked in tests/unit/test_taiwan_calendar.py)
    deadline = filing_deadline(Period.parse(on_time["period"]), TaiwanCalendar())
    last_moment = datetime.combine(deadline, datetime.max.time().replace(microsecond=0), TAIWAN_TZ)

    monkeypatch.setattr(deps, "rules_clock", lambda: FixedClock(last_moment))
    allowed = post_json(
        client, f"/v1/invoices/{on_time['invoice_number']}/cancel", {"reason": "退貨"}, merchant.headers
    )
    assert allowed.status_code == 200, allowed.body

    monkeypatch.setattr(deps, "rules_clock", lambda: FixedClock(last_moment + timedelta(seconds=1)))
    refused = post_json(client, f"/v1/invoices/{late['invoice_number']}/cancel", {"reason": "退貨"}, merchant.headers)
    assert refused.status_code == 422
    assert body_of(refused)["error"]["code"] == "CANCEL_DEADLINE_PASSED"


def test_void_just_inside_and_just_outside_48_hours(client, merchant, monkeypatch):
    from chalicelib.domain.period import Period

    inside = _issue(client, merchant, _mailbox())
    outside = _issue(client, merchant, _mailbox())
    issued_at = datetime.fromisoformat(f"{inside['invoice_date']}T{inside['invoice_time']}+08:00")
    edge = issued_at + timedelta(hours=47, minutes=59)

    monkeypatch.setattr(deps, "rules_clock", lambda: FixedClock(edge))
    response = post_json(
        client,
        f"/v1/invoices/{inside['invoice_number']}/void",
        {"reason": "補載具", "replacement": {}},
        merchant.headers,
    )
    if Period.from_date(edge.date()) == Period.parse(inside["period"]):
        assert response.status_code == 200, response.body
    else:
        # 47h59 later is already the next period: the same-period rule refuses it on its own.
        assert body_of(response)["error"]["code"] == "VOID_WINDOW_PASSED"

    monkeypatch.setattr(deps, "rules_clock", lambda: FixedClock(issued_at + timedelta(hours=48, seconds=61)))
    late = post_json(
        client,
        f"/v1/invoices/{outside['invoice_number']}/void",
        {"reason": "補載具", "replacement": {}},
        merchant.headers,
    )
    assert late.status_code == 422
    assert body_of(late)["error"]["code"] == "VOID_WINDOW_PASSED"

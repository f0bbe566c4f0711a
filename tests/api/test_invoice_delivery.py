"""From issue to the buyer's inbox: the outbox handler puts XML and PDFs in S3, mails the PDF and
texts the number; the codes on the PDF decode to what the API returned (issue 6)."""

from __future__ import annotations

import email
import json
import urllib.request
from email.message import Message

import pytest
from lxml import etree

from tests.api.conftest import body_of, post_json
from tests.api.test_invoices import B2B, B2C_CARRIER, issuer  # noqa: F401 - the fixture is shared
from tests.outbox_stream import deliver
from tests.unit.documents.test_pdf import pdf_tools, scan  # noqa: F401 - pdf_tools fails the module early without poppler/zbar

F0401 = "{urn:GEINV:eInvoiceMessage:F0401:4.1}"

CASES = {
    "b2c carrier": {**B2C_CARRIER, "buyer": {"name": "陳小姐", "email": "chen@example.com", "mobile": "0912345678"}},
    "b2c donated": {
        **B2C_CARRIER,
        "carrier": None,
        "donation_code": "25885",
        "buyer": {"email": "donor@example.com", "mobile": "0922333444"},
    },
    "b2c printed": {**B2C_CARRIER, "carrier": None, "print": True, "buyer": {"email": "walkin@example.com"}},
    "b2b": {**B2B, "buyer": {**B2B["buyer"], "email": "ap-b2b@example.com"}},
    "mixed": {
        **B2B,
        "buyer": {**B2B["buyer"], "email": "ap-mixed@example.com"},
        "items": [
            {"description": "應稅品", "quantity": "1", "unit_price": "1050", "tax_type": "1"},
            {"description": "免稅品：書籍", "quantity": "2", "unit_price": "100", "tax_type": "3"},
        ],
    },
    "zero-rated": {
        **B2B,
        "buyer": {**B2B["buyer"], "email": "ap-zero@example.com"},
        "customs_clearance_mark": "2",
        "zero_tax_rate_reason": "71",
        "items": [
            {"description": "外銷貨物", "quantity": "10", "unit_price": "300", "tax_type": "2"},
        ],
    },
}


def _codes(pdf: bytes, tmp_path) -> list[str]:
    """The symbols on the PDF. zbar guesses the text encoding of QR byte data and sometimes reads
    UTF-8 Chinese as Shift-JIS; undo that guess (the proof's own flag says UTF-8)."""
    decoded = []
    for text in scan(pdf, tmp_path):
        try:
            decoded.append(text.encode("cp932").decode("utf-8"))
        except (UnicodeEncodeError, UnicodeDecodeError):
            decoded.append(text)
    return sorted(decoded)


def _moto_state(local_aws) -> dict:
    with urllib.request.urlopen(f"{local_aws.moto.endpoint}/moto-api/data.json", timeout=5) as response:  # noqa: S310
        return json.loads(response.read())


def _mails_to(local_aws, address: str) -> list[Message]:
    raw = [m for m in _moto_state(local_aws)["ses"]["RawMessage"] if address in (m.get("destinations") or [])]
    return [email.message_from_string(m["raw_data"]) for m in raw]


def _sms_to(local_aws, number: str) -> list[str]:
    return [s["message"] for s in _moto_state(local_aws)["sns"]["SMS"] if s["phone_number"] == number]


def _deliver(client, ubn: str, number: str) -> None:
    deliver(client, ubn, number, "issued")


@pytest.fixture
def delivering_issuer(client, issuer):  # noqa: F811
    client.http.patch(
        "/v1/merchant",
        headers={"Content-Type": "application/json", **issuer.headers},
        body=json.dumps({"settings": {"email_buyer": True, "sms_buyer": True}}),
    )
    return issuer


@pytest.mark.parametrize("case", list(CASES))
def test_issued_invoice_reaches_s3_and_the_buyer(client, local_aws, delivering_issuer, tmp_path, case):

    merchant = delivering_issuer
    payload = CASES[case]
    invoice = body_of(post_json(client, "/v1/invoices", payload, merchant.headers))
    number = invoice["invoice_number"]
    _deliver(client, merchant.ubn, number)

    detail = body_of(client.http.get(f"/v1/invoices/{number}", headers=merchant.headers))
    assert set(detail["artifacts"]) >= {"xml", "proof_pdf", "a4_pdf"}

    xml = client.http.get(f"/v1/invoices/{number}/xml", headers=merchant.headers)
    root = etree.fromstring(xml.body)
    assert root.tag == f"{F0401}Invoice"
    assert root.findtext(f"{F0401}Main/{F0401}InvoiceNumber") == number
    assert root.findtext(f"{F0401}Amount/{F0401}TotalAmount") == str(invoice["amounts"]["total_amount"])

    link = client.http.get(f"/v1/invoices/{number}/pdf?layout=proof", headers=merchant.headers)
    assert link.status_code == 302
    with urllib.request.urlopen(link.headers["Location"], timeout=5) as response:  # noqa: S310 - moto on loopback
        proof = response.read()
    assert proof.startswith(b"%PDF")
    assert _codes(proof, tmp_path) == sorted([invoice["barcode"], invoice["qr_left"], invoice["qr_right"]])

    buyer_email = payload["buyer"].get("email")
    mails = _mails_to(local_aws, buyer_email)
    assert len(mails) == 1, f"{case}: expected one mail to {buyer_email}"
    attachments = [p for p in mails[0].walk() if p.get_content_type() == "application/pdf"]
    assert len(attachments) == 1
    attached = attachments[0].get_payload(decode=True)
    assert _codes(attached, tmp_path) == sorted([invoice["barcode"], invoice["qr_left"], invoice["qr_right"]])

    mobile = payload["buyer"].get("mobile")
    if mobile:
        # Other tests text the same sample mobile (a sign-in code, say): count this invoice's texts.
        shown = number if not payload.get("donation_code") else number[:-3]
        texts = [
            t for t in _sms_to(local_aws, "+886" + mobile[1:]) if shown[:2] in t and shown[2:] in t.replace("-", "")
        ]
        assert len(texts) == 1

    # delivering again sends nothing twice
    _deliver(client, merchant.ubn, number)
    assert len(_mails_to(local_aws, buyer_email)) == 1


def test_downloads_are_only_for_the_issuing_merchant(client, issuer, new_merchant):  # noqa: F811
    number = body_of(post_json(client, "/v1/invoices", B2B, issuer.headers))["invoice_number"]
    other = new_merchant()
    for path in (f"/v1/invoices/{number}/pdf?layout=a4", f"/v1/invoices/{number}/xml", f"/v1/invoices/{number}/pdf"):
        response = client.http.get(path, headers=other.headers)
        assert response.status_code == 404
        assert body_of(response)["error"]["code"] == "INVOICE_NOT_FOUND"


def test_a_download_before_the_outbox_ran_is_built_on_demand(client, issuer):  # noqa: F811
    number = body_of(post_json(client, "/v1/invoices", B2B, issuer.headers))["invoice_number"]
    link = client.http.get(f"/v1/invoices/{number}/pdf?layout=a4&download=true", headers=issuer.headers)
    assert link.status_code == 302
    assert body_of(link)["expires_in"] == 300
    with urllib.request.urlopen(link.headers["Location"], timeout=5) as response:  # noqa: S310 - moto on loopback
        assert response.read().startswith(b"%PDF")
    bad_layout = client.http.get(f"/v1/invoices/{number}/pdf?layout=a5", headers=issuer.headers)
    assert bad_layout.status_code == 400

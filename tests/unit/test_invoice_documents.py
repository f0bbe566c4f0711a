"""A stored invoice → MIG F0401 XML (validated, read back field by field), PDF input, mail and SMS."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from chalicelib.documents.codes import QrInput, QrItem, barcode_content, qr_pair
from chalicelib.documents.mig import Invoice, MessageType, build_xml, parse_xml
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.services.invoice_documents import (
    B2C_BUYER_NAME_PLACEHOLDER,
    Attachment,
    f0401,
    invoice_email,
    invoice_sms,
    pdf_document,
    shown_number,
)

SELLER = {"ubn": "24634102", "name": "好好商行股份有限公司", "address": "臺北市中正區重慶南路一段 2 號"}
QR_KEY = "0123456789ABCDEF0123456789ABCDEF"
ISSUED = datetime(2024, 11, 5, 2, 20, 30, tzinfo=UTC)


def make_record(kind: str = "b2c", number: str = "AB12345678", **overrides: Any) -> InvoiceRecord:
    """A stored invoice as the issuing service writes it: ``b2c``, ``b2b`` or ``zero`` (rated, B2B export)."""
    items = [
        {"sequence": 1, "description": "乾電池", "quantity": "2", "unit": "個", "unit_price": "50", "amount": "100"},
        {"sequence": 2, "description": "Coffee 咖啡", "quantity": "1", "unit_price": "5", "amount": "5"},
    ]
    if kind == "b2c":
        tax_type, rate, item_tax = "1", "0.05", "1"
        amounts = {"sales_amount": 105, "free_tax_sales_amount": 0, "zero_tax_sales_amount": 0, "tax_amount": 0}
        total, exclusive, tax = 105, 100, 5
        buyer: dict[str, Any] = {"ubn": None, "name": None, "email": "buyer@example.com", "mobile": "+886912345678"}
    elif kind == "b2b":
        tax_type, rate, item_tax = "1", "0.05", "1"
        amounts = {"sales_amount": 100, "free_tax_sales_amount": 0, "zero_tax_sales_amount": 0, "tax_amount": 5}
        total, exclusive, tax = 105, 100, 5
        buyer = {
            "ubn": "22099131",
            "name": "台灣積體電路製造股份有限公司",
            "email": "ap@example.com",
            "address": "新竹科學園區力行六路 8 號",
            "customer_number": "C-001",
        }
    else:
        tax_type, rate, item_tax = "2", "0", "2"
        amounts = {"sales_amount": 0, "free_tax_sales_amount": 0, "zero_tax_sales_amount": 105, "tax_amount": 0}
        total, exclusive, tax = 105, 0, 0
        buyer = {"ubn": "04595257", "name": "Export Buyer Ltd", "email": "buyer@example.com"}
        overrides = {"customs_clearance_mark": "2", "zero_tax_rate_reason": "71", **overrides}
    for item in items:
        item["tax_type"] = item_tax
    period = "11312"
    random_number = "7213"
    qr = qr_pair(
        QrInput(
            invoice_number=number,
            invoice_date=ISSUED.date(),
            random_number=random_number,
            sales_amount=Decimal(exclusive),
            total_amount=Decimal(total),
            seller_ubn=SELLER["ubn"],
            buyer_ubn=buyer.get("ubn"),
            items=tuple(QrItem(i["description"], Decimal(i["quantity"]), Decimal(i["unit_price"])) for i in items),
        ),
        key_hex=QR_KEY,
    )
    data: dict[str, Any] = {
        "invoice_number": number,
        "random_number": random_number,
        "period": period,
        "invoice_date": date(2024, 11, 5),
        "invoice_time": "10:20:30",
        "issued_at": ISSUED,
        "invoice_type": "07",
        "channel": "api",
        "seller": dict(SELLER),
        "buyer": buyer,
        "items": items,
        "amounts": {**amounts, "tax_type": tax_type, "tax_rate": rate, "total_amount": total},
        "tax_exclusive_sales_amount": exclusive,
        "output_tax_amount": tax,
        "print_mark": kind != "b2c",
        "carrier": {"type": "3J0002", "id": "/ABC+123"} if kind == "b2c" else None,
        "order_id": "ORDER-1",
        "main_remark": "謝謝惠顧",
        "barcode": barcode_content(period, number, random_number),
        "qr_left": qr.left,
        "qr_right": qr.right,
    }
    data.update(overrides)
    return InvoiceRecord.model_validate(data)


def _read_back(record: InvoiceRecord) -> tuple[Invoice, etree._Element]:
    xml = build_xml(f0401(record))
    parsed = parse_xml(MessageType.F0401, xml)
    assert isinstance(parsed, Invoice)
    return parsed, etree.fromstring(xml)


def _text(root: etree._Element, path: str) -> str | None:
    ns = {"m": root.nsmap[None]}
    found = root.find("/".join(f"m:{part}" for part in path.split("/")), ns)
    return None if found is None else found.text


def test_b2c_invoice_reads_back_field_by_field() -> None:
    record = make_record("b2c")
    parsed, root = _read_back(record)
    assert root.tag == "{urn:GEINV:eInvoiceMessage:F0401:4.1}Invoice"
    main = parsed.main
    assert main.invoice_number == "AB12345678"
    assert main.invoice_date == date(2024, 11, 5)
    assert main.invoice_time.isoformat() == "10:20:30"
    assert (main.seller.identifier, main.seller.name, main.seller.address) == (
        SELLER["ubn"],
        SELLER["name"],
        SELLER["address"],
    )
    assert main.buyer.identifier == "0000000000"
    assert main.buyer.name == B2C_BUYER_NAME_PLACEHOLDER
    # A consumer's e-mail and mobile are for delivery only; they never go to the tax platform.
    assert main.buyer.email_address is None
    assert (main.invoice_type, main.donate_mark, main.print_mark) == ("07", "0", "N")
    assert (main.carrier_type, main.carrier_id1, main.carrier_id2) == ("3J0002", "/ABC+123", "/ABC+123")
    assert main.random_number == "7213"
    assert main.relate_number == "ORDER-1"
    assert main.main_remark == "謝謝惠顧"
    assert main.npoban is None
    assert [item.sequence_number for item in parsed.details] == ["1", "2"]
    first = parsed.details[0]
    assert (first.description, first.quantity, first.unit, first.unit_price, first.amount, first.tax_type) == (
        "乾電池",
        Decimal(2),
        "個",
        Decimal(50),
        Decimal(100),
        "1",
    )
    amount = parsed.amount
    assert (amount.sales_amount, amount.tax_amount, amount.total_amount) == (105, 0, 105)
    assert (amount.tax_type, amount.tax_rate) == ("1", Decimal("0.05"))
    assert _text(root, "Amount/TaxRate") == "0.05"
    # Carrier elements sit between DonateMark and PrintMark (§2.11).
    tags = [etree.QName(child).localname for child in root.find("{*}Main")]
    assert tags.index("DonateMark") < tags.index("CarrierType") < tags.index("PrintMark") < tags.index("RandomNumber")


def test_b2c_buyer_name_is_the_consumers_when_given() -> None:
    record = make_record("b2c", buyer={"ubn": None, "name": "王小明"})
    assert f0401(record).main.buyer.name == "王小明"


def test_b2c_donation_sets_mark_and_npoban() -> None:
    record = make_record("b2c", carrier=None, donation_code="25885")
    parsed, root = _read_back(record)
    assert (parsed.main.donate_mark, parsed.main.npoban, parsed.main.print_mark) == ("1", "25885", "N")
    assert _text(root, "Main/NPOBAN") == "25885"
    assert parsed.main.carrier_type is None


def test_member_carrier_hidden_id_goes_to_carrier_id2() -> None:
    record = make_record("b2c", carrier={"type": "EJ0113", "id": "buyer@example.com", "hidden_id": "M-000042"})
    main = f0401(record).main
    assert (main.carrier_type, main.carrier_id1, main.carrier_id2) == ("EJ0113", "buyer@example.com", "M-000042")


def test_b2b_invoice_reads_back_with_the_buyer_and_split_tax() -> None:
    record = make_record("b2b")
    parsed, root = _read_back(record)
    buyer = parsed.main.buyer
    assert (buyer.identifier, buyer.name, buyer.address, buyer.email_address, buyer.customer_number) == (
        "22099131",
        "台灣積體電路製造股份有限公司",
        "新竹科學園區力行六路 8 號",
        "ap@example.com",
        "C-001",
    )
    assert parsed.main.print_mark == "Y"
    assert parsed.main.carrier_type is None
    assert (parsed.amount.sales_amount, parsed.amount.tax_amount, parsed.amount.total_amount) == (100, 5, 105)
    assert _text(root, "Main/Buyer/Identifier") == "22099131"
    assert parsed == f0401(record)


def test_zero_rated_invoice_carries_customs_mark_and_reason() -> None:
    record = make_record("zero")
    parsed, root = _read_back(record)
    assert (parsed.main.customs_clearance_mark, parsed.main.zero_tax_rate_reason) == ("2", "71")
    assert (parsed.amount.tax_type, parsed.amount.tax_rate) == ("2", Decimal(0))
    assert (parsed.amount.sales_amount, parsed.amount.zero_tax_sales_amount) == (0, 105)
    assert {item.tax_type for item in parsed.details} == {"2"}
    assert _text(root, "Amount/TaxRate") == "0"


def test_pdf_document_carries_the_stored_values() -> None:
    record = make_record("b2b")
    document = pdf_document(record)
    assert document.period_label == "113年11-12月"
    assert (document.buyer_ubn, document.seller_name) == ("22099131", SELLER["name"])
    assert document.invoice_time.isoformat() == "10:20:30"
    assert document.total_amount == Decimal(105)
    assert document.barcode == record.barcode
    assert [item.amount for item in document.items] == [Decimal(100), Decimal(5)]
    assert pdf_document(make_record("b2c")).buyer_ubn is None


def test_email_is_bilingual_and_carries_the_pdf() -> None:
    record = make_record("b2c")
    raw = invoice_email(
        record,
        to="buyer@example.com",
        sender="noreply@einvoice.local",
        attachment=Attachment("AB12345678-proof.pdf", b"%PDF-1.7 test"),
        sent_at=ISSUED,
        reply_to="shop@example.com",
    )
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert "AB-12345678" in str(message["Subject"])
    assert SELLER["name"] in str(message["Subject"])
    assert message["Reply-To"] == "shop@example.com"
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert text.index("發票號碼") < text.index("Invoice number")  # zh-TW first
    assert "NT$105" in text
    assert "7213" in text
    attachments = list(message.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["AB12345678-proof.pdf"]
    assert attachments[0].get_content().startswith(b"%PDF")


def test_donated_invoice_number_is_masked_in_mail_and_sms() -> None:
    record = make_record("b2c", carrier=None, donation_code="25885")
    assert shown_number(record) == "AB-12345***"
    assert "AB-12345***" in invoice_sms(record)
    assert "12345678" not in invoice_sms(record)


def test_sms_names_number_date_and_total() -> None:
    text = invoice_sms(make_record("b2c"))
    assert "AB-12345678" in text
    assert "2024-11-05" in text
    assert "NT$105" in text
    assert len(text) <= 134  # two UCS-2 parts


def test_seller_name_with_a_line_break_cannot_inject_headers() -> None:
    record = make_record("b2c", seller={**SELLER, "name": "Evil\r\nBcc: victim@example.com"})
    raw = invoice_email(
        record,
        to="buyer@example.com",
        sender="noreply@einvoice.local",
        attachment=Attachment("x.pdf", b"%PDF"),
        sent_at=ISSUED,
    )
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Bcc"] is None


@pytest.mark.parametrize("kind", ["b2c", "b2b", "zero"])
def test_proof_and_a4_render_from_the_document(kind: str) -> None:
    from chalicelib.documents.pdf import render_a4, render_proof

    document = pdf_document(make_record(kind))
    assert render_proof(document).startswith(b"%PDF")
    assert render_a4(document).startswith(b"%PDF")

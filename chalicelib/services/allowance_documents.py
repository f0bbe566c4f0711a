"""An allowance's documents: the G0401, G0501 and G0701 messages, the A4 PDF and the buyer's e-mail."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from chalicelib.domain.allowance_record import AllowanceRecord
from chalicelib.domain.period import TAIWAN_TZ
from chalicelib.domain.ubn import CONSUMER_BUYER_ID
from chalicelib.services.invoice_documents import Attachment, mail_message, one_line

if TYPE_CHECKING:
    # The MIG and PDF models are imported where a document is built, not at every cold start.
    from chalicelib.documents.mig import Allowance, CancelAllowance, VoidAllowance
    from chalicelib.documents.pdf.allowance import AllowanceDocument

#: Same placeholder as the F0401 of a consumer invoice, so both documents name the buyer alike.
B2C_BUYER_NAME = "顧客"


def g0401(record: AllowanceRecord) -> Allowance:
    """The G0401 message of an allowance; ``InvalidInput`` if it breaks a MIG rule."""
    from chalicelib.documents.mig import Allowance

    buyer_ubn = record.buyer.get("ubn")
    return Allowance.from_data(
        {
            "main": {
                "allowance_number": record.allowance_number,
                "allowance_date": record.allowance_date,
                "seller": {
                    "identifier": record.seller["ubn"],
                    "name": record.seller["name"],
                    "address": record.seller.get("address"),
                },
                "buyer": (
                    {"identifier": buyer_ubn, "name": record.buyer.get("name") or buyer_ubn}
                    if buyer_ubn
                    # A consumer: identifier and a name only; nothing else of a person goes to the MOF.
                    else {"identifier": CONSUMER_BUYER_ID, "name": record.buyer.get("name") or B2C_BUYER_NAME}
                ),
                "allowance_type": "2",  # MIG 4.1: since 2025 the seller issues allowances
            },
            "details": [
                {
                    "original_invoice_date": item.original_invoice_date,
                    "original_invoice_number": item.original_invoice_number,
                    "original_sequence_number": (
                        str(item.original_sequence_number) if item.original_sequence_number else None
                    ),
                    "original_description": item.description,
                    "quantity": Decimal(item.quantity),
                    "unit": item.unit,
                    "unit_price": Decimal(item.unit_price),
                    "amount": Decimal(item.amount),
                    "tax": item.tax,
                    "allowance_sequence_number": str(item.sequence),
                    "tax_type": item.tax_type,
                }
                for item in record.items
            ],
            "amount": {"tax_amount": record.tax_amount, "total_amount": Decimal(record.total_amount)},
        }
    )


def pdf_document(record: AllowanceRecord) -> AllowanceDocument:
    from chalicelib.documents.pdf.allowance import AllowanceDocument, AllowanceDocumentLine

    return AllowanceDocument(
        allowance_number=record.allowance_number,
        allowance_date=record.allowance_date,
        seller_ubn=record.seller["ubn"],
        seller_name=record.seller["name"],
        seller_address=record.seller.get("address") or "",
        buyer_ubn=record.buyer.get("ubn"),
        buyer_name=record.buyer.get("name"),
        lines=tuple(
            AllowanceDocumentLine(
                original_invoice_number=item.original_invoice_number,
                original_invoice_date=item.original_invoice_date,
                description=item.description,
                quantity=Decimal(item.quantity),
                unit_price=Decimal(item.unit_price),
                amount=Decimal(item.amount),
                tax=item.tax,
                tax_type=item.tax_type,
            )
            for item in record.items
        ),
        tax_amount=record.tax_amount,
        total_amount=record.total_amount,
        cancelled=record.status == "cancelled",
    )


def _withdrawal(record: AllowanceRecord, at: datetime | None, kind: str, reason: str | None) -> dict[str, object]:
    """What G0501 (``kind`` cancel) and G0701 (void) say of the allowance they withdraw, flat."""
    moment = (at or datetime.now(TAIWAN_TZ)).astimezone(TAIWAN_TZ)
    return {
        f"{kind}_allowance_number": record.allowance_number,
        "allowance_type": "2",
        "allowance_date": record.allowance_date,
        "buyer_id": record.buyer.get("ubn") or CONSUMER_BUYER_ID,
        "seller_id": record.seller["ubn"],
        f"{kind}_date": moment.date(),
        f"{kind}_time": moment.strftime("%H:%M:%S"),
        f"{kind}_reason": reason or "",
    }


def g0501(record: AllowanceRecord, remark: str | None = None) -> CancelAllowance:
    from chalicelib.documents.mig import CancelAllowance

    data = _withdrawal(record, record.cancelled_at, "cancel", record.cancel_reason)
    return CancelAllowance.from_data({**data, "remark": remark})


def g0701(record: AllowanceRecord) -> VoidAllowance:
    """The G0701 (註銷折讓) of the allowance's last void: it withdraws the version before the re-issue,
    whose number, date and buyer the re-issue keeps."""
    from chalicelib.documents.mig import VoidAllowance

    data = _withdrawal(record, record.voided_at, "void", record.void_reason)
    return VoidAllowance.from_data({**data, "remark": record.void_remark})


def allowance_email(
    record: AllowanceRecord,
    *,
    to: str,
    sender: str,
    sent_at: datetime,
    reply_to: str | None = None,
    attachment: Attachment | None = None,
    cancelled: bool = False,
    corrected: bool = False,
) -> bytes:
    """The buyer's notice of an allowance (with its PDF attached) or, ``cancelled``, of its
    cancellation (none attached, like an invoice's cancellation mail). Chosen by the outbox event,
    not the record's status, so a late issue notice is never sent as a second cancellation."""
    seller = one_line(str(record.seller["name"]))
    number = record.allowance_number
    numbers = "、".join(o.invoice_number for o in record.originals)
    amounts_zh = (
        f"折讓金額（未稅）：{record.total_amount} 元，稅額：{record.tax_amount} 元，"
        f"合計：{record.total_amount + record.tax_amount} 元。"
    )
    amounts_en = f"NT${record.total_amount} + tax NT${record.tax_amount}"
    if cancelled:
        subject = f"{seller} 折讓證明單已作廢 {number} / Allowance {number} cancelled"
        zh = f"{seller} 已作廢折讓證明單 {number}（{record.allowance_date.isoformat()}），此折讓單不再有效。"
        en = f"{seller} cancelled allowance {number} against invoice(s) {numbers} ({amounts_en}); it no longer counts."
    elif corrected:
        subject = f"{seller} 折讓證明單已更正 {number} / Allowance {number} corrected"
        zh = f"{seller} 已註銷並更正折讓證明單 {number}（{record.allowance_date.isoformat()}），以附件為準。"
        en = f"{seller} voided and corrected allowance {number} against invoice(s) {numbers}: {amounts_en}."
    else:
        subject = f"{seller} 折讓證明單 {number} / Allowance notice {number}"
        zh = f"{seller} 已開立折讓證明單 {number}（{record.allowance_date.isoformat()}）。"
        en = f"{seller} issued allowance {number} against invoice(s) {numbers}: {amounts_en}."
    text = f"{zh}\n原發票：{numbers}\n{amounts_zh}\n\n{'—' * 20}\n\n{en}\n"
    message = mail_message(subject, seller=seller, to=to, sender=sender, sent_at=sent_at, reply_to=reply_to, text=text)
    if attachment is not None:
        message.add_attachment(attachment.content, maintype="application", subtype="pdf", filename=attachment.file_name)
    return message.as_bytes()

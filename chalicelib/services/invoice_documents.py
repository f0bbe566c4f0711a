"""An issued invoice as documents: the MIG 4.1 F0401 message (and F0501 cancel / F0701 void), the
input of the PDF renderers, and the email and SMS that tell the buyer about it.

All are built only from the stored :class:`InvoiceRecord`, never from the request, so the XML
uploaded, the PDFs printed, the mail sent and the API's answer always show the same invoice.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.domain.mail_feedback import INVOICE_HEADER, invoice_reference
from chalicelib.domain.period import Period
from chalicelib.domain.ubn import CONSUMER_BUYER_ID

if TYPE_CHECKING:
    # Imported where a document is built: lxml and the MIG models are not needed to issue.
    from chalicelib.documents.mig import CancelInvoice, Invoice, VoidInvoice
    from chalicelib.documents.pdf.model import InvoiceDocument

# ⚠️ B2C Buyer.Name is unverified (reference §2.5.2, §11.4): the XSD wants 1-60 characters; common
# practice writes "0000" (an RS test, the §2.11 skeleton), the legacy MOF rule asks for "4 ASCII or 2
# full-width characters", and Amego's VAC refuses 0/00/000/0000. Safer reading: a placeholder that
# every one of those accepts, two full-width characters that are not zeros. The consumer's own name,
# when the merchant gave one, is what the common practice writes instead.
B2C_BUYER_NAME_PLACEHOLDER = "顧客"


def f0401(record: InvoiceRecord) -> Invoice:
    """The F0401 (平台存證開立發票) message of an issued invoice; ``InvalidInput`` if it breaks a MIG rule."""
    from chalicelib.documents.mig import Invoice

    carrier = record.carrier or {}
    return Invoice.from_data(
        {
            "main": {
                "invoice_number": record.invoice_number,
                "invoice_date": record.invoice_date,
                "invoice_time": record.invoice_time,
                "seller": _seller(record.seller),
                "buyer": _buyer(record.buyer),
                "main_remark": record.main_remark,
                "customs_clearance_mark": record.customs_clearance_mark,
                "relate_number": record.order_id,
                "invoice_type": record.invoice_type,
                "donate_mark": "1" if record.donation_code else "0",
                "carrier_type": carrier.get("type"),
                "carrier_id1": carrier.get("id"),
                # The hidden id (隱碼) equals the visible one except for member carriers (§5).
                "carrier_id2": carrier.get("hidden_id") or carrier.get("id"),
                "print_mark": "Y" if record.print_mark else "N",
                "npoban": record.donation_code,
                "random_number": record.random_number,
                "zero_tax_rate_reason": record.zero_tax_rate_reason,
            },
            "details": [
                {
                    "description": item.description,
                    "quantity": item.quantity,
                    "unit": item.unit,
                    "unit_price": item.unit_price,
                    "tax_type": item.tax_type,
                    "amount": item.amount,
                    "sequence_number": str(item.sequence),
                    "remark": item.remark,
                }
                for item in record.items
            ],
            "amount": {
                "sales_amount": record.amounts.sales_amount,
                "free_tax_sales_amount": record.amounts.free_tax_sales_amount,
                "zero_tax_sales_amount": record.amounts.zero_tax_sales_amount,
                "tax_type": record.amounts.tax_type,
                "tax_rate": Decimal(record.amounts.tax_rate),
                "tax_amount": record.amounts.tax_amount,
                "total_amount": record.amounts.total_amount,
            },
        }
    )


def _buyer_id(buyer: dict[str, Any]) -> str:
    return str(buyer.get("ubn") or CONSUMER_BUYER_ID)


def f0501(record: InvoiceRecord) -> CancelInvoice:
    """The F0501 (平台存證作廢發票) of a cancelled invoice, from its stored cancellation."""
    cancellation = record.cancellation
    if not cancellation:
        raise ValueError(f"invoice {record.invoice_number} has no cancellation to report")
    at = datetime.fromisoformat(str(cancellation["cancelled_at"]))
    from chalicelib.documents.mig import CancelInvoice

    return CancelInvoice.from_data(
        {
            "cancel_invoice_number": record.invoice_number,
            # The original invoice's date, not the cancellation's (MIG F0501 InvoiceDate).
            "invoice_date": record.invoice_date,
            "buyer_id": _buyer_id(record.buyer),
            "seller_id": record.seller["ubn"],
            "cancel_date": at.date(),
            "cancel_time": at.strftime("%H:%M:%S"),
            "cancel_reason": cancellation["reason"],
            "return_tax_document_number": cancellation.get("return_tax_document_number"),
            "remark": cancellation.get("remark"),
        }
    )


def f0701(record: InvoiceRecord) -> VoidInvoice:
    """The F0701 (平台存證註銷發票) of the invoice's latest void: it withdraws the version that was
    voided, so the buyer is the one kept in that history entry, not the re-issued invoice's."""
    voids = [entry for entry in record.history if entry.event == "voided"]
    if not voids:
        raise ValueError(f"invoice {record.invoice_number} was never voided")
    entry = voids[-1]
    at = datetime.fromisoformat(entry.at)
    from chalicelib.documents.mig import VoidInvoice

    return VoidInvoice.from_data(
        {
            "void_invoice_number": record.invoice_number,
            "invoice_date": record.invoice_date,
            "buyer_id": _buyer_id(entry.detail.get("buyer") or {}),
            "seller_id": record.seller["ubn"],
            "void_date": at.date(),
            "void_time": at.strftime("%H:%M:%S"),
            "void_reason": entry.detail["reason"],
            "remark": entry.detail.get("remark"),
        }
    )


def _seller(seller: dict[str, Any]) -> dict[str, Any]:
    return {"identifier": seller["ubn"], "name": seller["name"], "address": seller.get("address")}


def _buyer(buyer: dict[str, Any]) -> dict[str, Any]:
    if not buyer.get("ubn"):
        # A consumer: the identifier and a name only. Nothing else about a private person goes to
        # the tax platform; the e-mail and mobile stay with us for delivery.
        return {"identifier": CONSUMER_BUYER_ID, "name": buyer.get("name") or B2C_BUYER_NAME_PLACEHOLDER}
    return {
        "identifier": buyer["ubn"],
        "name": buyer["name"],
        "address": buyer.get("address"),
        "person_in_charge": buyer.get("person_in_charge"),
        "telephone_number": buyer.get("telephone"),
        "email_address": buyer.get("email"),
        "customer_number": buyer.get("customer_number"),
    }


#: The parties as MIG elements, shared with the exchange messages (services/exchange_documents.py).
seller_element = _seller
buyer_element = _buyer


def pdf_document(record: InvoiceRecord) -> InvoiceDocument:
    """What the proof and A4 renderers print for an issued invoice."""
    from chalicelib.documents.pdf.model import DocumentItem, InvoiceDocument

    carrier = record.carrier or {}
    amounts = record.amounts
    return InvoiceDocument(
        invoice_number=record.invoice_number,
        invoice_date=record.invoice_date,
        invoice_time=time.fromisoformat(record.invoice_time),
        period_label=Period.parse(record.period).label_zh,
        random_number=record.random_number,
        seller_ubn=str(record.seller["ubn"]),
        seller_name=str(record.seller["name"]),
        seller_address=str(record.seller.get("address") or ""),
        buyer_ubn=record.buyer.get("ubn") or None,
        buyer_name=record.buyer.get("name") or None,
        items=tuple(
            DocumentItem(
                description=item.description,
                quantity=Decimal(item.quantity),
                unit=item.unit,
                unit_price=Decimal(item.unit_price),
                amount=Decimal(item.amount),
                tax_type=item.tax_type,
            )
            for item in record.items
        ),
        sales_amount=Decimal(amounts.sales_amount),
        free_tax_sales_amount=Decimal(amounts.free_tax_sales_amount),
        zero_tax_sales_amount=Decimal(amounts.zero_tax_sales_amount),
        tax_amount=Decimal(amounts.tax_amount),
        total_amount=Decimal(amounts.total_amount),
        tax_type=amounts.tax_type,
        barcode=record.barcode,
        qr_left=record.qr_left,
        qr_right=record.qr_right,
        carrier_type=carrier.get("type"),
        carrier_id=carrier.get("id"),
        donation_code=record.donation_code,
        print_mark=record.print_mark,
        status=record.status,
        remark=record.main_remark,
        **_allowances(record),
    )


def _allowances(record: InvoiceRecord) -> dict[str, Any]:
    """The allowance fields of the PDF: only while an allowance is in force (a cancelled one gives
    its amount back, so count 0 prints nothing)."""
    if record.allowance_count <= 0:
        return {}
    total = record.amounts.total_amount
    remaining = total if record.allowance_remaining is None else record.allowance_remaining
    return {
        "allowance_count": record.allowance_count,
        "allowance_total": Decimal(total - remaining),
        "allowance_remaining": Decimal(remaining),
    }


# --- telling the buyer ----------------------------------------------------------------------------

_LINE_BREAKS = re.compile(r"[\r\n\t\v\f\u2028\u2029]+")
# An SMS in Chinese is UCS-2: 70 characters fit one message, 67 each when split. Keep the seller's
# name short enough that the whole notice fits in two parts.
_SMS_SELLER_CHARS = 16


def _one_line(text: str) -> str:
    """Names go into mail headers and texts: no line breaks (header injection, broken layouts)."""
    return _LINE_BREAKS.sub(" ", text).strip()


def shown_number(record: InvoiceRecord) -> str:
    """``AB-12345678``; a donated invoice's last three digits are hidden (MOF rule, reference §5)."""
    number = record.invoice_number
    return f"{number[:2]}-{number[2:7]}***" if record.donation_code else f"{number[:2]}-{number[2:]}"


def _money(value: int) -> str:
    return f"NT${value:,}"


def _period_en(record: InvoiceRecord) -> str:
    period = Period.parse(record.period)
    return f"{calendar.month_abbr[period.start_month]}-{calendar.month_abbr[period.end_month]} {period.year}"


@dataclass(frozen=True)
class Attachment:
    file_name: str
    content: bytes


def invoice_email(
    record: InvoiceRecord,
    *,
    to: str,
    sender: str,
    attachment: Attachment,
    sent_at: datetime,
    reply_to: str | None = None,
    notice: str = "issued",
    lookup_url: str | None = None,
) -> bytes:
    """The buyer's notice as a MIME message (zh-TW first, then English) with the PDF attached.

    ``notice`` is ``issued``, ``reissued`` (after a void, 註銷重開) or ``resent`` (asked for again);
    ``lookup_url`` is the public look-up page for this invoice (no sign-in), linked from the mail."""
    seller = _one_line(str(record.seller["name"]))
    number = shown_number(record)
    total = _money(record.amounts.total_amount)
    when = f"{record.invoice_date.isoformat()} {record.invoice_time}"
    zh = [
        "您好：",
        "",
        f"{seller}（統一編號 {record.seller['ubn']}）{_NOTICE_ZH[notice]}",
        "",
        f"發票號碼：{number}",
        f"開立時間：{when}",
        f"發票期別：{Period.parse(record.period).label_zh}",
        f"總計金額：{total}",
    ]
    en = [
        "Hello,",
        "",
        f"{seller} (UBN {record.seller['ubn']}) {_NOTICE_EN[notice]}",
        "",
        f"Invoice number: {number}",
        f"Issued at:      {when} (Taiwan time)",
        f"Period:         {_period_en(record)}",
        f"Total:          {total}",
    ]
    if record.is_b2b:
        zh.append(f"買方統一編號：{record.buyer['ubn']}")
        en.append(f"Buyer UBN:      {record.buyer['ubn']}")
    elif record.donation_code:
        zh.append(f"本發票已捐贈（捐贈碼 {record.donation_code}）。")
        en.append(f"This invoice was donated (code {record.donation_code}).")
    else:
        zh.append(f"隨機碼：{record.random_number}")
        en.append(f"Random number:  {record.random_number}")
    what_zh, what_en = ("電子發票（A4）", "invoice (A4)") if record.is_b2b else ("電子發票證明聯", "proof of e-invoice")
    zh += ["", f"{what_zh}已附於本信（PDF）。"]
    en += ["", f"The {what_en} is attached as a PDF."]
    _add_lookup_link(zh, en, lookup_url)
    zh.append("本信由電子發票平台自動寄出。")
    en.append("This message was sent automatically by the e-invoice platform.")

    subject_zh, subject_en = _NOTICE_SUBJECT[notice]
    message = _message(
        f"{seller} {subject_zh} {number} / E-invoice {number} {subject_en}",
        seller=seller,
        to=to,
        sender=sender,
        sent_at=sent_at,
        reply_to=reply_to,
        text="\n".join([*zh, "", "—" * 20, "", *en]) + "\n",
    )
    message[INVOICE_HEADER] = invoice_reference(str(record.seller["ubn"]), record.invoice_number)
    message.add_attachment(attachment.content, maintype="application", subtype="pdf", filename=attachment.file_name)
    return message.as_bytes()


_NOTICE_ZH = {
    "issued": "已開立電子發票給您。",
    "reissued": "已更正並重新開立電子發票給您（發票號碼不變，隨機碼已更新；原發票已註銷）。",
    "resent": "再次寄送電子發票給您。",
}
_NOTICE_EN = {
    "issued": "has issued an e-invoice to you.",
    "reissued": "has corrected and re-issued your e-invoice (same number, new random number; the "
    "earlier version was voided).",
    "resent": "is sending your e-invoice again.",
}
_NOTICE_SUBJECT = {
    "issued": ("電子發票開立通知", "issued"),
    "reissued": ("電子發票更正重開通知", "re-issued"),
    "resent": ("電子發票通知", "sent again"),
}


def _add_lookup_link(zh: list[str], en: list[str], lookup_url: str | None) -> None:
    if lookup_url:
        zh.append(f"線上查詢此發票（免登入）：{lookup_url}")
        en.append(f"Look this invoice up online (no sign-in): {lookup_url}")


def _message(
    subject: str, *, seller: str, to: str, sender: str, sent_at: datetime, reply_to: str | None, text: str
) -> EmailMessage:
    message = EmailMessage(policy=SMTP)
    message["Subject"] = subject
    message["From"] = Address(display_name=f"{seller} 電子發票", addr_spec=sender)
    message["To"] = to
    if reply_to:
        message["Reply-To"] = reply_to
    message["Date"] = format_datetime(sent_at)
    message.set_content(text, charset="utf-8")
    return message


#: Shared with the allowances' notices (services/allowances.py): same headers, same injection guard.
mail_message = _message
one_line = _one_line


def cancellation_email(
    record: InvoiceRecord,
    *,
    to: str,
    sender: str,
    sent_at: datetime,
    reply_to: str | None = None,
    lookup_url: str | None = None,
) -> bytes:
    """The buyer's notice that an invoice was cancelled (作廢). No attachment: the PDF of a cancelled
    invoice would only be a second copy of something that no longer counts."""
    seller = _one_line(str(record.seller["name"]))
    number = shown_number(record)
    total = _money(record.amounts.total_amount)
    when = f"{record.invoice_date.isoformat()} {record.invoice_time}"
    zh = [
        "您好：",
        "",
        f"{seller}（統一編號 {record.seller['ubn']}）已作廢下列電子發票，此發票不再有效。",
        "",
        f"發票號碼：{number}",
        f"開立時間：{when}",
        f"總計金額：{total}",
        "",
    ]
    en = [
        "Hello,",
        "",
        f"{seller} (UBN {record.seller['ubn']}) has cancelled the e-invoice below; it is no longer valid.",
        "",
        f"Invoice number: {number}",
        f"Issued at:      {when} (Taiwan time)",
        f"Total:          {total}",
        "",
    ]
    _add_lookup_link(zh, en, lookup_url)
    zh.append("本信由電子發票平台自動寄出。")
    en.append("This message was sent automatically by the e-invoice platform.")
    message = _message(
        f"{seller} 發票已作廢 {number} / E-invoice {number} cancelled",
        seller=seller,
        to=to,
        sender=sender,
        sent_at=sent_at,
        reply_to=reply_to,
        text="\n".join([*zh, "", "—" * 20, "", *en]) + "\n",
    )
    message[INVOICE_HEADER] = invoice_reference(str(record.seller["ubn"]), record.invoice_number)
    return message.as_bytes()


def invoice_sms(record: InvoiceRecord) -> str:
    """A short notice: number, date, total, zh-TW then English.

    The mail links to the public look-up page (``/lookup``); the text does not yet: a link that
    opens the invoice must carry its random number and still fit two parts. Until then the number
    and date let the buyer find the invoice in the mail, on the look-up page or on the MOF platform.
    """
    seller = _one_line(str(record.seller["name"]))[:_SMS_SELLER_CHARS]
    number = shown_number(record)
    day = record.invoice_date.isoformat()
    total = _money(record.amounts.total_amount)
    return f"{seller}電子發票{number}已開立，日期{day}，金額{total}。E-invoice {number}, {day}, {total}."

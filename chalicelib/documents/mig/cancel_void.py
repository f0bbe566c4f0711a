"""F0501 平台存證作廢發票 (cancel) and F0701 平台存證註銷發票 (void): flat messages (§2.6, §2.7).

⚠️ MIG 4.0 added Reserved1/Reserved2 to F0501/F0701 but their position is unverified
(reference §2.6, §11). Safer reading: the models do not have them, so they are never written and
a file carrying them is refused as an unknown element.
"""

from __future__ import annotations

from chalicelib.documents.mig._base import MessageType, MigMessage
from chalicelib.documents.mig._types import (
    Ban,
    BuyerBan,
    InvoiceNumber,
    MigDate,
    MigTime,
    Opt,
    Reason20,
    Text20,
    Text60,
    Text100,
    Text200,
)


class CancelInvoice(MigMessage):
    """F0501. ``invoice_date`` is the original invoice's date, not the upload date."""

    message_type = MessageType.F0501
    mig_tag = "CancelInvoice"

    cancel_invoice_number: InvoiceNumber
    invoice_date: MigDate
    buyer_id: BuyerBan
    seller_id: Ban
    cancel_date: MigDate
    cancel_time: MigTime
    cancel_reason: Reason20
    return_tax_document_number: Opt[Text60] = None  # 專案作廢核准文號
    remark: Opt[Text200] = None
    # 保留欄位: in the official F0501.xsd (Reserved1 ≤20, Reserved2 ≤100), so accepted on intake.
    reserved1: Opt[Text20] = None
    reserved2: Opt[Text100] = None


class VoidInvoice(MigMessage):
    """F0701 (註銷; the replacement F0401 keeps the same number)."""

    message_type = MessageType.F0701
    mig_tag = "VoidInvoice"

    void_invoice_number: InvoiceNumber
    invoice_date: MigDate
    buyer_id: BuyerBan
    seller_id: Ban
    void_date: MigDate
    void_time: MigTime
    void_reason: Reason20
    remark: Opt[Text200] = None
    # 保留欄位: in the official F0701.xsd (Reserved1 ≤20, Reserved2 ≤100), so accepted on intake.
    reserved1: Opt[Text20] = None
    reserved2: Opt[Text100] = None

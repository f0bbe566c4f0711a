"""E0502 營業人進項存證發票檔 (``InputInvoice``) and E0503 營業人進項存證折讓單檔 (``InputAllowance``):
the platform's list of what other merchants issued to a buyer, one document per invoice or
allowance, in ``urn:GEINV:eInvoiceMessage:E0502:4.1`` / ``E0503:4.1`` (vendored
``xsd/common/v41/``). A list of many travels in an ``InvoiceEnvelope`` (``envelope.py``).

Every element is ``xsd:all`` (any order); fields are declared in the XSD's order, which is the
order written. The invoice lines and amounts are the F0401 (G0401) models: the E0502 (E0503) XSD
declares the same elements with the same lengths and digits, and only drops MIG 4.1's
``minInclusive 0`` on the amounts and the integer TaxAmount of E0503. What the platform lists is
what the seller issued, so the stricter F0401/G0401 facets always hold for it.

⚠️ unverified: ``CurrentStatus`` (發票當下狀態 / 折讓單當下狀態) is one character in the XSD and
no source at hand lists its codes. The platform writes ``CURRENT_STATUS`` below; a document of an
invoice that is not in force *always* carries the part that says why (``Cancel``), so a reader never
has to trust the code alone. Read back, any one character is accepted, as the XSD does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from chalicelib.documents.mig._base import MessageType, MigMessage, MigModel
from chalicelib.documents.mig._types import (
    _PRINTABLE,
    Ban,
    BondedAreaConfirmCode,
    BuyerBan,
    BuyerRemarkCode,
    CustomsClearanceMarkCode,
    DonateMarkCode,
    GroupMarkCode,
    InvoiceNumber,
    InvoiceTypeCode,
    MigDate,
    MigTime,
    Opt,
    PrintMarkCode,
    RandomNumber,
    Reason20,
    Text2,
    Text6,
    Text10,
    Text16,
    Text20,
    Text60,
    Text100,
    Text200,
    Text400,
    ZeroTaxRateReasonCode,
    _text,
)
from chalicelib.documents.mig.allowance import MAX_ALLOWANCE_ITEMS, AllowanceAmount, AllowanceProductItem
from chalicelib.documents.mig.invoice import MAX_PRODUCT_ITEMS, InvoiceAmount, InvoiceProductItem

#: CurrentStatus: one character, codes not enumerated by the schema.
StatusCode = Annotated[str, _text(1), _PRINTABLE]

#: ⚠️ unverified (see the module docstring): the codes the platform writes. ``voided`` is never at
#: rest here (a void and its re-issue under the same number are one transaction), so an invoice
#: voided and re-issued is ``issued`` and carries its last void in the ``Void`` part.
CURRENT_STATUS = {"issued": "0", "cancelled": "1", "rejected": "2", "voided": "3"}


# --- E0502 ---------------------------------------------------------------------------------------


class InputInvoiceMain(MigModel):
    mig_tag = "Main"
    mig_names: ClassVar[Mapping[str, str]] = {"npoban": "NPOBAN"}

    invoice_number: InvoiceNumber
    invoice_date: MigDate
    invoice_time: MigTime
    current_status: StatusCode
    seller_id: Ban
    seller_name: Opt[Text60] = None
    buyer_id: BuyerBan
    buyer_name: Opt[Text60] = None
    buyer_remark: Opt[BuyerRemarkCode] = None
    main_remark: Opt[Text200] = None
    customs_clearance_mark: Opt[CustomsClearanceMarkCode] = None
    category: Opt[Text2] = None
    relate_number: Opt[Text20] = None
    invoice_type: Opt[InvoiceTypeCode] = None
    group_mark: Opt[GroupMarkCode] = None
    donate_mark: Opt[DonateMarkCode] = None
    carrier_type: Opt[Text6] = None
    carrier_id1: Opt[Text400] = None
    carrier_id2: Opt[Text400] = None
    print_mark: Opt[PrintMarkCode] = None
    npoban: Opt[Text10] = None
    random_number: Opt[RandomNumber] = None
    bonded_area_confirm: Opt[BondedAreaConfirmCode] = None
    zero_tax_rate_reason: Opt[ZeroTaxRateReasonCode] = None
    reserved1: Opt[Text20] = None
    reserved2: Opt[Text100] = None


class InputInvoiceCancel(MigModel):
    """作廢資料: when and why the seller cancelled the invoice (its F0501)."""

    cancel_date: MigDate
    cancel_time: MigTime
    cancel_reason: Reason20
    return_tax_document_number: Opt[Text60] = None
    cancel_remark: Opt[Text200] = None
    reserved1: Opt[Text20] = None
    reserved2: Opt[Text100] = None


class InputInvoiceReject(MigModel):
    """退回資料 (B2B exchange only: storage invoices are never rejected, so never written here)."""

    reject_date: Opt[MigDate] = None
    reject_time: Opt[MigTime] = None
    reject_reason: Opt[Reason20] = None
    reject_remark: Opt[Text200] = None
    reserved1: Opt[Text20] = None
    reserved2: Opt[Text100] = None


class InputInvoiceVoid(MigModel):
    """註銷資料 (its F0701); every element is optional in the schema, the platform writes all it has."""

    void_date: Opt[MigDate] = None
    void_time: Opt[MigTime] = None
    void_reason: Opt[Reason20] = None
    void_remark: Opt[Text200] = None
    reserved1: Opt[Text20] = None
    reserved2: Opt[Text100] = None


class InputInvoice(MigMessage):
    """E0502 message: one received (進項) invoice as the buyer's list shows it."""

    message_type = MessageType.E0502
    mig_tag = "InputInvoice"

    main: InputInvoiceMain
    details: Annotated[tuple[InvoiceProductItem, ...], Field(min_length=1, max_length=MAX_PRODUCT_ITEMS)] | None = None
    amount: InvoiceAmount | None = None
    cancel: InputInvoiceCancel | None = None
    reject: InputInvoiceReject | None = None
    void: InputInvoiceVoid | None = None


# --- E0503 ---------------------------------------------------------------------------------------


class InputAllowanceMain(MigModel):
    mig_tag = "Main"

    allowance_number: Text16
    allowance_date: MigDate
    current_status: StatusCode
    seller_id: Ban
    seller_name: Opt[Text60] = None
    buyer_id: BuyerBan
    buyer_name: Opt[Text60] = None
    # Type 1 (buyer-issued, before 2025) can still be in a list of older allowances.
    allowance_type: Literal["1", "2"]
    original_invoice_seller_id: Opt[Ban] = None
    original_invoice_buyer_id: Opt[BuyerBan] = None


class InputAllowanceCancel(MigModel):
    """作廢資料 of an allowance (its G0501)."""

    cancel_date: MigDate
    cancel_time: MigTime
    cancel_reason: Reason20
    cancel_remark: Opt[Text200] = None


class InputAllowanceVoid(MigModel):
    """註銷資料 of an allowance (its G0701)."""

    void_date: Opt[MigDate] = None
    void_time: Opt[MigTime] = None
    void_reason: Opt[Reason20] = None
    void_remark: Opt[Text200] = None


class InputAllowance(MigMessage):
    """E0503 message: one received allowance (進項折讓) as the buyer's list shows it."""

    message_type = MessageType.E0503
    mig_tag = "InputAllowance"

    main: InputAllowanceMain
    details: Annotated[tuple[AllowanceProductItem, ...], Field(min_length=1, max_length=MAX_ALLOWANCE_ITEMS)]
    amount: AllowanceAmount
    cancel: InputAllowanceCancel | None = None
    void: InputAllowanceVoid | None = None


__all__ = [
    "CURRENT_STATUS",
    "InputAllowance",
    "InputAllowanceCancel",
    "InputAllowanceMain",
    "InputAllowanceVoid",
    "InputInvoice",
    "InputInvoiceCancel",
    "InputInvoiceMain",
    "InputInvoiceReject",
    "InputInvoiceVoid",
]

"""G0401 平台存證開立折讓證明單 (issue allowance) and G0501 作廢折讓 (cancel allowance), §2.8."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from chalicelib.documents.mig._base import MessageType, MigMessage, MigModel
from chalicelib.documents.mig._types import (
    Ban,
    BuyerBan,
    Dec20_7,
    Int20,
    InvoiceNumber,
    ItemTaxTypeCode,
    MigDate,
    MigTime,
    NonNegDec20_7,
    NonNegInt20,
    Opt,
    Reason20,
    Text4,
    Text6,
    Text16,
    Text200,
    Text500,
)
from chalicelib.documents.mig.roles import Buyer, Seller

MAX_ALLOWANCE_ITEMS = 9999


class AllowanceMain(MigModel):
    mig_tag = "Main"

    allowance_number: Text16  # chosen by the merchant, unique
    allowance_date: MigDate
    seller: Seller
    buyer: Buyer
    # Since 2025-01-01 (MIG 4.1) the seller issues allowances: AllowanceType is fixed to 2
    # (賣方折讓證明通知單). Type 1 (buyer-issued) is refused for new G0401 messages.
    allowance_type: Literal["2"]
    original_invoice_seller_id: Opt[Ban] = None
    original_invoice_buyer_id: Opt[BuyerBan] = None


class AllowanceProductItem(MigModel):
    """One allowance line; amounts are tax-exclusive, ``tax`` an integer."""

    mig_tag = "ProductItem"

    original_invoice_date: MigDate
    original_invoice_number: InvoiceNumber
    original_sequence_number: Opt[Text4] = None
    original_description: Text500
    quantity: Dec20_7
    # ⚠️ Unit optional vs required is unverified (reference §2.8, §11): TB-MIG has it optional, a
    # platform-accepted run sent it always. Reading: accept it absent, write it whenever given.
    unit: Opt[Text6] = None
    unit_price: Dec20_7
    amount: Dec20_7
    tax: Int20
    allowance_sequence_number: Text4
    tax_type: ItemTaxTypeCode


class AllowanceAmount(MigModel):
    """Only TaxAmount and TotalAmount (tax-exclusive); anything else fails the XSD."""

    mig_tag = "Amount"

    tax_amount: NonNegInt20
    total_amount: NonNegDec20_7


class Allowance(MigMessage):
    """G0401 message."""

    message_type = MessageType.G0401
    mig_tag = "Allowance"

    main: AllowanceMain
    details: Annotated[tuple[AllowanceProductItem, ...], Field(min_length=1, max_length=MAX_ALLOWANCE_ITEMS)]
    amount: AllowanceAmount


class CancelAllowance(MigMessage):
    """G0501 message, flat; AllowanceType is mandatory in MIG 4.1.

    Both types are accepted here: an allowance issued as type 1 before 2025 is cancelled with 1.
    """

    message_type = MessageType.G0501
    mig_tag = "CancelAllowance"

    cancel_allowance_number: Text16
    allowance_type: Literal["1", "2"]
    allowance_date: MigDate
    buyer_id: BuyerBan
    seller_id: Ban
    cancel_date: MigDate
    cancel_time: MigTime
    cancel_reason: Reason20
    remark: Opt[Text200] = None


class VoidAllowance(MigMessage):
    """G0701 註銷折讓單: the allowance is withdrawn so that the same number may be issued again
    with corrected data (as F0701 does for an invoice)."""

    message_type = MessageType.G0701
    mig_tag = "VoidAllowance"

    void_allowance_number: Text16
    allowance_type: Literal["1", "2"]
    allowance_date: MigDate
    buyer_id: BuyerBan
    seller_id: Ban
    void_date: MigDate
    void_time: MigTime
    void_reason: Reason20
    remark: Opt[Text200] = None

"""F0401 平台存證開立發票 (storage: issue invoice), MIG 4.1 (reference §2.5, §2.11).

Root ``<Invoice>`` with ``Main``, ``Details/ProductItem`` (1..9999) and ``Amount``; every model
declares its fields in XSD sequence order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar

from pydantic import Field

from chalicelib.documents.mig._base import MessageType, MigMessage, MigModel
from chalicelib.documents.mig._types import (
    BondedAreaConfirmCode,
    BuyerRemarkCode,
    Currency,
    CustomsClearanceMarkCode,
    Dec20_7,
    DonateMarkCode,
    GroupMarkCode,
    InvoiceNumber,
    InvoiceTypeCode,
    ItemTaxTypeCode,
    MigDate,
    MigTime,
    NonNegDec13_5,
    NonNegDec20_7,
    NonNegInt20,
    Opt,
    PrintMarkCode,
    RandomNumber,
    TaxRate,
    TaxTypeCode,
    Text2,
    Text4,
    Text6,
    Text10,
    Text20,
    Text50,
    Text100,
    Text120,
    Text200,
    Text400,
    Text500,
    ZeroTaxRateReasonCode,
)
from chalicelib.documents.mig.roles import Buyer, Seller

MAX_PRODUCT_ITEMS = 9999


class InvoiceMain(MigModel):
    mig_tag = "Main"
    mig_names: ClassVar[Mapping[str, str]] = {"npoban": "NPOBAN"}

    invoice_number: InvoiceNumber
    invoice_date: MigDate
    invoice_time: MigTime
    seller: Seller
    buyer: Buyer
    buyer_remark: Opt[BuyerRemarkCode] = None
    main_remark: Opt[Text200] = None
    customs_clearance_mark: Opt[CustomsClearanceMarkCode] = None
    category: Opt[Text2] = None
    relate_number: Opt[Text20] = None
    invoice_type: InvoiceTypeCode
    group_mark: Opt[GroupMarkCode] = None
    donate_mark: DonateMarkCode
    # Carrier elements sit between DonateMark and PrintMark; NPOBAN follows PrintMark (§2.11).
    carrier_type: Opt[Text6] = None
    carrier_id1: Opt[Text400] = None
    carrier_id2: Opt[Text400] = None
    print_mark: PrintMarkCode
    npoban: Opt[Text10] = None
    random_number: Opt[RandomNumber] = None
    bonded_area_confirm: Opt[BondedAreaConfirmCode] = None
    zero_tax_rate_reason: Opt[ZeroTaxRateReasonCode] = None
    reserved1: Opt[Text20] = None
    reserved2: Opt[Text100] = None


class InvoiceProductItem(MigModel):
    """One line; TaxType comes before Amount in MIG 4.x."""

    mig_tag = "ProductItem"

    description: Text500
    quantity: Dec20_7
    unit: Opt[Text6] = None
    unit_price: Dec20_7  # may be negative (discount lines)
    tax_type: ItemTaxTypeCode
    amount: Dec20_7
    sequence_number: Text4
    remark: Opt[Text120] = None
    relate_number: Opt[Text50] = None


class InvoiceAmount(MigModel):
    """Amount block: every figure has minInclusive 0 in MIG 4.1; TaxAmount is an integer."""

    mig_tag = "Amount"

    sales_amount: NonNegDec20_7
    free_tax_sales_amount: NonNegDec20_7
    zero_tax_sales_amount: NonNegDec20_7
    tax_type: TaxTypeCode
    tax_rate: TaxRate
    tax_amount: NonNegInt20
    total_amount: NonNegDec20_7
    discount_amount: Opt[NonNegDec20_7] = None
    original_currency_amount: Opt[NonNegDec20_7] = None
    exchange_rate: Opt[NonNegDec13_5] = None
    currency: Opt[Currency] = None


class Invoice(MigMessage):
    """F0401 message."""

    message_type = MessageType.F0401
    mig_tag = "Invoice"

    main: InvoiceMain
    details: Annotated[tuple[InvoiceProductItem, ...], Field(min_length=1, max_length=MAX_PRODUCT_ITEMS)]
    amount: InvoiceAmount

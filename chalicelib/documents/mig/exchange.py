"""B2B exchange (交換) messages, MIG 4.1: the invoice and allowance a merchant sends another
merchant, and the counterpart's confirmations (reference §2.2).

A0101 開立發票 → A0102 接收確認, or A0301 退回 → A0302 退回確認; A0201 作廢 → A0202 作廢確認;
B0101 開立折讓證明單 → B0102 確認; B0201 作廢折讓 → B0202 確認. Every party is a business, so
every BuyerId is a real 8-digit UBN (the schemas' BAN type), never ``0000000000``.

A0101 differs from F0401: no carrier, print, donation-target or random-number elements (a B2B
exchange invoice is never printed for a consumer) and whole-dollar amounts in ``Amount``.
B0101 differs from G0401: AllowanceType may be 1 (the buyer issues it, 買方開立) or 2 (the seller
issues it): the official B0101.xsd does not fix it, so the buyer's own allowance is accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import Field

from chalicelib.documents.mig._base import MessageType, MigMessage, MigModel
from chalicelib.documents.mig._types import (
    Ban,
    BondedAreaConfirmCode,
    BuyerRemarkCode,
    Currency,
    CustomsClearanceMarkCode,
    Dec20_7,
    DonateMarkCode,
    GroupMarkCode,
    Int20,
    InvoiceNumber,
    InvoiceTypeCode,
    ItemTaxTypeCode,
    MigDate,
    MigTime,
    NonNegDec13_5,
    NonNegDec20_7,
    NonNegInt20,
    Opt,
    Reason20,
    Remark200,
    TaxRate,
    TaxTypeCode,
    Text2,
    Text4,
    Text6,
    Text16,
    Text20,
    Text60,
    Text100,
    Text200,
    Text500,
    ZeroTaxRateReasonCode,
)
from chalicelib.documents.mig.allowance import MAX_ALLOWANCE_ITEMS
from chalicelib.documents.mig.invoice import MAX_PRODUCT_ITEMS, InvoiceProductItem
from chalicelib.documents.mig.roles import Buyer, Seller

AllowanceTypeCode = Literal["1", "2"]


class ExchangeInvoiceMain(MigModel):
    mig_tag = "Main"

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
    zero_tax_rate_reason: Opt[ZeroTaxRateReasonCode] = None
    reserved1: Opt[Text20] = None
    reserved2: Opt[Text100] = None


class ExchangeInvoiceAmount(MigModel):
    """A0101's totals are whole dollars (fractionDigits 0), unlike F0401's."""

    mig_tag = "Amount"

    sales_amount: NonNegInt20
    tax_type: TaxTypeCode
    tax_rate: TaxRate
    tax_amount: NonNegInt20
    total_amount: NonNegInt20
    discount_amount: Opt[NonNegInt20] = None
    original_currency_amount: Opt[NonNegDec20_7] = None
    exchange_rate: Opt[NonNegDec13_5] = None
    currency: Opt[Currency] = None


class ExchangeInvoice(MigMessage):
    """A0101 開立發票 (exchange)."""

    message_type = MessageType.A0101
    mig_tag = "Invoice"

    main: ExchangeInvoiceMain
    details: Annotated[tuple[InvoiceProductItem, ...], Field(min_length=1, max_length=MAX_PRODUCT_ITEMS)]
    amount: ExchangeInvoiceAmount


class InvoiceConfirm(MigMessage):
    """A0102 發票接收確認: the buyer has received the invoice and accepts it."""

    message_type = MessageType.A0102
    mig_tag = "InvoiceConfirm"

    invoice_number: InvoiceNumber
    invoice_date: MigDate
    buyer_id: Ban
    seller_id: Ban
    receive_date: MigDate
    receive_time: MigTime
    buyer_remark: Opt[BuyerRemarkCode] = None
    remark: Opt[Text200] = None
    bonded_area_confirm: Opt[BondedAreaConfirmCode] = None


class ExchangeCancelInvoice(MigMessage):
    """A0201 作廢發票 (exchange): the seller asks; the buyer must confirm (A0202)."""

    message_type = MessageType.A0201
    mig_tag = "CancelInvoice"

    cancel_invoice_number: InvoiceNumber
    invoice_date: MigDate
    buyer_id: Ban
    seller_id: Ban
    cancel_date: MigDate
    cancel_time: MigTime
    cancel_reason: Reason20
    return_tax_document_number: Opt[Text60] = None
    remark: Opt[Text200] = None
    reserved1: Opt[Text20] = None
    reserved2: Opt[Text100] = None


class CancelInvoiceConfirm(MigMessage):
    """A0202 作廢發票確認 (by the buyer)."""

    message_type = MessageType.A0202
    mig_tag = "CancelInvoiceConfirm"

    cancel_invoice_number: InvoiceNumber
    invoice_date: MigDate
    buyer_id: Ban
    seller_id: Ban
    cancel_date: MigDate
    cancel_time: MigTime
    remark: Opt[Remark200] = None


class RejectInvoice(MigMessage):
    """A0301 退回發票: the buyer refuses an exchanged invoice, with a reason."""

    message_type = MessageType.A0301
    mig_tag = "RejectInvoice"

    reject_invoice_number: InvoiceNumber
    invoice_date: MigDate
    buyer_id: Ban
    seller_id: Ban
    reject_date: MigDate
    reject_time: MigTime
    reject_reason: Reason20
    remark: Opt[Text200] = None
    reserved1: Opt[Text20] = None
    reserved2: Opt[Text100] = None


class RejectInvoiceConfirm(MigMessage):
    """A0302 退回發票確認 (by the seller)."""

    message_type = MessageType.A0302
    mig_tag = "RejectInvoiceConfirm"

    reject_invoice_number: InvoiceNumber
    invoice_date: MigDate
    buyer_id: Ban
    seller_id: Ban
    reject_date: MigDate
    reject_time: MigTime
    remark: Opt[Text200] = None


class ExchangeAllowanceMain(MigModel):
    mig_tag = "Main"

    allowance_number: Text16
    allowance_date: MigDate
    seller: Seller
    buyer: Buyer
    allowance_type: AllowanceTypeCode
    original_invoice_seller_id: Opt[Ban] = None
    original_invoice_buyer_id: Opt[Ban] = None


class ExchangeAllowanceItem(MigModel):
    """A B0101 line: like G0401's, but the line amount is whole dollars."""

    mig_tag = "ProductItem"

    original_invoice_date: MigDate
    original_invoice_number: InvoiceNumber
    original_sequence_number: Opt[Text4] = None
    original_description: Text500
    quantity: Dec20_7
    unit: Opt[Text6] = None
    unit_price: Dec20_7
    amount: Int20
    tax: Int20
    allowance_sequence_number: Text4
    tax_type: ItemTaxTypeCode


class ExchangeAllowanceAmount(MigModel):
    mig_tag = "Amount"

    tax_amount: NonNegInt20
    total_amount: NonNegInt20


class ExchangeAllowance(MigMessage):
    """B0101 開立折讓證明單 (exchange)."""

    message_type = MessageType.B0101
    mig_tag = "Allowance"

    main: ExchangeAllowanceMain
    details: Annotated[tuple[ExchangeAllowanceItem, ...], Field(min_length=1, max_length=MAX_ALLOWANCE_ITEMS)]
    amount: ExchangeAllowanceAmount


class AllowanceConfirm(MigMessage):
    """B0102 折讓證明單確認 (by the party that did not issue it)."""

    message_type = MessageType.B0102
    mig_tag = "AllowanceConfirm"

    allowance_number: Text16
    allowance_date: MigDate
    buyer_id: Ban
    seller_id: Ban
    receive_date: MigDate
    receive_time: MigTime
    allowance_type: AllowanceTypeCode
    remark: Opt[Text200] = None


class ExchangeCancelAllowance(MigMessage):
    """B0201 作廢折讓證明單 (exchange)."""

    message_type = MessageType.B0201
    mig_tag = "CancelAllowance"

    cancel_allowance_number: Text16
    allowance_date: MigDate
    buyer_id: Ban
    seller_id: Ban
    cancel_date: MigDate
    cancel_time: MigTime
    allowance_type: AllowanceTypeCode
    cancel_reason: Reason20
    remark: Opt[Text200] = None


class CancelAllowanceConfirm(MigMessage):
    """B0202 作廢折讓證明單確認."""

    message_type = MessageType.B0202
    mig_tag = "CancelAllowanceConfirm"

    cancel_allowance_number: Text16
    allowance_date: MigDate
    buyer_id: Ban
    seller_id: Ban
    cancel_date: MigDate
    cancel_time: MigTime
    allowance_type: AllowanceTypeCode
    remark: Opt[Text200] = None


EXCHANGE_MESSAGES: Mapping[MessageType, type[MigMessage]] = {
    cls.message_type: cls
    for cls in (
        ExchangeInvoice,
        InvoiceConfirm,
        ExchangeCancelInvoice,
        CancelInvoiceConfirm,
        RejectInvoice,
        RejectInvoiceConfirm,
        ExchangeAllowance,
        AllowanceConfirm,
        ExchangeCancelAllowance,
        CancelAllowanceConfirm,
    )
}

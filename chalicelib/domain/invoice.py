"""Invoice draft (發票草稿): the ``POST /v1/invoices`` body, its field checks and cross-field rules.

Two steps, so that every problem reaches the caller as one domain error with a field path:

1. :func:`parse_draft` checks the shape (types, lengths, formats) and raises ``InvalidInput``.
2. :func:`validate_draft` applies the business rules across fields (reference §2.10), raises
   ``RuleViolation``, and returns the computed Amount block with any warnings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    field_validator,
)

from chalicelib.domain.amounts import AmountBlock, AmountLine, compute_invoice_amounts, item_amount
from chalicelib.domain.carriers import MOBILE_BARCODE, Carrier
from chalicelib.domain.donation import validate_donation_code
from chalicelib.domain.errors import InvalidInput, RuleViolation
from chalicelib.domain.fields import check_printable, check_text, decimal_field, fits_mig_decimal
from chalicelib.domain.invoice_type import InvoiceType
from chalicelib.domain.tax import (
    CustomsClearanceMark,
    TaxType,
    ZeroTaxRateReason,
    check_item_tax_type,
    ensure_item_tax_type_allowed,
)
from chalicelib.domain.ubn import CONSUMER_BUYER_ID, validate_ubn
from chalicelib.domain.validation import as_pydantic_error, parse_model

MAX_ITEMS = 9999  # MIG 4.x (999 in 3.x)
# Buyer.EmailAddress: the reference finds 400 (one MIG 4.1 model) and 80 (MIG 3.x and a production
# implementation) and marks it ⚠️ conflicting; 80 passes under either reading.
MAX_EMAIL_LENGTH = 80
# Loose on purpose: the address is proven by delivering to it, a stricter pattern only refuses real ones.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _text(max_length: int) -> tuple[object, ...]:
    return (Field(min_length=1, max_length=max_length), AfterValidator(check_text))


def _reraise(error: InvalidInput) -> Exception:
    return as_pydantic_error(InvalidInput(error.code, error.message, error.message_zh))


def _buyer_ubn(value: object) -> str | None:
    # ERP systems that mirror the MIG send the consumer identifier instead of null; both mean B2C.
    if value is None or value == CONSUMER_BUYER_ID:
        return None
    try:
        return validate_ubn(value, "")
    except InvalidInput as error:
        raise _reraise(error) from None


def _email(value: str) -> str:
    check_printable(value)  # the regex lets a bidi override through, and the address is shown
    if not _EMAIL.fullmatch(value):
        raise as_pydantic_error(
            InvalidInput("INVALID_EMAIL", "This is not an e-mail address.", "電子郵件地址格式不正確。")
        )
    return value


_MOBILE = re.compile(r"(?:09|\+8869)[0-9]{8}")


def _mobile(value: str) -> str:
    compact = re.sub(r"[\s-]", "", value)
    if not _MOBILE.fullmatch(compact):
        raise as_pydantic_error(
            InvalidInput(
                "INVALID_MOBILE",
                "A mobile number is 09xxxxxxxx or +8869xxxxxxxx.",
                "手機號碼格式應為 09xxxxxxxx 或 +8869xxxxxxxx。",
                None,
            )
        )
    return "+886" + compact[1:] if compact.startswith("09") else compact


def _donation_code(value: object) -> str | None:
    if value is None:
        return None
    try:
        return validate_donation_code(value, "")
    except InvalidInput as error:
        raise _reraise(error) from None


Description = Annotated[str, *_text(500)]
Unit = Annotated[str, *_text(6)]
ItemRemark = Annotated[str, *_text(120)]
Quantity = Annotated[Decimal, decimal_field("INVALID_QUANTITY", "Quantity", "數量", positive=True)]
UnitPrice = Annotated[Decimal, decimal_field("INVALID_UNIT_PRICE", "Unit price", "單價", positive=False)]
TaxRate = Annotated[Decimal, decimal_field("INVALID_SPECIAL_TAX_RATE", "Special tax rate", "特種稅率", positive=True)]


class InvoiceItem(BaseModel):
    """One product line (ProductItem). A negative ``unit_price`` is a discount line."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    description: Description
    quantity: Quantity
    unit: Unit | None = None
    unit_price: UnitPrice
    tax_type: Annotated[TaxType, AfterValidator(check_item_tax_type)]
    remark: ItemRemark | None = None

    @property
    def amount(self) -> Decimal:
        """``quantity x unit_price`` to 7 fraction digits (MIG item ``Amount``)."""
        return item_amount(self.quantity, self.unit_price)


class Buyer(BaseModel):
    """The buyer (買受人). No ``ubn`` (or ``0000000000``) means a consumer: a B2C invoice."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ubn: Annotated[str | None, BeforeValidator(_buyer_ubn)] = None
    name: Annotated[str, *_text(60)] | None = None
    email: Annotated[str, Field(max_length=MAX_EMAIL_LENGTH), AfterValidator(_email)] | None = None
    address: Annotated[str, *_text(100)] | None = None
    person_in_charge: Annotated[str, *_text(30)] | None = None
    telephone: Annotated[str, *_text(26)] | None = None
    customer_number: Annotated[str, *_text(20)] | None = None
    # Where the invoice notice is texted (SMS); a Taiwan mobile number, 09xxxxxxxx or +8869xxxxxxxx.
    mobile: Annotated[str, AfterValidator(_mobile)] | None = None


class InvoiceDraft(BaseModel):
    """``POST /v1/invoices`` as API.md shows it (``print`` is ``print_proof`` in Python)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    # Required, even for a consumer (send ``{"ubn": null}``): a request that forgot the buyer must not
    # silently become a B2C invoice (issue 15 item 10).
    buyer: Buyer
    carrier: Carrier | None = None
    donation_code: Annotated[str | None, BeforeValidator(_donation_code)] = None
    print_proof: StrictBool = Field(alias="print")
    """Whether a paper proof (證明聯) is printed: MIG ``PrintMark`` Y/N."""
    items: list[InvoiceItem] = Field(min_length=1, max_length=MAX_ITEMS)
    prices_include_tax: StrictBool
    invoice_type: InvoiceType = InvoiceType.GENERAL
    special_tax_rate: TaxRate | None = None
    """Rate of the taxable (4) items of a special (08) invoice, e.g. ``"0.25"``."""
    customs_clearance_mark: CustomsClearanceMark | None = None
    zero_tax_rate_reason: ZeroTaxRateReason | None = None
    # Mapped to MIG Main/RelateNumber, which holds at most 20 characters.
    order_id: Annotated[str, *_text(20)] | None = None
    main_remark: Annotated[str, *_text(200)] | None = None
    exchange: StrictBool = Field(
        default=False,
        description="Issue for B2B exchange (交換, MIG A0101): the buyer, a merchant of this platform whose receiving"
        " method is exchange, confirms (A0102) or rejects (A0301) it in its to-do list. Needs buyer.ubn, no"
        " carrier and print false. Off: stored (存證, F0401) as usual.",
    )

    @field_validator("items")
    @classmethod
    def _amounts_fit(cls, items: list[InvoiceItem]) -> list[InvoiceItem]:
        for index, item in enumerate(items):
            if not fits_mig_decimal(item.amount):
                raise as_pydantic_error(
                    InvalidInput(
                        "INVALID_AMOUNT",
                        "Quantity x unit price exceeds 20 digits.",
                        "數量乘以單價超過 20 位數。",
                        f"[{index}].unit_price",
                    )
                )
        return items

    @property
    def is_b2b(self) -> bool:
        return self.buyer.ubn is not None


def parse_draft(data: object) -> InvoiceDraft:
    """Validate a request body into an :class:`InvoiceDraft`; the first problem raises ``InvalidInput``."""
    return parse_model(InvoiceDraft, data)


@dataclass(frozen=True, slots=True)
class DomainWarning:
    """Something the platform will accept but the merchant should look at."""

    code: str
    message: str
    message_zh: str
    field: str | None = None


@dataclass(frozen=True, slots=True)
class ValidatedDraft:
    draft: InvoiceDraft
    amounts: AmountBlock
    warnings: tuple[DomainWarning, ...]


def validate_draft(draft: InvoiceDraft, *, seller_ubn: str) -> ValidatedDraft:
    """Apply the cross-field rules; the first broken one raises ``RuleViolation`` (``InvalidInput`` for
    a buyer name missing on a B2B invoice)."""
    validate_ubn(seller_ubn, "seller.ubn")
    _check_buyer(draft)
    _check_delivery(draft)
    _check_tax(draft)
    amounts = compute_invoice_amounts(
        [AmountLine(item.tax_type, item.amount) for item in draft.items],
        buyer_has_ubn=draft.is_b2b,
        prices_include_tax=draft.prices_include_tax,
        invoice_type=draft.invoice_type,
        special_tax_rate=draft.special_tax_rate,
    )
    warnings: list[DomainWarning] = []
    if draft.buyer.ubn == seller_ubn:
        warnings.append(
            DomainWarning(
                "SAME_SELLER_BUYER_UBN",
                "The buyer's UBN is the seller's own.",
                "注意：發票資料含有相同買賣方統一編號。",
                "buyer.ubn",
            )
        )
    return ValidatedDraft(draft, amounts, tuple(warnings))


def _check_buyer(draft: InvoiceDraft) -> None:
    if draft.is_b2b and draft.buyer.name is None:
        raise InvalidInput(
            "MISSING_FIELD",
            "A buyer with a UBN needs a name.",
            "買受人有統一編號時須填寫名稱。",
            "buyer.name",
        )


def _check_delivery(draft: InvoiceDraft) -> None:
    """How the invoice reaches the buyer: printed proof, carrier or donation (reference §2.10 1-3)."""
    if draft.donation_code is not None:
        if draft.is_b2b:
            # MOF API error 913: an invoice issued to a business cannot be donated.
            raise RuleViolation(
                "DONATION_WITH_BUYER_UBN",
                "An invoice to a buyer with a UBN cannot be donated.",
                "開立予營業人（有統一編號）的發票不得捐贈。",
                "donation_code",
            )
        if draft.carrier is not None:
            # MIG 4.x may allow carrier + donation (V4.8 self-test scenarios, 🟡) but older platform and
            # VAC rules forbid it and the reference lists it as unverified (§11.6). Refusing is the safe
            # reading: a refused request can be retried, an invoice the platform rejects cannot be undone.
            raise RuleViolation(
                "CARRIER_WITH_DONATION",
                "Choose either a carrier or a donation code, not both.",
                "載具與捐贈碼僅能擇一。",
                "donation_code",
            )
        if draft.print_proof:
            raise RuleViolation(
                "DONATION_PRINTED",
                "A donated invoice has no printed proof; set print to false.",
                "捐贈的發票不列印證明聯，print 須為 false。",
                "print",
            )
        return
    if draft.carrier is None:
        if not draft.is_b2b and not draft.print_proof:
            raise RuleViolation(
                "PRINT_REQUIRED",
                "A consumer invoice without a carrier or donation code must be printed.",
                "未使用載具且未捐贈的消費者發票須列印證明聯。",
                "print",
            )
        return
    # MIG 3.x: a printed invoice carries no carrier, except a mobile barcode together with a buyer
    # UBN, which must be kept whether or not a proof is printed.
    if draft.print_proof and not (draft.is_b2b and draft.carrier.type == MOBILE_BARCODE):
        raise RuleViolation(
            "CARRIER_INVOICE_PRINTED",
            "An invoice stored in a carrier is not printed; set print to false.",
            "存入載具的發票不列印證明聯，print 須為 false。",
            "print",
        )


def _check_tax(draft: InvoiceDraft) -> None:
    for index, item in enumerate(draft.items):
        ensure_item_tax_type_allowed(draft.invoice_type, item.tax_type, f"items[{index}].tax_type")
    zero_rated = any(item.tax_type is TaxType.ZERO_RATED for item in draft.items)
    for value, field, what, what_zh in (
        (draft.customs_clearance_mark, "customs_clearance_mark", "customs clearance mark", "通關方式註記"),
        (draft.zero_tax_rate_reason, "zero_tax_rate_reason", "zero-tax-rate reason", "零稅率原因"),
    ):
        if zero_rated and value is None:
            raise RuleViolation(
                "ZERO_TAX_FIELDS_REQUIRED",
                f"A zero-rated invoice needs its {what}.",
                f"零稅率發票須填寫{what_zh}。",
                field,
            )
        if not zero_rated and value is not None:
            raise RuleViolation(
                "ZERO_TAX_FIELDS_NOT_ALLOWED",
                f"Only an invoice with zero-rated items has a {what}.",
                f"僅含零稅率品項的發票可填寫{what_zh}。",
                field,
            )

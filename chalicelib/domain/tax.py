"""Tax classification of invoices and items: tax type (課稅別), rates, zero-rate reasons, customs mark."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from chalicelib.domain.errors import InvalidInput, RuleViolation
from chalicelib.domain.invoice_type import InvoiceType
from chalicelib.domain.validation import as_pydantic_error


class TaxType(StrEnum):
    """MIG ``TaxType``; ``MIXED`` exists only at invoice level."""

    TAXABLE = "1"
    """應稅: taxable, 5 % on general (07) invoices."""
    ZERO_RATED = "2"
    """零稅率: zero-rated (exports and the other VAT Act §7 cases)."""
    EXEMPT = "3"
    """免稅: tax-exempt."""
    SPECIAL = "4"
    """應稅(特種稅率): taxable at a special rate, special (08) invoices only."""
    MIXED = "9"
    """混合應稅與免稅或零稅率: an invoice whose items have different tax types."""

    @property
    def is_taxable(self) -> bool:
        return self in (TaxType.TAXABLE, TaxType.SPECIAL)


class ZeroTaxRateReason(StrEnum):
    """零稅率原因 (MIG 4.0+ ``ZeroTaxRateReason``), one per VAT Act §7 case."""

    EXPORTED_GOODS = "71"
    """外銷貨物."""
    EXPORT_SERVICES = "72"
    """與外銷有關之勞務，或在國內提供而在國外使用之勞務."""
    DUTY_FREE_SHOP = "73"
    """免稅商店銷售與過境或出境旅客."""
    BONDED_AREA_SUPPLY = "74"
    """銷售與保稅區營業人供營運之貨物或勞務."""
    INTERNATIONAL_TRANSPORT = "75"
    """國際間之運輸."""
    INTERNATIONAL_VESSELS = "76"
    """國際運輸用之船舶、航空器及遠洋漁船."""
    VESSEL_SUPPLIES = "77"
    """銷售與前述船舶、航空器、遠洋漁船所使用之貨物或修繕勞務."""
    BONDED_DIRECT_EXPORT = "78"
    """保稅區營業人銷售與課稅區營業人未輸往課稅區而直接出口之貨物."""
    BONDED_WAREHOUSE_EXPORT = "79"
    """保稅區營業人銷售與課稅區營業人存入自由港區事業或海關管理之保稅倉庫、物流中心以供外銷之貨物."""


class CustomsClearanceMark(StrEnum):
    """通關方式註記 in the MIG's own numbering.

    A value-added center may number these the other way round (ECPay's sample has 1 = through
    customs); translate at that boundary, never here.
    """

    NOT_THROUGH_CUSTOMS = "1"
    """非經海關出口."""
    THROUGH_CUSTOMS = "2"
    """經海關出口."""


#: 5 % business tax of a general (07) invoice.
GENERAL_TAX_RATE = Decimal("0.05")

#: Rates a special (08) invoice may carry: 0.25/0.15 (special food and beverage) and 0.02/0.05/0.01
#: (financial businesses), the TaxRateEnum of the official MIG 4.1 XSD (GenericType_4.0.xsd). The
#: 0.001 (agricultural wholesale) one VAC document named is not in it: an F0401 carrying it would be
#: refused by the MOF (E0305), so it is refused here.
SPECIAL_TAX_RATES = frozenset(Decimal(rate) for rate in ("0.25", "0.15", "0.05", "0.02", "0.01"))

#: Item tax types each invoice type allows (items never carry 9).
ITEM_TAX_TYPES: dict[InvoiceType, frozenset[TaxType]] = {
    InvoiceType.GENERAL: frozenset({TaxType.TAXABLE, TaxType.ZERO_RATED, TaxType.EXEMPT}),
    InvoiceType.SPECIAL: frozenset({TaxType.ZERO_RATED, TaxType.EXEMPT, TaxType.SPECIAL}),
}
#: Invoice-level tax types each invoice type allows.
INVOICE_TAX_TYPES: dict[InvoiceType, frozenset[TaxType]] = {
    invoice_type: item_types | {TaxType.MIXED} for invoice_type, item_types in ITEM_TAX_TYPES.items()
}


def invoice_tax_type(item_tax_types: set[TaxType] | frozenset[TaxType]) -> TaxType:
    """The invoice's ``TaxType``: the items' common type, or ``MIXED`` (9) when they differ."""
    if not item_tax_types:
        raise ValueError("an invoice has at least one item")
    if len(item_tax_types) == 1:
        return next(iter(item_tax_types))
    return TaxType.MIXED


def taxable_rate(invoice_type: InvoiceType, special_tax_rate: Decimal | None) -> Decimal:
    """The rate applied to the taxable part: 5 % for 07, the merchant's special rate for 08."""
    if invoice_type is InvoiceType.GENERAL:
        if special_tax_rate is not None:
            raise RuleViolation(
                "SPECIAL_TAX_RATE_NOT_ALLOWED",
                "Only special (08) invoices carry a special tax rate.",
                "僅特種稅額計算之發票（08）可指定特種稅率。",
                "special_tax_rate",
            )
        return GENERAL_TAX_RATE
    if special_tax_rate is None:
        raise RuleViolation(
            "SPECIAL_TAX_RATE_REQUIRED",
            "A special (08) invoice with special-rate items needs its special tax rate.",
            "特種稅額計算之發票（08）含特種稅率品項時須指定特種稅率。",
            "special_tax_rate",
        )
    if special_tax_rate not in SPECIAL_TAX_RATES:
        rates = ", ".join(sorted(str(rate) for rate in SPECIAL_TAX_RATES))
        raise InvalidInput(
            "INVALID_SPECIAL_TAX_RATE",
            f"The special tax rate must be one of {rates}.",
            f"特種稅率須為下列之一：{rates}。",
            "special_tax_rate",
        )
    return special_tax_rate


def ensure_item_tax_type_allowed(invoice_type: InvoiceType, tax_type: TaxType, field: str) -> None:
    """07 items are 1/2/3 and 08 items are 2/3/4; ``TAX_TYPE_NOT_ALLOWED`` otherwise."""
    if tax_type not in ITEM_TAX_TYPES[invoice_type]:
        allowed = "/".join(sorted(ITEM_TAX_TYPES[invoice_type]))
        raise RuleViolation(
            "TAX_TYPE_NOT_ALLOWED",
            f"Items of a {invoice_type.value} invoice must have tax type {allowed}.",
            f"{invoice_type.value} 發票的品項課稅別須為 {allowed}。",
            field,
        )


def check_item_tax_type(value: TaxType) -> TaxType:
    """Pydantic ``AfterValidator``: 9 (mixed) describes a whole invoice, never one item."""
    if value is TaxType.MIXED:
        raise as_pydantic_error(
            InvalidInput(
                "INVALID_TAX_TYPE",
                "An item's tax type is 1, 2, 3 or 4; 9 (mixed) applies to whole invoices only.",
                "品項課稅別須為 1、2、3 或 4；9（混合）僅用於整張發票。",
            )
        )
    return value

"""Invoice amounts (Amount block): ``Decimal`` money rounded half up (四捨五入), never float or ``round()``.

Rules (reference §2.5.4, §3.3):

* Item amount = quantity x unit price, kept to 7 fraction digits (MIG ``decimal(20,7)``).
* Items are summed per tax type; the Amount block holds integer NT$ per part, rounded half up.
* The business tax is computed once on the invoice's taxable total, never per line.
* B2B (buyer has a UBN): the tax is shown separately (VAT Act §32).
  Tax-inclusive prices: ``sales = round(gross / 1.05)``, ``tax = gross - sales`` (1380 -> 1314 + 66).
  Tax-exclusive prices: ``tax = round(sales x 0.05)``.
* B2C (no buyer UBN): ``SalesAmount`` is the **tax-inclusive** taxable total and ``TaxAmount`` is 0.
  The reference marks this 🟡 (one VAC verified it live; some builders split the tax for B2C too). We
  follow VAT Act §32, which has the tax included in a non-business buyer's invoice amount, and the
  VAC-verified convention; confirm on the MOF test site before go-live.
* ``TotalAmount = SalesAmount + FreeTaxSalesAmount + ZeroTaxSalesAmount + TaxAmount``, never negative.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.errors import RuleViolation
from chalicelib.domain.invoice_type import InvoiceType
from chalicelib.domain.tax import TaxType, invoice_tax_type, taxable_rate

#: Item amounts keep this many fraction digits (MIG ``decimal(20,7)``).
ITEM_AMOUNT_EXPONENT = Decimal("1E-7")
_WHOLE = Decimal("1")
# Quantity and unit price may each have 20 digits; their product needs up to 40, more than the
# default context's 28, and an inexact product would silently change money.
_PRECISION = 60


def round_half_up(value: Decimal) -> int:
    """Round to a whole NT$ the MOF way (四捨五入): 0.5 goes up, unlike Python's banker's ``round()``."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return int(value.quantize(_WHOLE, rounding=ROUND_HALF_UP))


def item_amount(quantity: Decimal, unit_price: Decimal) -> Decimal:
    """``quantity x unit_price`` rounded half up to 7 fraction digits."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return (quantity * unit_price).quantize(ITEM_AMOUNT_EXPONENT, rounding=ROUND_HALF_UP)


def precise_divide(value: Decimal, divisor: Decimal) -> Decimal:
    """``value / divisor`` with enough precision that rounding the result to NT$ is exact."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return value / divisor


@dataclass(frozen=True, slots=True)
class AmountLine:
    """What the Amount block needs of an item: its tax type and its amount (may be negative: a discount)."""

    tax_type: TaxType
    amount: Decimal


class AmountBlock(BaseModel):
    """The invoice's Amount block, named as in the API (``amounts``) and mapped 1:1 to MIG elements."""

    model_config = ConfigDict(frozen=True)

    sales_amount: int
    """SalesAmount, 應稅銷售額: B2B tax-exclusive; B2C tax-inclusive (see module docstring)."""
    free_tax_sales_amount: int
    """FreeTaxSalesAmount, 免稅銷售額."""
    zero_tax_sales_amount: int
    """ZeroTaxSalesAmount, 零稅率銷售額."""
    tax_type: TaxType
    tax_rate: Decimal
    """The taxable part's rate; ``0`` when the invoice has no taxable item."""
    tax_amount: int
    """TaxAmount: B2B the separated tax; B2C always 0."""
    total_amount: int

    tax_exclusive_sales_amount: int = Field(exclude=True)
    """Taxable sales *without* tax, for the 401 return and the QR code (not a MIG field).

    B2B: equals ``sales_amount``. B2C: ``round_half_up(sales_amount / (1 + rate))``, e.g. 340 -> 324,
    because the uploaded B2C ``sales_amount`` includes the tax.
    """
    output_tax_amount: int = Field(exclude=True)
    """Output tax (銷項稅額) for the 401 return: B2B ``tax_amount``; B2C the tax inside ``sales_amount``."""


def _ensure_not_negative(total: Decimal, what: str, what_zh: str) -> None:
    if total < 0:
        raise RuleViolation(
            "NEGATIVE_AMOUNT",
            f"The {what} items add up to a negative amount; discounts cannot exceed the sales they reduce.",
            f"{what_zh}品項合計為負數；折扣不可超過其所折抵的銷售額。",
            "items",
        )


def compute_invoice_amounts(
    lines: Sequence[AmountLine],
    *,
    buyer_has_ubn: bool,
    prices_include_tax: bool,
    invoice_type: InvoiceType = InvoiceType.GENERAL,
    special_tax_rate: Decimal | None = None,
) -> AmountBlock:
    """Build the Amount block from item lines; raises ``RuleViolation`` for negative or zero totals."""
    if not lines:
        raise RuleViolation("NO_ITEMS", "An invoice has at least one item.", "發票至少須有一個品項。", "items")
    types = frozenset(line.tax_type for line in lines)
    taxable = sum((line.amount for line in lines if line.tax_type.is_taxable), Decimal(0))
    zero = sum((line.amount for line in lines if line.tax_type is TaxType.ZERO_RATED), Decimal(0))
    exempt = sum((line.amount for line in lines if line.tax_type is TaxType.EXEMPT), Decimal(0))
    _ensure_not_negative(taxable, "taxable", "應稅")
    _ensure_not_negative(zero, "zero-rated", "零稅率")
    _ensure_not_negative(exempt, "tax-exempt", "免稅")

    has_taxable = any(tax_type.is_taxable for tax_type in types)
    if invoice_type is InvoiceType.GENERAL or TaxType.SPECIAL in types:
        rate = taxable_rate(invoice_type, special_tax_rate)
    else:
        rate = Decimal(0)
    sales, tax, tax_exclusive = _split_taxable(taxable, rate, buyer_has_ubn, prices_include_tax)
    zero_amount, exempt_amount = round_half_up(zero), round_half_up(exempt)
    total = sales + exempt_amount + zero_amount + tax
    if total <= 0:
        raise RuleViolation(
            "ZERO_AMOUNT_INVOICE",
            "An invoice total must be greater than 0.",
            "不得開立零元發票，總計須大於 0。",
            "items",
        )
    return AmountBlock(
        sales_amount=sales,
        free_tax_sales_amount=exempt_amount,
        zero_tax_sales_amount=zero_amount,
        tax_type=invoice_tax_type(types),
        tax_rate=rate if has_taxable else Decimal(0),
        tax_amount=tax,
        total_amount=total,
        tax_exclusive_sales_amount=tax_exclusive,
        output_tax_amount=sales + tax - tax_exclusive,
    )


def _split_taxable(
    taxable: Decimal, rate: Decimal, buyer_has_ubn: bool, prices_include_tax: bool
) -> tuple[int, int, int]:
    """``(SalesAmount, TaxAmount, tax-exclusive sales)`` of the taxable part."""
    if prices_include_tax:
        gross = round_half_up(taxable)
        net = round_half_up(precise_divide(Decimal(gross), 1 + rate))
    else:
        net = round_half_up(taxable)
        gross = net + round_half_up(Decimal(net) * rate)
    if buyer_has_ubn:
        return net, gross - net, net
    return gross, 0, net


def allocate_largest_remainder(total: int, weights: Sequence[Decimal]) -> list[int]:
    """Split the integer ``total`` in proportion to ``weights`` so the parts sum to ``total`` exactly.

    Each part is its exact share rounded down; the units left over go, one each, to the parts with the
    largest fractional remainders (earlier lines win ties), i.e. Hamilton's method.
    """
    if total < 0 or any(weight < 0 for weight in weights):
        raise ValueError("allocation needs a non-negative total and weights")
    weight_sum = sum((Fraction(weight) for weight in weights), Fraction(0))
    if weight_sum == 0:
        if total:
            raise ValueError("cannot allocate a positive total over zero weights")
        return [0] * len(weights)
    shares = [Fraction(total) * Fraction(weight) / weight_sum for weight in weights]
    parts = [int(share) for share in shares]  # int() floors a non-negative Fraction
    leftover = total - sum(parts)
    by_remainder = sorted(range(len(shares)), key=lambda index: (-(shares[index] - parts[index]), index))
    for index in by_remainder[:leftover]:
        parts[index] += 1
    return parts

"""Allowances (折讓證明單, MIG G0401): returns or price reductions against issued invoices.

Since 2025-01-01 the seller issues them (``AllowanceType`` 2). Unlike an invoice, an allowance carries
**tax-exclusive** amounts per line plus an integer tax per line, and the line taxes must add up to the
header ``TaxAmount`` exactly (稅額分攤合計＝單頭稅).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool

from chalicelib.domain.amounts import (
    ITEM_AMOUNT_EXPONENT,
    allocate_largest_remainder,
    item_amount,
    precise_divide,
    round_half_up,
)
from chalicelib.domain.errors import InvalidInput, RuleViolation
from chalicelib.domain.fields import check_text, decimal_field
from chalicelib.domain.invoice_number import InvoiceNumber
from chalicelib.domain.tax import GENERAL_TAX_RATE, TaxType, check_item_tax_type
from chalicelib.domain.validation import as_pydantic_error

MAX_LINES = 9999


def _invoice_number(value: object) -> str:
    try:
        return InvoiceNumber.parse(value, "").value
    except InvalidInput as error:
        raise as_pydantic_error(error) from None


class AllowanceItem(BaseModel):
    """One allowance line as the API takes it; it points at the original invoice it reduces."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    original_invoice_number: Annotated[str, BeforeValidator(_invoice_number)]
    original_sequence_number: int | None = Field(default=None, ge=1, le=9999, strict=True)
    description: Annotated[str, Field(min_length=1, max_length=500), AfterValidator(check_text)]
    quantity: Annotated[Decimal, decimal_field("INVALID_QUANTITY", "Quantity", "數量", positive=True)]
    unit: Annotated[str, Field(max_length=6), AfterValidator(check_text)] | None = None
    unit_price: Annotated[Decimal, decimal_field("INVALID_UNIT_PRICE", "Unit price", "單價", positive=True)]
    tax_type: Annotated[TaxType, AfterValidator(check_item_tax_type)]

    @property
    def amount(self) -> Decimal:
        return item_amount(self.quantity, self.unit_price)


class AllowanceDraft(BaseModel):
    """``POST /v1/allowances`` body.

    ``prices_include_tax`` left out means "as on the original invoice", which the caller resolves.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    items: list[AllowanceItem] = Field(min_length=1, max_length=MAX_LINES)
    prices_include_tax: StrictBool | None = None
    remark: Annotated[str, Field(max_length=200), AfterValidator(check_text)] | None = None


@dataclass(frozen=True, slots=True)
class AllowanceLine:
    """A computed G0401 line: tax-exclusive ``unit_price`` and ``amount``, integer ``tax``."""

    original_invoice_number: str
    tax_type: TaxType
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    tax: int


@dataclass(frozen=True, slots=True)
class AllowanceAmounts:
    """G0401 ``Amount``: ``tax_amount`` = sum of line taxes, ``total_amount`` the tax-exclusive total."""

    lines: tuple[AllowanceLine, ...]
    tax_amount: int
    total_amount: int


def compute_allowance_amounts(
    items: Sequence[AllowanceItem],
    *,
    prices_include_tax: bool,
    tax_rate: Decimal = GENERAL_TAX_RATE,
) -> AllowanceAmounts:
    """Turn allowance items into tax-exclusive lines whose taxes sum exactly to the header tax.

    The header tax is computed once on the taxable total (half up), like an invoice's: tax-exclusive
    input gives ``round(sum x rate)``; tax-inclusive input gives ``gross - round(gross / (1 + rate))``,
    so a 1050 refund becomes 1000 + 50. It is then spread over the taxable lines in proportion to their
    amounts with the largest-remainder method. With tax-inclusive input the tax-exclusive unit price is
    ``amount / quantity`` to 7 digits, so ``quantity x unit_price`` can differ from ``amount`` in the
    7th decimal; ``amount`` is authoritative.
    """
    if not items:
        raise RuleViolation("NO_ITEMS", "An allowance has at least one line.", "折讓單至少須有一個品項。", "items")
    amounts = [item.amount for item in items]
    taxable_indexes = [index for index, item in enumerate(items) if item.tax_type.is_taxable]
    taxable_total = sum((amounts[index] for index in taxable_indexes), Decimal(0))
    if prices_include_tax:
        gross = round_half_up(taxable_total)
        header_tax = gross - round_half_up(precise_divide(Decimal(gross), 1 + tax_rate))
    else:
        header_tax = round_half_up(taxable_total * tax_rate)
    shares = allocate_largest_remainder(header_tax, [amounts[index] for index in taxable_indexes])
    taxes = [0] * len(items)
    for index, share in zip(taxable_indexes, shares, strict=True):
        taxes[index] = share

    lines: list[AllowanceLine] = []
    for index, item in enumerate(items):
        amount = amounts[index] - taxes[index] if prices_include_tax else amounts[index]
        if amount < 0:
            raise RuleViolation(
                "ALLOWANCE_LINE_TOO_SMALL",
                "This line is too small to carry its share of the tax; merge it with another line.",
                "此品項金額過小，無法分攤稅額；請與其他品項合併。",
                f"items[{index}].unit_price",
            )
        unit_price = amount if item.quantity == 1 else _unit_price(amount, item.quantity)
        lines.append(
            AllowanceLine(item.original_invoice_number, item.tax_type, item.quantity, unit_price, amount, taxes[index])
        )
    total = round_half_up(sum((line.amount for line in lines), Decimal(0)))
    return AllowanceAmounts(tuple(lines), sum(taxes), total)


def _unit_price(amount: Decimal, quantity: Decimal) -> Decimal:
    return precise_divide(amount, quantity).quantize(ITEM_AMOUNT_EXPONENT, rounding=ROUND_HALF_UP)


def ensure_within_invoice(allowed_so_far: int, requested: int, invoice_total: int, field: str = "items") -> None:
    """An invoice cannot be reduced by more than its total (tax-inclusive NT$ on both sides)."""
    if allowed_so_far + requested > invoice_total:
        raise RuleViolation(
            "ALLOWANCE_EXCEEDS_INVOICE",
            f"Allowances would total {allowed_so_far + requested}, more than the invoice's {invoice_total}.",
            f"折讓合計 {allowed_so_far + requested} 將超過原發票總計 {invoice_total}。",
            field,
        )

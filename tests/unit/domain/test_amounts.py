"""Amount block: reference §3.3 worked figures and the invariants every invoice must keep."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.amounts import (
    AmountLine,
    allocate_largest_remainder,
    compute_invoice_amounts,
    item_amount,
    round_half_up,
)
from chalicelib.domain.errors import InvalidInput, RuleViolation
from chalicelib.domain.invoice_type import InvoiceType
from chalicelib.domain.tax import TaxType

T, ZERO, FREE, SPECIAL = TaxType.TAXABLE, TaxType.ZERO_RATED, TaxType.EXEMPT, TaxType.SPECIAL


def lines(*pairs: tuple[TaxType, str]) -> list[AmountLine]:
    return [AmountLine(tax_type, Decimal(amount)) for tax_type, amount in pairs]


def block_tuple(*pairs: tuple[TaxType, str], b2b: bool, inclusive: bool) -> tuple[int, int, int, int, int]:
    block = compute_invoice_amounts(lines(*pairs), buyer_has_ubn=b2b, prices_include_tax=inclusive)
    return (
        block.sales_amount,
        block.free_tax_sales_amount,
        block.zero_tax_sales_amount,
        block.tax_amount,
        block.total_amount,
    )


@pytest.mark.parametrize(
    ("gross", "sales", "tax"),
    [("1380", 1314, 66), ("1050", 1000, 50), ("105", 100, 5), ("340", 324, 16)],  # reference §3.3
)
def test_b2b_tax_inclusive_prices_split_the_tax_off_the_total(gross: str, sales: int, tax: int) -> None:
    assert block_tuple((T, gross), b2b=True, inclusive=True) == (sales, 0, 0, tax, int(gross))


@pytest.mark.parametrize(
    ("net", "tax"),
    [("1000", 50), ("1314", 66), ("10", 1), ("30", 2), ("50", 3), ("70", 4), ("90", 5)],
)
def test_b2b_tax_exclusive_prices_round_the_tax_half_up(net: str, tax: int) -> None:
    # 10 x 5 % = 0.5 -> 1 and 50 x 5 % = 2.5 -> 3: banker's rounding would give 0 and 2
    assert block_tuple((T, net), b2b=True, inclusive=False) == (int(net), 0, 0, tax, int(net) + tax)


def test_b2b_tax_is_computed_on_the_total_not_per_line() -> None:
    # per line: 10 x 5 % = 0.5 -> 1, three times = 3; on the total: 30 x 5 % = 1.5 -> 2
    assert block_tuple((T, "10"), (T, "10"), (T, "10"), b2b=True, inclusive=False)[3] == 2


def test_b2c_sales_amount_includes_the_tax_and_tax_amount_is_zero() -> None:
    block = compute_invoice_amounts(lines((T, "340")), buyer_has_ubn=False, prices_include_tax=True)
    assert (block.sales_amount, block.tax_amount, block.total_amount) == (340, 0, 340)
    # what the 401 return and the QR code need: 340 / 1.05 = 323.8 -> 324, tax 16
    assert (block.tax_exclusive_sales_amount, block.output_tax_amount) == (324, 16)
    assert "tax_exclusive_sales_amount" not in block.model_dump()  # not an API/MIG field


def test_b2c_with_tax_exclusive_prices_adds_the_tax_into_the_sales_amount() -> None:
    block = compute_invoice_amounts(lines((T, "1000")), buyer_has_ubn=False, prices_include_tax=False)
    assert (block.sales_amount, block.tax_amount, block.total_amount) == (1050, 0, 1050)
    assert block.tax_exclusive_sales_amount == 1000


def test_mixed_invoice_keeps_each_part_and_taxes_only_the_taxable_one() -> None:
    block = compute_invoice_amounts(
        lines((T, "105"), (FREE, "50"), (ZERO, "30")), buyer_has_ubn=True, prices_include_tax=True
    )
    assert block.tax_type is TaxType.MIXED
    assert (block.sales_amount, block.tax_amount) == (100, 5)
    assert (block.free_tax_sales_amount, block.zero_tax_sales_amount, block.total_amount) == (50, 30, 185)


def test_single_tax_type_invoices_keep_that_type_and_rate() -> None:
    exempt = compute_invoice_amounts(lines((FREE, "80")), buyer_has_ubn=False, prices_include_tax=True)
    assert (exempt.tax_type, exempt.tax_rate, exempt.free_tax_sales_amount) == (FREE, Decimal(0), 80)
    taxable = compute_invoice_amounts(lines((T, "80")), buyer_has_ubn=False, prices_include_tax=True)
    assert (taxable.tax_type, taxable.tax_rate) == (T, Decimal("0.05"))


def test_discount_lines_reduce_their_part() -> None:
    assert block_tuple((T, "1200"), (T, "-150"), b2b=True, inclusive=True) == (1000, 0, 0, 50, 1050)


def test_a_discount_larger_than_its_part_is_refused() -> None:
    with pytest.raises(RuleViolation) as caught:
        block_tuple((T, "100"), (FREE, "500"), (T, "-150"), b2b=False, inclusive=True)
    assert (caught.value.code, caught.value.field) == ("NEGATIVE_AMOUNT", "items")


def test_a_zero_total_is_refused() -> None:
    with pytest.raises(RuleViolation) as caught:
        block_tuple((T, "100"), (T, "-100"), b2b=False, inclusive=True)
    assert caught.value.code == "ZERO_AMOUNT_INVOICE"


def test_fractional_amounts_round_half_up_per_part() -> None:
    # 3 x 33.3333333 = 99.9999999 -> 100; 0.5 -> 1
    assert item_amount(Decimal("3"), Decimal("33.3333333")) == Decimal("99.9999999")
    assert block_tuple((T, "99.9999999"), (FREE, "0.5"), b2b=False, inclusive=True) == (100, 1, 0, 0, 101)


def test_round_half_up_is_not_bankers_rounding() -> None:
    assert [round_half_up(Decimal(v)) for v in ("50.5", "2.5", "0.5", "1.4999999", "1.5")] == [51, 3, 1, 1, 2]


def test_item_amount_is_exact_for_twenty_digit_operands() -> None:
    # 40 significant digits: the default decimal context (28 digits) would round this product
    quantity = Decimal("1234567890123.4567891")
    price = Decimal("9876543210987.6543211")
    product = 12345678901234567891 * 98765432109876543211  # the same digits as Python integers
    whole, fraction = divmod(product, 10**14)
    assert fraction % 10**7 < 5 * 10**6  # so rounding to 7 digits simply truncates here
    expected = Decimal(f"{whole}.{fraction // 10**7:07d}")
    assert item_amount(quantity, price) == expected


def test_special_invoices_use_the_merchants_special_rate() -> None:
    block = compute_invoice_amounts(
        lines((SPECIAL, "1250")),
        buyer_has_ubn=True,
        prices_include_tax=True,
        invoice_type=InvoiceType.SPECIAL,
        special_tax_rate=Decimal("0.25"),
    )
    assert (block.sales_amount, block.tax_amount, block.tax_rate) == (1000, 250, Decimal("0.25"))


@pytest.mark.parametrize(
    ("invoice_type", "rate", "code"),
    [
        (InvoiceType.SPECIAL, None, "SPECIAL_TAX_RATE_REQUIRED"),
        (InvoiceType.GENERAL, Decimal("0.25"), "SPECIAL_TAX_RATE_NOT_ALLOWED"),
        (InvoiceType.SPECIAL, Decimal("0.3"), "INVALID_SPECIAL_TAX_RATE"),
    ],
)
def test_special_rate_rules(invoice_type: InvoiceType, rate: Decimal | None, code: str) -> None:
    item_type = SPECIAL if invoice_type is InvoiceType.SPECIAL else T
    with pytest.raises((RuleViolation, InvalidInput)) as caught:
        compute_invoice_amounts(
            lines((item_type, "100")),
            buyer_has_ubn=True,
            prices_include_tax=True,
            invoice_type=invoice_type,
            special_tax_rate=rate,
        )
    assert caught.value.code == code


def test_allocation_example_ties_go_to_earlier_lines() -> None:
    assert allocate_largest_remainder(2, [Decimal(10)] * 3) == [1, 1, 0]
    assert allocate_largest_remainder(50, [Decimal(525), Decimal(525)]) == [25, 25]
    assert allocate_largest_remainder(0, []) == []


# --- properties -------------------------------------------------------------------------------

HALF = Decimal("0.5")


def hround(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


money = st.decimals(min_value=Decimal("1"), max_value=Decimal("999999"), places=2)
item = st.tuples(st.sampled_from([T, ZERO, FREE]), money)


@given(st.lists(item, min_size=1, max_size=12), st.booleans(), st.booleans())
def test_amount_block_always_reconciles_with_its_items(
    items: list[tuple[TaxType, Decimal]], b2b: bool, inclusive: bool
) -> None:
    block = compute_invoice_amounts(
        [AmountLine(t, a) for t, a in items], buyer_has_ubn=b2b, prices_include_tax=inclusive
    )
    parts = (block.sales_amount, block.free_tax_sales_amount, block.zero_tax_sales_amount, block.tax_amount)
    assert block.total_amount == sum(parts) > 0
    assert min(parts) >= 0
    taxable = sum((a for t, a in items if t is T), Decimal(0))
    assert block.free_tax_sales_amount == hround(sum((a for t, a in items if t is FREE), Decimal(0)))
    assert block.zero_tax_sales_amount == hround(sum((a for t, a in items if t is ZERO), Decimal(0)))
    types = {t for t, _ in items}
    assert block.tax_type == (next(iter(types)) if len(types) == 1 else TaxType.MIXED)
    if not b2b:
        assert block.tax_amount == 0
    if inclusive:
        # the taxable items are what the buyer pays for the taxable part
        assert block.sales_amount + block.tax_amount == hround(taxable)
    else:
        assert block.tax_exclusive_sales_amount == hround(taxable)
    if b2b and inclusive:
        assert abs(block.tax_amount - hround(taxable) * Decimal("0.05") / Decimal("1.05")) <= HALF
    if b2b and not inclusive:
        assert abs(block.tax_amount - block.sales_amount * Decimal("0.05")) <= HALF
    # the tax-exclusive figure for the 401 return / QR is always within rounding of gross / 1.05
    gross = block.sales_amount + block.tax_amount
    assert abs(block.tax_exclusive_sales_amount - gross / Decimal("1.05")) <= HALF


@given(st.integers(0, 10**6), st.lists(st.decimals(min_value=0, max_value=10**6, places=7), min_size=1))
def test_largest_remainder_parts_sum_exactly_and_stay_within_one_of_their_share(
    total: int, weights: list[Decimal]
) -> None:
    if sum(weights) == 0:
        return
    parts = allocate_largest_remainder(total, weights)
    assert sum(parts) == total
    for part, weight in zip(parts, weights, strict=True):
        share = Decimal(total) * weight / sum(weights)
        assert share - 1 < part < share + 1


@given(
    st.lists(money.filter(lambda m: m >= 10), min_size=1, max_size=8),
    st.integers(0, 90),
    st.booleans(),
    st.booleans(),
)
def test_discount_lines_never_break_reconciliation(
    prices: list[Decimal], discount_percent: int, b2b: bool, inclusive: bool
) -> None:
    # at most 90 % off at least NT$10 leaves at least NT$1, so the invoice is never a zero invoice
    discount = -(sum(prices, Decimal(0)) * Decimal(discount_percent) / 100).quantize(Decimal("0.01"))
    items = [AmountLine(T, price) for price in prices] + [AmountLine(T, discount)]
    block = compute_invoice_amounts(items, buyer_has_ubn=b2b, prices_include_tax=inclusive)
    paid = hround(sum(prices, Decimal(0)) + discount)
    assert block.total_amount == block.sales_amount + block.tax_amount
    assert block.sales_amount >= 0 and block.tax_amount >= 0
    if inclusive:
        assert block.total_amount == paid
    else:
        assert block.tax_exclusive_sales_amount == paid

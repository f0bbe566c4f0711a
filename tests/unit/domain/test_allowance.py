"""Allowances (折讓, G0401): tax-exclusive lines whose integer taxes sum to the header tax."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.allowance import (
    AllowanceDraft,
    AllowanceItem,
    compute_allowance_amounts,
    ensure_within_invoice,
)
from chalicelib.domain.errors import InvalidInput, RuleViolation
from chalicelib.domain.tax import TaxType
from chalicelib.domain.validation import parse_model


def item(price: str, quantity: str = "1", tax_type: str = "1") -> AllowanceItem:
    return AllowanceItem.model_validate(
        {
            "original_invoice_number": "AB12345600",
            "description": "拿鐵咖啡",
            "quantity": quantity,
            "unit_price": price,
            "tax_type": tax_type,
        }
    )


def test_a_1050_tax_inclusive_refund_is_1000_plus_50() -> None:
    result = compute_allowance_amounts([item("1050")], prices_include_tax=True)
    assert (result.total_amount, result.tax_amount) == (1000, 50)
    assert (result.lines[0].amount, result.lines[0].unit_price, result.lines[0].tax) == (
        Decimal(1000),
        Decimal(1000),
        50,
    )


def test_a_1000_tax_exclusive_refund_carries_50_tax() -> None:
    result = compute_allowance_amounts([item("1000")], prices_include_tax=False)
    assert (result.total_amount, result.tax_amount) == (1000, 50)


def test_header_tax_is_rounded_once_and_spread_over_lines() -> None:
    # 3 x 10 tax-exclusive: header 30 x 5 % = 1.5 -> 2 (per line it would be 3 x 1 = 3);
    # each line's exact share is 0.5, so the two units go to the first two lines
    result = compute_allowance_amounts([item("10"), item("10"), item("10")], prices_include_tax=False)
    assert result.tax_amount == 2
    assert [line.tax for line in result.lines] == [1, 1, 0]
    assert result.total_amount == 30


def test_tax_inclusive_lines_become_tax_exclusive_per_line() -> None:
    result = compute_allowance_amounts([item("525"), item("262.5", "2")], prices_include_tax=True)
    assert result.tax_amount == 50
    assert [line.tax for line in result.lines] == [25, 25]
    assert [line.amount for line in result.lines] == [Decimal(500), Decimal(500)]
    assert result.lines[1].unit_price == Decimal(250)


def test_exempt_and_zero_rated_lines_carry_no_tax() -> None:
    result = compute_allowance_amounts(
        [item("105"), item("50", tax_type="3"), item("30", tax_type="2")], prices_include_tax=True
    )
    assert [line.tax for line in result.lines] == [5, 0, 0]
    assert (result.total_amount, result.tax_amount) == (180, 5)


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("unit_price", "0", "INVALID_UNIT_PRICE"),
        ("unit_price", "-5", "INVALID_UNIT_PRICE"),
        ("quantity", "0", "INVALID_QUANTITY"),
        ("tax_type", "9", "INVALID_TAX_TYPE"),
        ("original_invoice_number", "AB-12345600", "INVALID_INVOICE_NUMBER"),
    ],
)
def test_allowance_lines_are_checked_with_field_paths(field: str, value: str, code: str) -> None:
    body = {
        "items": [
            {
                "original_invoice_number": "AB12345600",
                "description": "拿鐵咖啡",
                "quantity": "1",
                "unit_price": "62",
                "tax_type": "1",
                field: value,
            }
        ]
    }
    with pytest.raises(InvalidInput) as caught:
        parse_model(AllowanceDraft, body)
    assert (caught.value.code, caught.value.field) == (code, f"items[0].{field}")


def test_the_api_example_parses_and_leaves_tax_inclusion_to_the_original_invoice() -> None:
    draft = parse_model(
        AllowanceDraft,
        {
            "items": [
                {
                    "original_invoice_number": "AB12345600",
                    "description": "拿鐵咖啡",
                    "quantity": "1",
                    "unit_price": "62",
                    "tax_type": "1",
                }
            ]
        },
    )
    assert draft.prices_include_tax is None
    assert draft.items[0].tax_type is TaxType.TAXABLE


def test_an_invoice_cannot_be_reduced_below_zero() -> None:
    ensure_within_invoice(1000, 50, 1050)
    with pytest.raises(RuleViolation) as caught:
        ensure_within_invoice(1000, 51, 1050)
    assert caught.value.code == "ALLOWANCE_EXCEEDS_INVOICE"


prices = st.decimals(min_value=Decimal("1"), max_value=Decimal("100000"), places=2)
lines = st.lists(st.tuples(prices, st.sampled_from(["1", "2", "3"])), min_size=1, max_size=15)


@given(lines, st.booleans())
def test_line_taxes_always_sum_to_the_header_tax(data: list[tuple[Decimal, str]], inclusive: bool) -> None:
    items = [item(str(price), tax_type=tax_type) for price, tax_type in data]
    result = compute_allowance_amounts(items, prices_include_tax=inclusive)
    assert sum(line.tax for line in result.lines) == result.tax_amount
    assert all(line.tax >= 0 and line.amount >= 0 for line in result.lines)
    assert all(line.tax == 0 for line in result.lines if line.tax_type is not TaxType.TAXABLE)
    taxable = sum((p for p, t in data if t == "1"), Decimal(0))
    half = Decimal("0.5")
    if inclusive:
        gross = taxable.quantize(Decimal(1), rounding=ROUND_HALF_UP)
        assert abs(result.tax_amount - gross * Decimal("0.05") / Decimal("1.05")) <= half
    else:
        assert abs(result.tax_amount - taxable * Decimal("0.05")) <= half
    # each line's tax is its proportional share of the header tax, give or take less than one dollar
    for price, line in zip((p for p, _ in data), result.lines, strict=True):
        if line.tax_type is TaxType.TAXABLE:
            assert abs(line.tax - result.tax_amount * price / taxable) < 1
    exclusive_total = sum((line.amount for line in result.lines), Decimal(0))
    assert abs(result.total_amount - exclusive_total) <= half

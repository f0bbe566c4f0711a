"""The bimonthly business-tax return (401/403/404) from a period's running totals (reference §7).

Every expected figure below is worked out by hand in the comments, never copied from the code.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.filing import (
    OtherPurchases,
    PurchaseTotals,
    SalesTotals,
    TaxReturn,
    b2c_split,
    compute_return,
)

# ---------------------------------------------------------------------------------------------
# B2C split: sales = total ÷ 1.05 rounded half up, tax = the rest
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "sales", "tax"),
    [
        (0, 0, 0),
        (21, 20, 1),  # 21 / 1.05 = 20 exactly
        (105, 100, 5),  # 105 / 1.05 = 100 exactly
        (10_500, 10_000, 500),  # 10,500 / 1.05 = 10,000 exactly
        (340, 324, 16),  # 340 / 1.05 = 323.809... -> 324; 340 - 324 = 16 (reference §3.3)
        # total / 1.05 = 20 x total / 21, so the fraction is always a multiple of 1/21 and is never
        # exactly .5 (40 x total is even, 42k + 21 is odd). The nearest cases are 11/21 (rounds up)
        # and 10/21 (rounds down): truncating instead of rounding would get the first two wrong.
        (10, 10, 0),  # 10 x 20 / 21 = 200/21 = 9 + 11/21 = 9.5238 -> 10; tax 10 - 10 = 0
        (31, 30, 1),  # 31 x 20 / 21 = 620/21 = 29 + 11/21 = 29.5238 -> 30; tax 31 - 30 = 1
        (11, 10, 1),  # 11 x 20 / 21 = 220/21 = 10 + 10/21 = 10.476 -> 10; tax 11 - 10 = 1
        (32, 30, 2),  # 32 x 20 / 21 = 640/21 = 30 + 10/21 = 30.476 -> 30; tax 32 - 30 = 2
        # 10,531: 21 x 501 = 10,521, remainder 10 -> 10,531 x 20 / 21 = 10,029 + 11/21 -> 10,030; tax 501
        (10_531, 10_030, 501),
    ],
)
def test_b2c_split_divides_by_1_05_and_rounds_half_up(total: int, sales: int, tax: int) -> None:
    assert b2c_split(total) == (sales, tax)


@given(st.integers(min_value=0, max_value=10**13))
def test_b2c_split_sums_back_and_its_tax_is_within_half_a_dollar_of_the_exact_tax(total: int) -> None:
    sales, tax = b2c_split(total)
    assert sales + tax == total
    # exact tax inside a 5 % tax-inclusive total: total - total / 1.05 = total / 21
    assert abs(Fraction(tax) - (Fraction(total) - Fraction(total) / Fraction(105, 100))) <= Fraction(1, 2)


# ---------------------------------------------------------------------------------------------
# A hand-worked return
# ---------------------------------------------------------------------------------------------

WORKED_SALES = SalesTotals(
    b2b_taxable_sales=10_000 + 2_000,  # two B2B invoices: 10,000 + tax 500 and 2,000 + tax 100
    b2b_output_tax=500 + 100,
    b2c_taxable_total=10_531,  # tax-inclusive B2C takings: 10,030 + 501 (see the split test above)
    zero_rated_not_customs=3_000,
    zero_rated_customs=4_000,
    allowance_sales=1_000,
    allowance_tax=50,
    allowance_zero_rated=190,  # 7,000 - 190 = 6,810, whose 5 % is 340.5: the refund limit rounds half up
    invoice_count=5,
    allowance_count=2,
)
WORKED_PURCHASES = PurchaseTotals(
    invoice_count=3, amount=6_000, tax=300, allowance_count=1, allowance_amount=1_000, allowance_tax=50
)


def worked_return() -> TaxReturn:
    return compute_return(
        WORKED_SALES, WORKED_PURCHASES, previous_credit=100, other_purchases=OtherPurchases(amount=500, tax=25)
    )


def test_a_hand_worked_return() -> None:
    tax_return = worked_return()
    expected = {
        # sales
        "5": 22_030,  # 12,000 B2B + 10,030 B2C (10,531 / 1.05 = 10,029.52 -> 10,030)
        "6": 1_101,  # 600 B2B + 501 B2C (10,531 - 10,030)
        "7": 3_000,  # zero-rated, not through customs
        "15": 4_000,  # zero-rated, through customs
        "17": 1_000,  # less allowances: sales
        "18": 50,  # less allowances: tax
        "19": 190,  # less allowances: zero-rated
        "21": 21_030,  # 1 + 5 + 9 + 13 - 17 = 0 + 22,030 + 0 + 0 - 1,000
        "22": 1_051,  # 2 + 6 + 10 + 14 - 18 = 0 + 1,101 + 0 + 0 - 50
        "23": 6_810,  # 7 + 15 - 19 = 3,000 + 4,000 - 190
        "25": 27_840,  # 21 + 23 = 21,030 + 6,810
        # purchases
        "28": 500,  # other uniform invoices (declared by the merchant)
        "29": 25,
        "32": 6_000,  # e-invoices received on the platform
        "33": 300,
        "40": 1_000,  # less purchase allowances
        "41": 50,
        "44": 5_500,  # 28 + 32 - 40 = 500 + 6,000 - 1,000
        "45": 275,  # 29 + 33 - 41 = 25 + 300 - 50
        "48": 5_500,  # = 44 (no fixed assets known)
        # tax
        "101": 1_051,  # output tax = 22
        "107": 275,  # deductible input tax = 45 (+ 47 = 0)
        "108": 100,  # credit carried from the last period
        "110": 375,  # 107 + 108 = 275 + 100
        "111": 676,  # 101 - 110 = 1,051 - 375 (positive: payable)
        "112": 0,  # nothing overpaid
        "113": 341,  # 23 x 5 % = 6,810 x 0.05 = 340.5 -> 341 half up (banker's rounding would say 340)
        "114": 0,  # min(112, 113) = min(0, 341)
        "115": 0,  # 112 - 114
    }
    assert {code: tax_return.fields[code] for code in expected} == expected
    assert tax_return.payable == 676
    assert tax_return.refund == 0
    assert tax_return.credit_carried_forward == 0
    assert tax_return.form == "401"
    assert tax_return.complete
    assert tax_return.statements == ()


def test_rows_the_platform_cannot_know_are_zero() -> None:
    fields = worked_return().fields
    # triplicate/duplicate paper invoices and sales without invoices (1, 2, 9, 10, 13, 14), fixed assets (46, 47)
    assert [fields[code] for code in ("1", "2", "9", "10", "13", "14", "46", "47")] == [0] * 8


def test_an_empty_period_files_a_zero_return() -> None:
    tax_return = compute_return(SalesTotals(), PurchaseTotals())
    assert tax_return.form == "401"
    assert all(value == 0 for value in tax_return.fields.values())


# ---------------------------------------------------------------------------------------------
# Credit: input tax above output tax
# ---------------------------------------------------------------------------------------------


def test_an_exporter_gets_a_refund_up_to_the_limit_and_carries_the_rest() -> None:
    sales = SalesTotals(b2b_taxable_sales=2_000, b2b_output_tax=100, zero_rated_not_customs=5_010, invoice_count=3)
    purchases = PurchaseTotals(invoice_count=4, amount=20_000, tax=1_000)
    f = compute_return(sales, purchases).fields
    # 101 = 100; 107 = 1,000; 110 = 1,000 + 0
    assert (f["101"], f["107"], f["110"]) == (100, 1_000, 1_000)
    assert f["111"] == 0  # 101 < 110: nothing payable
    assert f["112"] == 900  # 110 - 101 = 1,000 - 100
    assert f["23"] == 5_010
    assert f["113"] == 251  # 5,010 x 0.05 = 250.5 -> 251 half up
    assert f["114"] == 251  # min(900, 251)
    assert f["115"] == 649  # 900 - 251


def test_the_whole_overpayment_is_refunded_when_below_the_limit() -> None:
    sales = SalesTotals(b2b_taxable_sales=2_000, b2b_output_tax=100, zero_rated_customs=30_000, invoice_count=2)
    purchases = PurchaseTotals(invoice_count=1, amount=20_000, tax=1_000)
    tax_return = compute_return(sales, purchases)
    # 112 = 1,000 - 100 = 900; 113 = 30,000 x 0.05 = 1,500; 114 = min(900, 1,500) = 900; 115 = 0
    assert (tax_return.fields["112"], tax_return.fields["113"]) == (900, 1_500)
    assert (tax_return.refund, tax_return.credit_carried_forward, tax_return.payable) == (900, 0, 0)


def test_without_zero_rated_sales_the_whole_credit_is_carried_forward() -> None:
    sales = SalesTotals(b2b_taxable_sales=1_000, b2b_output_tax=50, invoice_count=1)
    purchases = PurchaseTotals(invoice_count=1, amount=4_000, tax=200)
    tax_return = compute_return(sales, purchases, previous_credit=30)
    # 110 = 200 + 30 = 230; 112 = 230 - 50 = 180; 113 = 0; 114 = 0; 115 = 180
    assert (tax_return.fields["112"], tax_return.fields["113"]) == (180, 0)
    assert (tax_return.refund, tax_return.credit_carried_forward) == (0, 180)


def test_last_periods_credit_alone_is_carried_on() -> None:
    tax_return = compute_return(SalesTotals(), PurchaseTotals(), previous_credit=100)
    # 110 = 0 + 100; 112 = 100 - 0; no zero-rated sales so 113 = 0 and all 100 goes to 115
    assert (tax_return.fields["110"], tax_return.fields["112"], tax_return.credit_carried_forward) == (100, 100, 100)


def test_a_zero_rated_allowance_on_last_periods_export_gives_no_negative_refund() -> None:
    # This period: no zero-rated sales, but a 1,000 allowance on last period's export invoice.
    sales = SalesTotals(allowance_zero_rated=1_000, allowance_count=1)
    purchases = PurchaseTotals(invoice_count=1, amount=2_000, tax=100)
    tax_return = compute_return(sales, purchases)
    # 23 = 0 + 0 - 1,000 = -1,000; 112 = 100 - 0 = 100; a refund cannot be negative, so the limit
    # is 0 (not -1,000 x 5 % = -50), 114 = 0 and the whole 100 is carried forward in 115.
    assert tax_return.fields["23"] == -1_000
    assert tax_return.fields["112"] == 100
    assert tax_return.fields["113"] == 0
    assert (tax_return.refund, tax_return.credit_carried_forward) == (0, 100)


# ---------------------------------------------------------------------------------------------
# Which form
# ---------------------------------------------------------------------------------------------


def test_taxable_and_zero_rated_sales_only_file_a_complete_401() -> None:
    sales = SalesTotals(b2b_taxable_sales=1_000, b2b_output_tax=50, zero_rated_customs=500, invoice_count=2)
    tax_return = compute_return(sales, PurchaseTotals())
    assert (tax_return.form, tax_return.complete, tax_return.statements) == ("401", True, ())


def test_exempt_sales_file_a_403_and_say_why() -> None:
    sales = SalesTotals(b2b_taxable_sales=1_000, b2b_output_tax=50, exempt_sales=1_500, invoice_count=2)
    tax_return = compute_return(sales, PurchaseTotals())
    assert tax_return.form == "403"
    assert not tax_return.complete
    [statement] = tax_return.statements
    assert statement.code == "EXEMPT_SALES_403"
    assert "1,500" in statement.message and "403" in statement.message
    assert "1,500" in statement.message_zh and "403" in statement.message_zh


def test_exempt_sales_net_of_allowances_are_named_in_the_statement() -> None:
    sales = SalesTotals(exempt_sales=2_000, allowance_exempt=300, invoice_count=1, allowance_count=1)
    [statement] = compute_return(sales, PurchaseTotals()).statements
    assert "1,700" in statement.message  # 2,000 - 300
    assert "1,700" in statement.message_zh


def test_exempt_sales_fully_cancelled_by_exempt_allowances_file_a_401_again() -> None:
    sales = SalesTotals(
        b2b_taxable_sales=1_000, b2b_output_tax=50, exempt_sales=800, allowance_exempt=800, invoice_count=2
    )
    tax_return = compute_return(sales, PurchaseTotals())
    assert (tax_return.form, tax_return.complete, tax_return.statements) == ("401", True, ())


def test_special_tax_sales_only_file_a_404() -> None:
    sales = SalesTotals(special_total=52_500, special_count=3)
    tax_return = compute_return(sales, PurchaseTotals())
    assert tax_return.form == "404"
    assert not tax_return.complete
    [statement] = tax_return.statements
    assert statement.code == "SPECIAL_TAX_SALES"
    assert "52,500" in statement.message and "52,500" in statement.message_zh
    assert statement.message and statement.message_zh


def test_general_and_special_tax_sales_together_file_a_403() -> None:
    sales = SalesTotals(
        b2b_taxable_sales=1_000, b2b_output_tax=50, invoice_count=1, special_total=2_100, special_count=1
    )
    tax_return = compute_return(sales, PurchaseTotals())
    assert tax_return.form == "403"
    assert [statement.code for statement in tax_return.statements] == ["SPECIAL_TAX_SALES"]
    # the general part is still computed: 5 = 1,000, 6 = 50
    assert (tax_return.fields["5"], tax_return.fields["6"]) == (1_000, 50)


def test_special_and_exempt_sales_file_a_403_with_both_statements() -> None:
    sales = SalesTotals(exempt_sales=500, invoice_count=1, special_total=2_100, special_count=1)
    tax_return = compute_return(sales, PurchaseTotals())
    assert tax_return.form == "403"
    assert [statement.code for statement in tax_return.statements] == ["EXEMPT_SALES_403", "SPECIAL_TAX_SALES"]


# ---------------------------------------------------------------------------------------------
# Reading the stored running totals
# ---------------------------------------------------------------------------------------------

GENERAL_ITEM: dict[str, Any] = {  # as boto3 returns a TOTALS#<period>#07 item: numbers are Decimal
    "b2b_taxable_sales": Decimal(12_000),
    "b2b_output_tax": Decimal(600),
    "b2c_taxable_total": Decimal(10_531),
    "zero_rated_sales_customs_1": Decimal(3_000),
    "zero_rated_sales_customs_2": Decimal(4_000),
    "exempt_sales": Decimal(700),
    "allowance_sales": Decimal(1_000),
    "allowance_tax": Decimal(50),
    "allowance_zero_rated_sales": Decimal(190),
    "allowance_exempt_sales": Decimal(70),
    "invoice_count": Decimal(9),
    "cancelled_count": Decimal(2),
    "allowance_count": Decimal(3),
    # kept for other reports; the return does not read them
    "taxable_sales": Decimal(22_030),
    "output_tax": Decimal(1_101),
    "b2c_count": Decimal(4),
}


def test_sales_totals_read_the_stored_attribute_names() -> None:
    assert SalesTotals.from_totals(GENERAL_ITEM, None) == SalesTotals(
        b2b_taxable_sales=12_000,
        b2b_output_tax=600,
        b2c_taxable_total=10_531,
        zero_rated_not_customs=3_000,
        zero_rated_customs=4_000,
        exempt_sales=700,
        allowance_sales=1_000,
        allowance_tax=50,
        allowance_zero_rated=190,
        allowance_exempt=70,
        invoice_count=9,
        cancelled_count=2,
        allowance_count=3,
    )


def test_sales_totals_values_are_plain_ints() -> None:
    totals = SalesTotals.from_totals(GENERAL_ITEM, None)
    assert type(totals.b2c_taxable_total) is int
    assert type(totals.invoice_count) is int


def test_missing_totals_items_and_attributes_count_as_zero() -> None:
    assert SalesTotals.from_totals(None, None) == SalesTotals()
    assert SalesTotals.from_totals({}, {}) == SalesTotals()
    assert SalesTotals.from_totals({"invoice_count": Decimal(1)}, None) == SalesTotals(invoice_count=1)
    assert PurchaseTotals.from_totals(None) == PurchaseTotals()
    assert PurchaseTotals.from_totals({}) == PurchaseTotals()
    assert PurchaseTotals.from_totals({"tax": Decimal(5)}) == PurchaseTotals(tax=5)


def test_special_tax_totals_are_read_net_of_allowances() -> None:
    special = {  # a TOTALS#<period>#08 item
        "invoice_count": Decimal(4),
        "cancelled_count": Decimal(1),
        "allowance_count": Decimal(1),
        "total_amount": Decimal(12_000),  # tax included
        "exempt_sales": Decimal(1_000),
        "zero_rated_sales": Decimal(500),
        "allowance_total": Decimal(800),
        "allowance_exempt_sales": Decimal(100),
        "allowance_zero_rated_sales": Decimal(200),
    }
    totals = SalesTotals.from_totals(GENERAL_ITEM, special)
    # taxable sold 12,000 - 1,000 - 500 = 10,500; taxable allowed 800 - 100 - 200 = 500; 10,500 - 500
    assert totals.special_total == 10_000
    assert totals.special_exempt == 900  # 1,000 - 100
    assert totals.special_count == 4
    assert totals.invoice_count == 9  # the general (07) count only
    assert totals.cancelled_count == 3  # 2 general + 1 special
    assert totals.allowance_count == 4  # 3 general + 1 special


def test_purchase_totals_read_the_stored_attribute_names() -> None:
    item = {
        "invoice_count": Decimal(3),
        "amount": Decimal(6_000),
        "tax": Decimal(300),
        "allowance_count": Decimal(1),
        "allowance_amount": Decimal(1_000),
        "allowance_tax": Decimal(50),
    }
    assert PurchaseTotals.from_totals(item) == WORKED_PURCHASES


def test_a_return_from_stored_totals_matches_the_hand_worked_one() -> None:
    general = {k: v for k, v in GENERAL_ITEM.items() if not k.startswith(("exempt", "allowance_exempt"))}
    purchases = {
        "amount": Decimal(6_000),
        "tax": Decimal(300),
        "allowance_amount": Decimal(1_000),
        "allowance_tax": Decimal(50),
    }
    tax_return = compute_return(
        SalesTotals.from_totals(general, None),
        PurchaseTotals.from_totals(purchases),
        previous_credit=100,
        other_purchases=OtherPurchases(amount=500, tax=25),
    )
    assert tax_return.fields == worked_return().fields
    assert tax_return.payable == 676


# ---------------------------------------------------------------------------------------------
# What the merchant types in
# ---------------------------------------------------------------------------------------------


def test_a_negative_previous_credit_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        compute_return(SalesTotals(), PurchaseTotals(), previous_credit=-1)
    assert caught.value.code == "NEGATIVE_AMOUNT"
    assert caught.value.field == "previous_credit"


@pytest.mark.parametrize(("amount", "tax", "field"), [(-1, 0, "amount"), (100, -5, "tax")])
def test_negative_other_purchases_are_refused(amount: int, tax: int, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        OtherPurchases(amount=amount, tax=tax)
    assert caught.value.code == "NEGATIVE_AMOUNT"
    assert caught.value.field == f"other_purchases.{field}"
    assert caught.value.message and caught.value.message_zh


# ---------------------------------------------------------------------------------------------
# Invariants
# ---------------------------------------------------------------------------------------------

amounts = st.integers(min_value=0, max_value=10**9)

sales_totals = st.builds(
    SalesTotals,
    b2b_taxable_sales=amounts,
    b2b_output_tax=amounts,
    b2c_taxable_total=amounts,
    zero_rated_not_customs=amounts,
    zero_rated_customs=amounts,
    exempt_sales=amounts,
    # allowances may exceed this period's sales: they can reduce invoices of earlier periods
    allowance_sales=amounts,
    allowance_tax=amounts,
    allowance_zero_rated=amounts,
    allowance_exempt=amounts,
    invoice_count=st.integers(min_value=0, max_value=1000),
)
purchase_totals = st.builds(
    PurchaseTotals, amount=amounts, tax=amounts, allowance_amount=amounts, allowance_tax=amounts
)
other_purchases = st.builds(OtherPurchases, amount=amounts, tax=amounts)


@given(sales_totals, purchase_totals, amounts, other_purchases)
def test_the_tax_computation_is_consistent(
    sales: SalesTotals, purchases: PurchaseTotals, previous_credit: int, other: OtherPurchases
) -> None:
    f = compute_return(sales, purchases, previous_credit=previous_credit, other_purchases=other).fields
    assert f["111"] >= 0 and f["112"] >= 0
    assert not (f["111"] > 0 and f["112"] > 0)  # payable or overpaid, never both
    assert f["111"] - f["112"] == f["101"] - f["110"]
    assert f["114"] + f["115"] == f["112"]
    assert 0 <= f["114"] <= f["113"]
    assert f["115"] >= 0
    # only the platform's own rows are filled: 21 = 5 - 17, 22 = 6 - 18
    assert f["21"] == f["5"] - f["17"]
    assert f["22"] == f["6"] - f["18"]
    assert f["25"] == f["21"] + f["23"]


@given(sales_totals)
def test_the_refund_limit_is_five_percent_of_net_zero_rated_sales(sales: SalesTotals) -> None:
    f = compute_return(sales, PurchaseTotals()).fields
    net = sales.zero_rated_not_customs + sales.zero_rated_customs - sales.allowance_zero_rated
    # half up: floor(net x 5 % + 1/2) = floor((net + 10) / 20); never below 0
    assert f["113"] == max((net + 10) // 20, 0)

"""The bimonthly business-tax return (營業人銷售額與稅額申報書, form 401) from a period's running totals.

Pure arithmetic over whole NT$ amounts; the figures come from the totals the platform keeps while
invoices are issued, cancelled and reduced by allowances (折讓), so a return costs the same at ten
invoices as at a hundred thousand.

Field codes follow the 401 form's boxes (reference §7, from [BTAX] and the form itself, 🟡):

- sales: 5/6 e-invoices (format 35) taxable sales and tax, 7 zero-rated not through customs,
  15 zero-rated through customs, 17/18/19 less allowances (format 33), 21/22/23 totals, 25 total sales;
- purchases: 28/29 other uniform invoices, 32/33 e-invoices received (format 25), 40/41 less purchase
  returns and allowances (format 23), 44/45 totals, 48 total purchases; all as 進貨及費用 (purchases and
  expenses), since the platform cannot tell a fixed-asset purchase from an expense;
- tax: 101 output tax, 107 deductible input tax, 108 credit carried from the last period, 110 = 107+108,
  111 payable, 112 overpaid, 113 refund limit, 114 refund, 115 credit carried forward.

Where the reference is unverified we take the safer reading and say so beside the rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from chalicelib.domain.amounts import round_half_up
from chalicelib.domain.errors import InvalidInput

#: General tax rate (一般稅額計算 5%).
GENERAL_RATE = Decimal("0.05")


def _int(values: Mapping[str, Any] | None, name: str) -> int:
    if not values:
        return 0
    value = values.get(name)
    return int(value) if value is not None else 0


@dataclass(frozen=True)
class SalesTotals:
    """What a period's invoices and allowances add up to, for one seller, as the running totals hold them."""

    b2b_taxable_sales: int = 0  # tax-exclusive, summed per invoice as printed on B2B invoices
    b2b_output_tax: int = 0
    b2c_taxable_total: int = 0  # tax-inclusive: B2C invoices carry no separate tax (reference §3.3)
    zero_rated_not_customs: int = 0  # CustomsClearanceMark 1
    zero_rated_customs: int = 0  # CustomsClearanceMark 2
    exempt_sales: int = 0
    allowance_sales: int = 0  # positive: the return subtracts them
    allowance_tax: int = 0
    allowance_zero_rated: int = 0
    allowance_exempt: int = 0
    invoice_count: int = 0
    cancelled_count: int = 0
    allowance_count: int = 0
    special_total: int = 0  # special tax computation (特種稅額, type 08) sales, tax included
    special_exempt: int = 0
    special_count: int = 0

    @classmethod
    def from_totals(cls, general: Mapping[str, Any] | None, special: Mapping[str, Any] | None) -> SalesTotals:
        """From the period's ``TOTALS#<period>#07`` and ``#08`` attribute maps (missing means none)."""
        return cls(
            b2b_taxable_sales=_int(general, "b2b_taxable_sales"),
            b2b_output_tax=_int(general, "b2b_output_tax"),
            b2c_taxable_total=_int(general, "b2c_taxable_total"),
            zero_rated_not_customs=_int(general, "zero_rated_sales_customs_1"),
            zero_rated_customs=_int(general, "zero_rated_sales_customs_2"),
            exempt_sales=_int(general, "exempt_sales"),
            allowance_sales=_int(general, "allowance_sales"),
            allowance_tax=_int(general, "allowance_tax"),
            allowance_zero_rated=_int(general, "allowance_zero_rated_sales"),
            allowance_exempt=_int(general, "allowance_exempt_sales"),
            invoice_count=_int(general, "invoice_count"),
            cancelled_count=_int(general, "cancelled_count") + _int(special, "cancelled_count"),
            allowance_count=_int(general, "allowance_count") + _int(special, "allowance_count"),
            special_total=_special_taxable(special),
            special_exempt=_int(special, "exempt_sales") - _int(special, "allowance_exempt_sales"),
            special_count=_int(special, "invoice_count"),
        )


def _special_taxable(special: Mapping[str, Any] | None) -> int:
    """Type 08 taxable sales, tax included, less the taxable part of their allowances."""
    sold = _int(special, "total_amount") - _int(special, "exempt_sales") - _int(special, "zero_rated_sales")
    allowed = (
        _int(special, "allowance_total")
        - _int(special, "allowance_exempt_sales")
        - _int(special, "allowance_zero_rated_sales")
    )
    return sold - allowed


@dataclass(frozen=True)
class PurchaseTotals:
    """E-invoices other merchants issued to this UBN on the platform (format 25), and the allowances on them."""

    invoice_count: int = 0
    amount: int = 0  # tax-exclusive
    tax: int = 0
    allowance_count: int = 0
    allowance_amount: int = 0
    allowance_tax: int = 0

    @classmethod
    def from_totals(cls, values: Mapping[str, Any] | None) -> PurchaseTotals:
        return cls(
            invoice_count=_int(values, "invoice_count"),
            amount=_int(values, "amount"),
            tax=_int(values, "tax"),
            allowance_count=_int(values, "allowance_count"),
            allowance_amount=_int(values, "allowance_amount"),
            allowance_tax=_int(values, "allowance_tax"),
        )


@dataclass(frozen=True)
class OtherPurchases:
    """Deductible purchases the platform has not seen (paper invoices, other platforms), as the merchant declares."""

    amount: int = 0
    tax: int = 0

    def __post_init__(self) -> None:
        for name in ("amount", "tax"):
            if getattr(self, name) < 0:
                raise _negative(f"other_purchases.{name}")


@dataclass(frozen=True)
class Statement:
    """Something the return cannot show on its own, in both languages."""

    code: str
    message: str
    message_zh: str


@dataclass(frozen=True)
class TaxReturn:
    form: str  # "401", "403" or "404"
    fields: dict[str, int]  # the form's field codes
    statements: tuple[Statement, ...] = field(default_factory=tuple)

    @property
    def complete(self) -> bool:
        """Whether the platform computed every figure of the form (401 only; see the statements otherwise)."""
        return self.form == "401"

    @property
    def payable(self) -> int:
        return self.fields["111"]

    @property
    def refund(self) -> int:
        return self.fields["114"]

    @property
    def credit_carried_forward(self) -> int:
        return self.fields["115"]


def b2c_split(tax_inclusive: int) -> tuple[int, int]:
    """Split B2C (tax-inclusive) sales into sales and tax: sales = total ÷ 1.05 rounded half up.

    ⚠️ Reference §7: the usual treatment of duplicate-type (二聯式) sales, done once on the period's sum
    rather than per invoice, as the MOF's own 401 does for cash-register sales; confirm with your
    accountant. Splitting the sum keeps output tax within a dollar of 5 % of the whole period.
    """
    sales = round_half_up(Decimal(tax_inclusive) / (1 + GENERAL_RATE))
    return sales, tax_inclusive - sales


def compute_return(
    sales: SalesTotals,
    purchases: PurchaseTotals,
    *,
    previous_credit: int = 0,
    other_purchases: OtherPurchases | None = None,
) -> TaxReturn:
    """The return's figures. ``previous_credit`` is code 108, the credit the last return carried forward."""
    if previous_credit < 0:
        raise _negative("previous_credit")
    other = other_purchases or OtherPurchases()
    b2c_sales, b2c_tax = b2c_split(sales.b2c_taxable_total)
    f: dict[str, int] = {code: 0 for code in ("1", "2", "9", "10", "13", "14")}
    f["5"] = sales.b2b_taxable_sales + b2c_sales
    f["6"] = sales.b2b_output_tax + b2c_tax
    # 🟡 Reference §7: zero-rated sales not through customs (evidence attached) go to code 7, those
    # through customs (no evidence needed) to code 15.
    f["7"] = sales.zero_rated_not_customs
    f["15"] = sales.zero_rated_customs
    f["17"] = sales.allowance_sales
    f["18"] = sales.allowance_tax
    f["19"] = sales.allowance_zero_rated
    f["21"] = f["1"] + f["5"] + f["9"] + f["13"] - f["17"]
    f["22"] = f["2"] + f["6"] + f["10"] + f["14"] - f["18"]
    f["23"] = f["7"] + f["15"] - f["19"]
    f["25"] = f["21"] + f["23"]
    f["28"], f["29"] = other.amount, other.tax
    f["32"], f["33"] = purchases.amount, purchases.tax
    f["40"], f["41"] = purchases.allowance_amount, purchases.allowance_tax
    f["44"] = f["28"] + f["32"] - f["40"]
    f["45"] = f["29"] + f["33"] - f["41"]
    f["46"] = f["47"] = 0  # fixed assets: not known to the platform
    f["48"] = f["44"]
    f["101"] = f["22"]
    f["107"] = f["45"] + f["47"]
    f["108"] = previous_credit
    f["110"] = f["107"] + f["108"]
    f["111"] = max(f["101"] - f["110"], 0)
    f["112"] = max(f["110"] - f["101"], 0)
    # A refund is possible only up to the zero-rated sales' notional tax plus fixed-asset input tax
    # (營業稅法 §39); the rest of an overpayment is carried forward. Allowances on an earlier period's
    # exports can make 23 negative: the limit is then 0, never a negative refund that would inflate 115.
    f["113"] = max(round_half_up(Decimal(f["23"]) * GENERAL_RATE) + f["47"], 0)
    f["114"] = min(f["112"], f["113"])
    f["115"] = f["112"] - f["114"]
    return TaxReturn(form=_form(sales), fields=f, statements=_statements(sales))


def _negative(field: str) -> InvalidInput:
    return InvalidInput("NEGATIVE_AMOUNT", "Amounts cannot be negative", "金額不可為負數", field)


def _form(sales: SalesTotals) -> str:
    exempt = sales.exempt_sales - sales.allowance_exempt
    # General-tax activity includes a period with only allowances on earlier general invoices.
    general = sales.invoice_count or sales.allowance_sales or sales.allowance_tax or sales.allowance_zero_rated
    if sales.special_count and not (general or exempt):
        return "404"
    if sales.special_count or exempt:
        return "403"
    return "401"


def _statements(sales: SalesTotals) -> tuple[Statement, ...]:
    statements: list[Statement] = []
    exempt = sales.exempt_sales - sales.allowance_exempt
    if exempt:
        statements.append(
            Statement(
                "EXEMPT_SALES_403",
                f"You had tax-exempt sales of NT${exempt:,} this period, so you file form 403, not 401. The "
                "taxable and zero-rated figures here are complete; the deductible input tax (107) must be "
                "apportioned between taxable and exempt sales by the method your tax office approved "
                "(proportional or direct), which the platform does not know: it shows the input tax undivided.",
                f"本期有免稅銷售額 {exempt:,} 元，應申報 403 而非 401。應稅及零稅率數字完整；得扣抵進項稅額（107）"
                "須依稽徵機關核定之比例扣抵或直接扣抵法分攤，平台無從得知，故以未分攤數列示。",
            )
        )
    if sales.special_count:
        statements.append(
            Statement(
                "SPECIAL_TAX_SALES",
                f"{sales.special_count} special-tax (特種稅額, type 08) invoices total NT${sales.special_total:,} "
                f"taxable and NT${sales.special_exempt:,} exempt, tax included. Their tax depends on your "
                "business category's rate (e.g. 5% or 2% for financial services, 25% or 15% for night clubs "
                "and bars, 1% for small businesses), which the platform does not record per sale: compute "
                "the special-tax part of form 403/404 from these sums with your accountant.",
                f"特種稅額（08）發票 {sales.special_count} 張，應稅合計 {sales.special_total:,} 元、免稅 "
                f"{sales.special_exempt:,} 元（含稅）。其稅額依行業別稅率（如金融業 5% 或 2%、夜總會 25%、酒家 15%、"
                "小規模營業人 1%）計算，平台未逐筆記錄行業別，請據此合計與會計師計算 403/404 特種稅額部分。",
            )
        )
    return tuple(statements)

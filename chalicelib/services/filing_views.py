"""What the API and console show of a period's return: the form's boxes, its versions, payments
and the last reconciliation."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from chalicelib.domain.filing_status import FilingStatus


class ReturnLine(BaseModel):
    code: str
    label: str
    label_zh: str
    value: int


class StatementView(BaseModel):
    code: str
    message: str
    message_zh: str


class VersionView(BaseModel):
    version: int
    filed_at: datetime
    filed_by: str
    reason: str | None
    late: bool
    payable: int
    documents: dict[str, str]


class PaymentView(BaseModel):
    amount: int
    paid_on: date
    reference: str
    recorded_at: datetime
    recorded_by: str


class PaymentSummary(BaseModel):
    reference: str
    amount_due: int
    paid: int
    outstanding: int
    status: str
    payments: list[PaymentView]


class ReconciliationView(BaseModel):
    status: str
    started_at: datetime | None = None
    finished_at: datetime | None = None
    invoices_counted: int = 0
    differences: list[dict[str, Any]] = Field(default_factory=list)


class FilingView(BaseModel):
    """A period's return (營業人銷售額與稅額申報書) and where it stands."""

    period: str
    label_zh: str
    form: Literal["401", "403", "404"]
    complete: bool
    status: FilingStatus
    source: Literal["live", "filed"]
    due_by: date
    blank_numbers_due_by: date
    fields: dict[str, int]
    lines: list[ReturnLine]
    counts: dict[str, int]
    payable: int
    refund: int
    credit_carried_forward: int
    statements: list[StatementView]
    changed_since_filing: bool = False
    filing: VersionView | None = None
    versions: list[VersionView] = Field(default_factory=list)
    payment: PaymentSummary
    blank_numbers_filed_at: datetime | None = None
    reconciliation: ReconciliationView | None = None


class FilingSummaryView(BaseModel):
    period: str
    label_zh: str
    status: FilingStatus
    due_by: date
    version: int | None
    payable: int | None
    paid: int
    payment_status: str


#: The form's boxes the API lists, with their labels (reference §7).
LINES: tuple[tuple[str, str, str], ...] = (
    (
        "5",
        "Taxable sales: cash-register triplicate and e-invoices (format 35)",
        "應稅銷售額：收銀機發票(三聯式)及電子發票",
    ),
    ("6", "Output tax on them", "銷項稅額：收銀機發票(三聯式)及電子發票"),
    ("7", "Zero-rated sales, not through customs (evidence attached)", "零稅率銷售額：非經海關出口應附證明文件者"),
    ("15", "Zero-rated sales through customs (no evidence needed)", "零稅率銷售額：經海關出口免附證明文件者"),
    ("17", "Less sales returns and allowances (format 33): sales", "減：退回及折讓 應稅銷售額"),
    ("18", "Less sales returns and allowances: tax", "減：退回及折讓 稅額"),
    ("19", "Less sales returns and allowances: zero-rated", "減：退回及折讓 零稅率銷售額"),
    ("21", "Total taxable sales", "合計 應稅銷售額"),
    ("22", "Total output tax", "合計 銷項稅額"),
    ("23", "Total zero-rated sales", "合計 零稅率銷售額"),
    ("25", "Total sales", "銷售額總計"),
    ("28", "Purchases on other uniform invoices (declared)", "進項：統一發票扣抵聯 進貨及費用 金額"),
    ("29", "Their input tax (declared)", "進項：統一發票扣抵聯 進貨及費用 稅額"),
    ("32", "Purchases on e-invoices received (format 25)", "進項：三聯式收銀機發票扣抵聯及電子發票 進貨及費用 金額"),
    ("33", "Their input tax", "進項：三聯式收銀機發票扣抵聯及電子發票 進貨及費用 稅額"),
    ("40", "Less purchase returns and allowances (format 23)", "減：退出、折讓 進貨及費用 金額"),
    ("41", "Their input tax", "減：退出、折讓 進貨及費用 稅額"),
    ("44", "Total purchases and expenses", "合計 進貨及費用 金額"),
    ("45", "Total input tax on them", "合計 進貨及費用 稅額"),
    ("101", "Output tax this period", "本期(月)銷項稅額合計"),
    ("107", "Deductible input tax", "得扣抵進項稅額合計"),
    ("108", "Credit carried over from the last period", "上期(月)累積留抵稅額"),
    ("110", "Subtotal (107 + 108)", "小計(7+8)"),
    ("111", "Tax payable", "本期(月)應實繳稅額"),
    ("112", "Overpaid this period", "本期(月)申報留抵稅額"),
    ("113", "Refund limit", "得退稅限額合計"),
    ("114", "Refund", "本期(月)應退稅額"),
    ("115", "Credit carried forward", "本期(月)累積留抵稅額"),
)

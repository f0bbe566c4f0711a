"""An allowance (折讓證明單, G0401) as it is stored and what changes it: the request that issues one,
the request that cancels it (作廢折讓, G0501), and the stored record.

The record keeps its lines as strings of the exact decimals computed when it was issued, so that a
cancellation reverses exactly what was taken (domain/allowance_rules.py).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from chalicelib.domain.allowance import AllowanceDraft
from chalicelib.domain.exchange import ExchangeRecord
from chalicelib.domain.fields import check_text
from chalicelib.domain.invoice_record import HistoryEntry

#: A transaction holds at most 100 actions: the allowance, the totals, the idempotency record and one
#: update per original invoice.
MAX_ORIGINAL_INVOICES = 50
#: Below DynamoDB's 400 KB item limit, leaving room for keys, history and artifact fields.
MAX_RECORD_BYTES = 300_000
ALLOWANCE_NUMBER_PATTERN = r"^[0-9A-Za-z_-]{1,16}$"
#: Outbox events of allowances; the ``allowance_`` prefix is what the outbox processor dispatches on.
ISSUED_EVENT, CANCELLED_EVENT = "allowance_issued", "allowance_cancelled"
#: A void (註銷, G0701) and the re-issue under the same number are one change (one transaction).
VOIDED_EVENT = "allowance_voided"
ISSUE_STEPS = ("g0401_xml", "allowance_pdf", "email")
#: The G0701 first, then the corrected allowance's G0401 and PDF (as F0701 comes before the new F0401).
VOID_STEPS = ("g0701_xml", "g0401_xml", "allowance_pdf", "email")
#: The PDF again, marked cancelled, so a download never shows a cancelled allowance as valid.
CANCEL_STEPS = ("g0501_xml", "allowance_pdf", "email")


class AllowanceRequest(AllowanceDraft):
    """``POST /v1/allowances``: the domain draft plus the optional number and date."""

    allowance_number: str | None = Field(
        default=None, pattern=ALLOWANCE_NUMBER_PATTERN, description="Your own number (≤16); generated if absent"
    )
    allowance_date: date | None = Field(default=None, description="Today (Taiwan time) if absent")


class CancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=1, max_length=20), AfterValidator(check_text)]
    remark: Annotated[str, Field(max_length=200), AfterValidator(check_text)] | None = None


class AllowanceVoidRequest(BaseModel):
    """``POST /v1/allowances/{number}/void``: why (G0701 VoidReason, Remark) and the corrected
    allowance under the same number and date (its lines, price basis and remark)."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=1, max_length=20), AfterValidator(check_text)]
    remark: Annotated[str, Field(max_length=200), AfterValidator(check_text)] | None = None
    replacement: AllowanceDraft


class AllowanceItemRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sequence: int
    original_invoice_number: str
    original_invoice_date: date
    original_sequence_number: int | None = None
    description: str
    quantity: str
    unit: str | None = None
    unit_price: str  # tax-exclusive, as G0401 wants
    amount: str  # tax-exclusive
    tax: int
    tax_type: str


class OriginalInvoice(BaseModel):
    invoice_number: str
    invoice_date: date
    amount: int  # tax-inclusive NT$ this allowance took off the invoice


class AllowanceRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    allowance_number: str
    allowance_date: date
    period: str
    invoice_type: str
    issued_at: datetime
    seller: dict[str, Any]
    buyer: dict[str, Any]
    items: list[AllowanceItemRecord]
    tax_amount: int
    total_amount: int  # tax-exclusive (G0401 TotalAmount)
    originals: list[OriginalInvoice]
    prices_include_tax: bool
    remark: str | None = None
    status: str = "issued"
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    # 註銷重開: how many times this number was voided and re-issued (the version a void is made
    # from), and the last void (G0701 VoidDate/VoidTime, VoidReason, Remark).
    void_count: int = 0
    voided_at: datetime | None = None
    void_reason: str | None = None
    void_remark: str | None = None
    history: list[HistoryEntry] = Field(default_factory=list)
    # True from each transaction until its outbox item is finished (services/outbox.py clears it).
    artifacts_pending: bool = False
    # Published by the outbox: S3 keys per document step, and what the e-mail steps did.
    artifacts: dict[str, str] = Field(default_factory=dict)
    delivery: dict[str, Any] = Field(default_factory=dict)
    # B2B exchange (交換, B0101…B0202): its state, who issued it and the messages that exist for it;
    # None for a storage (存證) allowance (G0401). ``status`` is ``pending`` until it is confirmed.
    exchange: ExchangeRecord | None = None

    @property
    def is_exchange(self) -> bool:
        return self.exchange is not None

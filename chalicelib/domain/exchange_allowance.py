"""An allowance (折讓證明單) by B2B exchange (交換, B0101 → B0102; B0201 → B0202), pure: its id,
who issued it, and what it needs of the exchanged invoice it reduces.

Either party may issue it (the MOF exchange's AllowanceType: 2 賣方折讓證明通知單, the seller's
allowance notice; 1 買方開立折讓證明單, the buyer's allowance certificate); the other party, the
counterpart, confirms it (B0102). The issuer may ask to cancel it (B0201), which counts once the
counterpart confirms (B0202). There is no reject: a counterpart that disagrees does not confirm,
and the issuer withdraws it.

⚠️ unverified: the reference (§0.1, §1.6) says that since 2025-01-01 the seller issues allowances
(統一發票使用辦法 §20-1) and its catalogue (§2.2) gives B0101 "AllowanceType must be 2" in MIG
4.1, while the official B0101.xsd (v41) does not fix AllowanceType (G0401.xsd fixes it to 2) and
B0102/B0201/B0202 carry either value. The brief asks for the buyer's allowance too; it is offered,
and ``BUYER_MAY_ISSUE`` is the one switch that withdraws it should the platform refuse type 1.

The amounts follow one reading (docs/exchange.md): an allowance not yet confirmed already takes its
amount off what remains allowable on the invoice (a reservation, so two pending allowances can
never exceed it together), but the period totals move only when the counterpart confirms it: the
seller's allowance totals (401 rows 17-19) and the buyer's purchase returns (進貨退出及折讓), in the
allowance's own period. A confirmed cancel moves them back; the reservation is given back by a
confirmed cancel whether or not the allowance was ever confirmed.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool

from chalicelib.domain.allowance import MAX_LINES, AllowanceItem, AllowanceLine
from chalicelib.domain.allowance_record import ALLOWANCE_NUMBER_PATTERN
from chalicelib.domain.errors import Conflict, RuleViolation
from chalicelib.domain.exchange import ExchangeRecord, ExchangeState, Party
from chalicelib.domain.fields import check_text, decimal_field
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.domain.tax import TaxType, check_item_tax_type

#: ⚠️ see the module docstring: the buyer's own allowance (AllowanceType 1) is offered.
BUYER_MAY_ISSUE = True

#: B0101 AllowanceType: who issued the allowance.
ALLOWANCE_TYPE: dict[Party, str] = {Party.BUYER: "1", Party.SELLER: "2"}
ISSUER_OF_TYPE: dict[str, Party] = {code: party for party, code in ALLOWANCE_TYPE.items()}

#: The allowance's status (AllowanceRecord.status) while the counterpart has not confirmed it: in
#: no total yet, though its amount is reserved on the invoice. Confirmed, it is ``issued`` (in
#: force, as a storage allowance); a confirmed cancel makes it ``cancelled``.
PENDING = "pending"

_ID = re.compile(r"([0-9]{8})-ALW-([0-9A-Za-z_-]{1,16})")


def allowance_exchange_id(seller_ubn: str, allowance_number: str) -> str:
    """The stable id of an exchanged allowance for both parties: ``<seller UBN>-ALW-<number>``.
    Its number is unique within the seller's allowances, whoever issued it; the ``ALW`` part keeps
    it apart from every invoice's exchange id (``<seller UBN>-<invoice number>``)."""
    return f"{seller_ubn}-ALW-{allowance_number}"


def parse_allowance_exchange_id(value: str) -> tuple[str, str] | None:
    """``(seller UBN, allowance number)``, or None when ``value`` names no exchanged allowance."""
    match = _ID.fullmatch(value)
    return (match.group(1), match.group(2)) if match else None


def ensure_may_issue(issuer: Party) -> None:
    if issuer is Party.BUYER and not BUYER_MAY_ISSUE:
        raise RuleViolation(
            "BUYER_ALLOWANCE_NOT_OFFERED",
            "Only the seller issues allowances (AllowanceType 2).",
            "折讓證明單僅由賣方開立（AllowanceType 2）。",
            "AllowanceType",
        )


def ensure_invoice_allows(record: InvoiceRecord) -> ExchangeRecord:
    """An exchange allowance reduces only an exchanged invoice its buyer confirmed (A0102) and that
    is neither cancelled nor being cancelled: an invoice the buyer has not accepted is not yet a
    purchase to reduce, a rejected one counts nowhere, and one with a cancel asked for is about to
    count nowhere."""
    exchange = record.exchange
    if exchange is None:
        raise Conflict(
            "NOT_AN_EXCHANGE_INVOICE",
            "This invoice was issued by storage (存證): allow on it with POST /v1/allowances (G0401).",
            "此發票以存證方式開立：請以 POST /v1/allowances（G0401）開立折讓。",
            "exchange_id",
        )
    if record.status != "issued" or exchange.state is not ExchangeState.CONFIRMED:
        zh, en = _INVOICE_STATES.get(exchange.state, (exchange.state.value, exchange.state.value))
        raise Conflict(
            "EXCHANGE_INVOICE_NOT_CONFIRMED",
            f"An allowance needs an exchanged invoice its buyer confirmed (A0102); this one is {en}.",
            f"僅買方已確認（A0102）的交換發票可開立折讓；此發票為「{zh}」。",
            "exchange_id",
        )
    return exchange


_INVOICE_STATES = {
    ExchangeState.AWAITING_BUYER: ("待買方確認", "awaiting the buyer's confirmation"),
    ExchangeState.REJECTED: ("已退回", "rejected"),
    ExchangeState.REJECTION_CONFIRMED: ("已退回", "rejected"),
    ExchangeState.CANCEL_REQUESTED: ("作廢待買方確認", "being cancelled"),
    ExchangeState.CANCELLED: ("已作廢", "cancelled"),
}


class ExchangeAllowanceLine(BaseModel):
    """One line of an exchange allowance: what of the exchanged invoice it gives back or reduces
    (the invoice is the route's; ``original_sequence_number`` its item, when one is meant)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    original_sequence_number: int | None = Field(default=None, ge=1, le=9999, strict=True)
    description: Annotated[str, Field(min_length=1, max_length=500), AfterValidator(check_text)]
    quantity: Annotated[Decimal, decimal_field("INVALID_QUANTITY", "Quantity", "數量", positive=True)]
    unit: Annotated[str, Field(max_length=6), AfterValidator(check_text)] | None = None
    unit_price: Annotated[Decimal, decimal_field("INVALID_UNIT_PRICE", "Unit price", "單價", positive=True)]
    tax_type: Annotated[TaxType, AfterValidator(check_item_tax_type)]

    def on(self, invoice_number: str) -> AllowanceItem:
        return AllowanceItem(original_invoice_number=invoice_number, **self.model_dump(mode="json", exclude_none=True))


class ExchangeAllowanceRequest(BaseModel):
    """``POST /v1/exchange/{exchange_id}/allowances``: an allowance on that exchanged invoice."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    items: list[ExchangeAllowanceLine] = Field(min_length=1, max_length=MAX_LINES)
    prices_include_tax: StrictBool | None = None
    remark: Annotated[str, Field(max_length=200), AfterValidator(check_text)] | None = None
    allowance_number: str | None = Field(
        default=None, pattern=ALLOWANCE_NUMBER_PATTERN, description="Your own number (≤16); generated if absent"
    )
    allowance_date: date | None = Field(default=None, description="Today (Taiwan time) if absent")


def ensure_whole_dollars(lines: tuple[AllowanceLine, ...]) -> None:
    """B0101 carries each line's amount before tax in whole dollars (Amount: fractionDigits 0),
    unlike G0401: a line whose amount is not a whole NT$ is refused rather than rounded, so that the
    message says exactly what was allowed."""
    for index, line in enumerate(lines):
        if line.amount != line.amount.to_integral_value():
            raise RuleViolation(
                "EXCHANGE_ALLOWANCE_WHOLE_DOLLARS",
                f"Line {index + 1} comes to NT${line.amount.normalize():f} before tax; an exchange allowance "
                "(B0101) states whole dollars: change its quantity or unit price.",
                f"第 {index + 1} 項未稅金額為 {line.amount.normalize():f} 元；交換折讓證明單（B0101）金額須為整數元，"
                "請調整數量或單價。",
                f"items[{index}].unit_price",
            )

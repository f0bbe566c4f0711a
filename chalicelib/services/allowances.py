"""Allowances (折讓證明單, G0401) and their cancellation (作廢折讓, G0501).

Issuing one DynamoDB transaction writes the allowance, takes its tax-inclusive amount off every
original invoice (conditionally, so concurrent allowances can never overdraw one), subtracts it
from the running totals of the period the *allowance* is issued in (reference §7: rows 17/18/19 of
the 401 return) and, when given, records the Idempotency-Key. Cancelling reverses all of it in one
transaction too.

Documents (the G0401/G0501 XML, the A4 PDF) and the buyer's e-mail go through the outbox, like an
invoice's: each transaction also writes an outbox item (``OUTBOX#<allowance number>#allowance_issued``
or ``#allowance_cancelled``; its ``invoice_number`` field holds the allowance number and ``subject``
says ``allowance``), and ``services/outbox.py`` does the steps, retried by the sweeper until done,
the mail never twice. ``artifacts_pending`` is True while the latest event's item is unfinished.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

from botocore.exceptions import ClientError
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from chalicelib.adapters.dynamo import CursorCodec, cancellation_reasons, dynamodb, to_item
from chalicelib.adapters.dynamo_allowances import (
    DynamoAllowances,
    add_to_totals,
    mark_cancelled,
    put_new_allowance,
    reduce_invoice,
    restore_invoice,
)
from chalicelib.adapters.dynamo_invoices import DynamoInvoices, invoices_table, outbox_item
from chalicelib.adapters.dynamo_merchants import DynamoMerchants
from chalicelib.domain.allowance import AllowanceAmounts, AllowanceDraft, AllowanceLine, compute_allowance_amounts
from chalicelib.domain.amounts import round_half_up
from chalicelib.domain.clock import Clock
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound, RuleViolation
from chalicelib.domain.fields import check_text
from chalicelib.domain.invoice_record import HistoryEntry, InvoiceRecord
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.domain.status import InvoiceStatus, ensure_allowance_allowed
from chalicelib.domain.ubn import CONSUMER_BUYER_ID
from chalicelib.domain.validation import as_pydantic_error
from chalicelib.domain.working_days import WEEKDAYS, WorkingCalendar, filing_deadline
from chalicelib.services.filed_periods import is_filed, unfiled_condition
from chalicelib.services.invoice_building import purchases_update
from chalicelib.services.invoice_documents import Attachment, mail_message, one_line
from chalicelib.services.invoicing import IDEMPOTENCY_TTL, request_hash
from chalicelib.settings import get_settings

if TYPE_CHECKING:
    # The MIG and PDF models are imported where a document is built, not at every cold start.
    from chalicelib.documents.mig import Allowance, CancelAllowance
    from chalicelib.documents.pdf.allowance import AllowanceDocument

#: A transaction holds at most 100 actions: the allowance, the totals, the idempotency record and one
#: update per original invoice.
MAX_ORIGINAL_INVOICES = 50
#: Below DynamoDB's 400 KB item limit, leaving room for keys, history and artifact fields.
MAX_RECORD_BYTES = 300_000
ALLOWANCE_NUMBER_PATTERN = r"^[0-9A-Za-z_-]{1,16}$"
#: Same placeholder as the F0401 of a consumer invoice, so both documents name the buyer alike.
B2C_BUYER_NAME = "顧客"
#: Concurrent transactions on the same invoice are cancelled with TransactionConflict; try again.
_CONFLICT_RETRIES = 5
#: Outbox events of allowances; the ``allowance_`` prefix is what the outbox processor dispatches on.
ISSUED_EVENT, CANCELLED_EVENT = "allowance_issued", "allowance_cancelled"
ISSUE_STEPS = ("g0401_xml", "allowance_pdf", "email")
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
    history: list[HistoryEntry] = Field(default_factory=list)
    # True from each transaction until its outbox item is finished (services/outbox.py clears it).
    artifacts_pending: bool = False
    # Published by the outbox: S3 keys per document step, and what the e-mail steps did.
    artifacts: dict[str, str] = Field(default_factory=dict)
    delivery: dict[str, Any] = Field(default_factory=dict)


class AllowanceView(BaseModel):
    allowance_number: str
    allowance_date: date
    period: str
    allowance_type: str = "2"
    seller: dict[str, Any]
    buyer: dict[str, Any]
    items: list[AllowanceItemRecord]
    # The same names and meanings as an invoice's ``amounts``: ``sales_amount`` before tax (G0401's
    # TotalAmount), ``tax_amount``, and ``total_amount`` what the buyer gets back, tax included.
    sales_amount: int = Field(description="Allowed amount before tax (未稅, G0401 Amount.TotalAmount)")
    tax_amount: int = Field(description="Tax allowed (稅額, G0401 Amount.TaxAmount)")
    total_amount: int = Field(description="Tax included: sales_amount + tax_amount, as an invoice's total_amount")
    original_invoices: list[OriginalInvoice]
    status: str
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    remark: str | None = None
    links: dict[str, str]
    history: list[HistoryEntry] | None = None
    artifacts_pending: bool | None = None


def allowance_view(record: AllowanceRecord, *, with_history: bool = False) -> AllowanceView:
    number = record.allowance_number
    return AllowanceView(
        allowance_number=number,
        allowance_date=record.allowance_date,
        period=record.period,
        seller=record.seller,
        buyer={k: v for k, v in record.buyer.items() if v is not None},
        items=record.items,
        sales_amount=record.total_amount,
        tax_amount=record.tax_amount,
        total_amount=record.total_amount + record.tax_amount,
        original_invoices=record.originals,
        status=record.status,
        cancelled_at=record.cancelled_at,
        cancel_reason=record.cancel_reason,
        remark=record.remark,
        links={
            "self": f"/v1/allowances/{number}",
            "xml": f"/v1/allowances/{number}/xml",
            "pdf": f"/v1/allowances/{number}/pdf",
            "cancel": f"/v1/allowances/{number}/cancel",
        },
        history=record.history if with_history else None,
        artifacts_pending=record.artifacts_pending if with_history else None,
    )


@dataclass(frozen=True)
class IssuedAllowance:
    record: AllowanceRecord
    replayed: bool

    def body(self) -> dict[str, Any]:
        return allowance_view(self.record).model_dump(mode="json")


# --- messages -------------------------------------------------------------------------------------


def g0401(record: AllowanceRecord) -> Allowance:
    """The G0401 message of an allowance; ``InvalidInput`` if it breaks a MIG rule."""
    from chalicelib.documents.mig import Allowance

    buyer_ubn = record.buyer.get("ubn")
    return Allowance.from_data(
        {
            "main": {
                "allowance_number": record.allowance_number,
                "allowance_date": record.allowance_date,
                "seller": {
                    "identifier": record.seller["ubn"],
                    "name": record.seller["name"],
                    "address": record.seller.get("address"),
                },
                "buyer": (
                    {"identifier": buyer_ubn, "name": record.buyer.get("name") or buyer_ubn}
                    if buyer_ubn
                    # A consumer: identifier and a name only; nothing else of a person goes to the MOF.
                    else {"identifier": CONSUMER_BUYER_ID, "name": record.buyer.get("name") or B2C_BUYER_NAME}
                ),
                "allowance_type": "2",  # MIG 4.1: since 2025 the seller issues allowances
            },
            "details": [
                {
                    "original_invoice_date": item.original_invoice_date,
                    "original_invoice_number": item.original_invoice_number,
                    "original_sequence_number": (
                        str(item.original_sequence_number) if item.original_sequence_number else None
                    ),
                    "original_description": item.description,
                    "quantity": Decimal(item.quantity),
                    "unit": item.unit,
                    "unit_price": Decimal(item.unit_price),
                    "amount": Decimal(item.amount),
                    "tax": item.tax,
                    "allowance_sequence_number": str(item.sequence),
                    "tax_type": item.tax_type,
                }
                for item in record.items
            ],
            "amount": {"tax_amount": record.tax_amount, "total_amount": Decimal(record.total_amount)},
        }
    )


def pdf_document(record: AllowanceRecord) -> AllowanceDocument:
    from chalicelib.documents.pdf.allowance import AllowanceDocument, AllowanceDocumentLine

    return AllowanceDocument(
        allowance_number=record.allowance_number,
        allowance_date=record.allowance_date,
        seller_ubn=record.seller["ubn"],
        seller_name=record.seller["name"],
        seller_address=record.seller.get("address") or "",
        buyer_ubn=record.buyer.get("ubn"),
        buyer_name=record.buyer.get("name"),
        lines=tuple(
            AllowanceDocumentLine(
                original_invoice_number=item.original_invoice_number,
                original_invoice_date=item.original_invoice_date,
                description=item.description,
                quantity=Decimal(item.quantity),
                unit_price=Decimal(item.unit_price),
                amount=Decimal(item.amount),
                tax=item.tax,
                tax_type=item.tax_type,
            )
            for item in record.items
        ),
        tax_amount=record.tax_amount,
        total_amount=record.total_amount,
        cancelled=record.status == "cancelled",
    )


def g0501(record: AllowanceRecord, remark: str | None = None) -> CancelAllowance:
    from chalicelib.documents.mig import CancelAllowance

    cancelled = (record.cancelled_at or datetime.now(TAIWAN_TZ)).astimezone(TAIWAN_TZ)
    return CancelAllowance.from_data(
        {
            "cancel_allowance_number": record.allowance_number,
            "allowance_type": "2",
            "allowance_date": record.allowance_date,
            "buyer_id": record.buyer.get("ubn") or CONSUMER_BUYER_ID,
            "seller_id": record.seller["ubn"],
            "cancel_date": cancelled.date(),
            "cancel_time": cancelled.strftime("%H:%M:%S"),
            "cancel_reason": record.cancel_reason or "",
            "remark": remark,
        }
    )


# --- pure helpers ---------------------------------------------------------------------------------


def _buyer_identity(record: InvoiceRecord) -> tuple[Any, ...]:
    """Who an invoice was issued to: the UBN for a business; for a consumer what identifies them."""
    buyer = record.buyer
    if buyer.get("ubn"):
        return ("ubn", buyer["ubn"])
    carrier = record.carrier or {}
    return ("consumer", carrier.get("type"), carrier.get("id"), buyer.get("email"), buyer.get("name"))


def _default_prices_include_tax(originals: Sequence[InvoiceRecord]) -> bool:
    """ "As on the original invoice": invoices do not keep the flag, but their item amounts show it.

    A consumer invoice's prices always include the tax (VAT Act §32); a business invoice's include it
    when its items add up to the tax-inclusive total.
    """
    kept = {getattr(record, "prices_include_tax", None) for record in originals}
    if len(kept) == 1 and None not in kept:
        return bool(kept.pop())  # newer invoices keep the flag
    for record in originals:
        if not record.is_b2b:
            return True
        items_total = sum((Decimal(item.amount) for item in record.items), Decimal(0))
        if round_half_up(items_total) != record.amounts.total_amount:
            return False
    return True


def _taken_per_invoice(lines: Sequence[AllowanceLine]) -> dict[str, int]:
    """Tax-inclusive NT$ each original invoice is reduced by (whole dollars, like its total)."""
    amounts: dict[str, Decimal] = {}
    taxes: dict[str, int] = {}
    for line in lines:
        number = line.original_invoice_number
        amounts[number] = amounts.get(number, Decimal(0)) + line.amount
        taxes[number] = taxes.get(number, 0) + line.tax
    return {number: round_half_up(amounts[number]) + taxes[number] for number in amounts}


def _remaining(record: InvoiceRecord, raw: Mapping[str, Any]) -> int:
    value = raw.get("allowance_remaining")
    return record.amounts.total_amount if value is None else int(value)


def _totals(amounts: AllowanceAmounts, sign: int) -> dict[str, int]:
    """What the allowance adds to the period totals (reference §7: 401 rows 17, 18 and 19).

    The ``allowance_*`` totals hold positive amounts, like the return's "less returns and allowances"
    rows; the 401 computation subtracts them. ``sign`` is +1 on issue and -1 on cancel.
    """
    by_type: dict[str, Decimal] = {}
    for line in amounts.lines:
        code = str(line.tax_type.value)
        by_type[code] = by_type.get(code, Decimal(0)) + line.amount
    taxable = round_half_up(by_type.get("1", Decimal(0)))
    additions = {
        "allowance_count": sign,
        "allowance_sales": sign * taxable,
        "allowance_tax": sign * amounts.tax_amount,
        "allowance_total": sign * (amounts.total_amount + amounts.tax_amount),
    }
    for code, name in (("2", "allowance_zero_rated_sales"), ("3", "allowance_exempt_sales")):
        if code in by_type:
            additions[name] = sign * round_half_up(by_type[code])
    return additions


def _purchase_changes(
    record: AllowanceRecord, amounts: AllowanceAmounts, sign: int
) -> tuple[str, dict[str, int]] | None:
    """The buyer's purchase returns and allowances (format 23, 401 codes 40/41), in the allowance's period.

    Only a general-tax (07) invoice's buyer deducted input tax, so only that buyer gives it back.
    """
    buyer = record.buyer.get("ubn")
    if not buyer or record.invoice_type != "07":
        return None
    taxable = round_half_up(sum((line.amount for line in amounts.lines), Decimal(0)))
    return str(buyer), {
        "allowance_count": sign,
        "allowance_amount": sign * taxable,
        "allowance_tax": sign * amounts.tax_amount,
    }


def _purchases(record: AllowanceRecord, amounts: AllowanceAmounts, sign: int) -> list[dict[str, Any]]:
    found = _purchase_changes(record, amounts, sign)
    return [] if found is None else [purchases_update(found[0], record.period, found[1])]


def _history(at: datetime, event: str, actor: str, detail: Mapping[str, Any]) -> dict[str, Any]:
    return HistoryEntry(at=at.isoformat(), event=event, actor=actor, detail=dict(detail)).model_dump(mode="json")


def _not_found() -> NotFound:
    return NotFound("ALLOWANCE_NOT_FOUND", "No such allowance", "查無此折讓單", "allowance_number")


# --- the service ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Prepared:
    request: AllowanceRequest
    originals: dict[str, InvoiceRecord]
    remaining: dict[str, int]
    amounts: AllowanceAmounts
    taken: dict[str, int]
    prices_include_tax: bool


class AllowanceService:
    def __init__(
        self,
        *,
        invoices: DynamoInvoices,
        allowances: DynamoAllowances,
        merchants: DynamoMerchants,
        clock: Clock,
        notify_outbox: Callable[[str, str, str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        calendar: WorkingCalendar = WEEKDAYS,
    ) -> None:
        self._calendar = calendar  # a period closes on its filing deadline, moved off a day off
        self._invoices = invoices
        self._allowances = allowances
        self._merchants = merchants
        self._clock = clock
        self._notify_outbox = notify_outbox
        self._sleep = sleep

    # --- issue -----------------------------------------------------------------------------------

    def issue(
        self, ubn: str, body: Mapping[str, Any], *, actor: str, idempotency_key: str | None = None
    ) -> IssuedAllowance:
        fingerprint = request_hash(body)
        # Own namespace in the shared idempotency table: the same key may be used for an invoice.
        idem_id = f"{ubn}#allowance#{idempotency_key}" if idempotency_key else None
        if idem_id:
            replay = self._replay(ubn, idem_id, fingerprint)
            if replay is not None:
                return replay
        request = AllowanceRequest.model_validate(body)
        profile = self._merchants.get_profile(ubn)
        if profile is None:
            raise NotFound("MERCHANT_NOT_FOUND", "No such merchant", "查無此營業人")
        for attempt in range(_CONFLICT_RETRIES):
            prepared = self._prepare(ubn, request)
            now = self._clock.now()
            record = self._record(ubn, profile, prepared, now, actor)
            outcome = self._commit_issue(ubn, record, prepared, idem_id, fingerprint, now, actor)
            if outcome == "committed":
                self._wake(ubn, record.allowance_number, ISSUED_EVENT)
                return IssuedAllowance(record, replayed=False)
            if outcome == "replay" and idem_id:
                replay = self._replay(ubn, idem_id, fingerprint)
                if replay is not None:
                    return replay
            self._sleep(0.05 * (attempt + 1))
        raise Conflict(
            "ALLOWANCE_BUSY",
            "The invoices are being changed by another request; try again",
            "原發票正由其他請求處理中，請稍後再試",
        )

    def _prepare(self, ubn: str, request: AllowanceRequest) -> _Prepared:
        originals: dict[str, InvoiceRecord] = {}
        remaining: dict[str, int] = {}
        for index, item in enumerate(request.items):
            number = item.original_invoice_number
            field = f"items[{index}].original_invoice_number"
            if number not in originals:
                if len(originals) == MAX_ORIGINAL_INVOICES:
                    raise RuleViolation(
                        "TOO_MANY_ORIGINAL_INVOICES",
                        f"An allowance may reduce at most {MAX_ORIGINAL_INVOICES} invoices",
                        f"一張折讓單最多可折讓 {MAX_ORIGINAL_INVOICES} 張發票",
                        field,
                    )
                raw = self._invoices.get_raw(ubn, number)
                if raw is None:
                    raise NotFound("INVOICE_NOT_FOUND", f"No such invoice {number}", f"查無此發票 {number}", field)
                record = InvoiceRecord.model_validate(raw)
                ensure_allowance_allowed(InvoiceStatus(record.status), field)
                originals[number] = record
                remaining[number] = _remaining(record, raw)
            self._check_sequence(originals[number], item.original_sequence_number, index)
        self._check_same_buyer(list(originals.values()))
        include_tax = (
            request.prices_include_tax
            if request.prices_include_tax is not None
            else _default_prices_include_tax(list(originals.values()))
        )
        amounts = compute_allowance_amounts(request.items, prices_include_tax=include_tax)
        if amounts.total_amount + amounts.tax_amount <= 0:
            raise RuleViolation(
                "ALLOWANCE_TOO_SMALL", "The allowance rounds to NT$0", "折讓金額四捨五入後為 0 元", "items"
            )
        taken = _taken_per_invoice(amounts.lines)
        for number, amount in taken.items():
            total = originals[number].amounts.total_amount
            ensure_within_invoice_remaining(total - remaining[number], amount, total, number)
        return _Prepared(request, originals, remaining, amounts, taken, include_tax)

    @staticmethod
    def _check_sequence(record: InvoiceRecord, sequence: int | None, index: int) -> None:
        if sequence is not None and sequence not in {item.sequence for item in record.items}:
            raise RuleViolation(
                "ORIGINAL_ITEM_NOT_FOUND",
                f"Invoice {record.invoice_number} has no item {sequence}",
                f"發票 {record.invoice_number} 沒有第 {sequence} 個品項",
                f"items[{index}].original_sequence_number",
            )

    @staticmethod
    def _check_same_buyer(records: Sequence[InvoiceRecord]) -> None:
        # One G0401 names one buyer, and one return row: every original must be the same buyer's,
        # of the same invoice type.
        if len({_buyer_identity(r) for r in records}) > 1:
            raise RuleViolation(
                "DIFFERENT_BUYERS",
                "All original invoices of an allowance must be issued to the same buyer",
                "同一張折讓單的原發票必須為同一買方",
                "items",
            )
        if len({r.invoice_type for r in records}) > 1:
            raise RuleViolation(
                "DIFFERENT_INVOICE_TYPES",
                "All original invoices of an allowance must be of the same invoice type",
                "同一張折讓單的原發票必須為同一發票類別",
                "items",
            )

    def _allowance_date(self, request: AllowanceRequest, originals: Mapping[str, InvoiceRecord], now: datetime) -> date:
        today = now.astimezone(TAIWAN_TZ).date()
        day = request.allowance_date or today
        if day > today:
            raise RuleViolation(
                "ALLOWANCE_DATE_IN_FUTURE",
                "The allowance date is in the future",
                "折讓日期不可晚於今天",
                "allowance_date",
            )
        if any(day < record.invoice_date for record in originals.values()):
            raise RuleViolation(
                "ALLOWANCE_BEFORE_INVOICE",
                "The allowance date is before an original invoice's date",
                "折讓日期不可早於原發票日期",
                "allowance_date",
            )
        # A period whose return is filed is closed: an allowance dated in it would change that return.
        if filing_deadline(Period.from_date(day), self._calendar) < today:
            raise RuleViolation(
                "ALLOWANCE_PERIOD_CLOSED",
                "That date's period is past its filing deadline; date the allowance today",
                "該日期所屬期別已過申報期限，請以今天為折讓日期",
                "allowance_date",
            )
        return day

    def _record(
        self, ubn: str, profile: Mapping[str, Any], prepared: _Prepared, now: datetime, actor: str
    ) -> AllowanceRecord:
        request = prepared.request
        day = self._allowance_date(request, prepared.originals, now)
        period = Period.from_date(day).code
        if period != Period.from_date(now.astimezone(TAIWAN_TZ).date()).code and is_filed(ubn, period):
            raise RuleViolation(
                "ALLOWANCE_PERIOD_FILED",
                f"The return of period {period} is filed; date the allowance today.",
                f"{period} 期已申報營業稅，請以今天為折讓日期。",
                "allowance_date",
            )
        number = request.allowance_number or f"AL{period}{self._allowances.next_sequence(ubn, period):08d}"
        first = next(iter(prepared.originals.values()))
        items = [
            AllowanceItemRecord(
                sequence=index,
                original_invoice_number=item.original_invoice_number,
                original_invoice_date=prepared.originals[item.original_invoice_number].invoice_date,
                original_sequence_number=item.original_sequence_number,
                description=item.description,
                quantity=_plain(line.quantity),
                unit=item.unit,
                unit_price=_plain(line.unit_price),
                amount=_plain(line.amount),
                tax=line.tax,
                tax_type=str(line.tax_type.value),
            )
            for index, (item, line) in enumerate(zip(request.items, prepared.amounts.lines, strict=True), start=1)
        ]
        return AllowanceRecord(
            allowance_number=number,
            allowance_date=day,
            period=period,
            invoice_type=first.invoice_type,
            issued_at=now,
            seller={"ubn": ubn, "name": profile["name"], "address": profile.get("address") or ""},
            buyer=first.buyer,
            items=items,
            tax_amount=prepared.amounts.tax_amount,
            total_amount=prepared.amounts.total_amount,
            originals=[
                OriginalInvoice(invoice_number=n, invoice_date=r.invoice_date, amount=prepared.taken[n])
                for n, r in prepared.originals.items()
            ],
            prices_include_tax=prepared.prices_include_tax,
            remark=request.remark,
            history=[HistoryEntry.model_validate(_history(now, "issued", actor, {}))],
            artifacts_pending=True,  # until the outbox item written with it is done
        )

    def _commit_issue(
        self,
        ubn: str,
        record: AllowanceRecord,
        prepared: _Prepared,
        idem_id: str | None,
        fingerprint: str,
        now: datetime,
        actor: str,
    ) -> str:
        """Run the transaction: ``committed``, ``retry`` (state moved under us) or ``replay``."""
        number = record.allowance_number
        _ensure_storable(record)
        entry = {"allowance_number": number}
        actions: list[dict[str, Any]] = [
            put_new_allowance(ubn, record.model_dump(mode="json")),
            # Same transaction as the allowance: its documents and mail can never be forgotten.
            _put_outbox(ubn, number, ISSUED_EVENT, ISSUE_STEPS, now),
            add_to_totals(ubn, record.period, record.invoice_type, _totals(prepared.amounts, +1)),
            *_purchases(record, prepared.amounts, +1),
        ]
        invoice_numbers = list(prepared.taken)
        for original in invoice_numbers:
            taken = prepared.taken[original]
            history = _history(now, "allowance", actor, {**entry, "amount": taken})
            actions.append(
                reduce_invoice(ubn, original, taken, prepared.originals[original].amounts.total_amount, history)
            )
        if record.period != Period.from_date(now.astimezone(TAIWAN_TZ).date()).code:
            actions.append(unfiled_condition(ubn, record.period))  # back-dated: no submission in between
        idempotency_at = len(actions) if idem_id else None
        if idem_id:
            actions.append(_idempotency_put(idem_id, number, fingerprint, now))
        try:
            dynamodb().transact_write_items(TransactItems=actions)
            return "committed"
        except ClientError as error:
            reasons = cancellation_reasons(error)
            if not reasons:
                raise
        return _explain_issue_failure(
            reasons, record, given_number=prepared.request.allowance_number is not None, idempotency_at=idempotency_at
        )

    # --- cancel ----------------------------------------------------------------------------------

    def cancel(self, ubn: str, number: str, request: CancelRequest, *, actor: str) -> AllowanceRecord:
        for attempt in range(_CONFLICT_RETRIES):
            record = self.get(ubn, number)
            if record.status == "cancelled":
                raise Conflict(
                    "ALLOWANCE_ALREADY_CANCELLED", "This allowance is already cancelled", "此折讓單已作廢", "status"
                )
            now = self._clock.now()
            if self._commit_cancel(ubn, record, request, now, actor):
                self._wake(ubn, number, CANCELLED_EVENT)
                return self.get(ubn, number)
            self._sleep(0.05 * (attempt + 1))
        raise Conflict("ALLOWANCE_BUSY", "The allowance is being changed; try again", "折讓單正在處理中，請稍後再試")

    def _commit_cancel(
        self, ubn: str, record: AllowanceRecord, request: CancelRequest, now: datetime, actor: str
    ) -> bool:
        number = record.allowance_number
        amounts = _amounts_of(record)
        detail = {"reason": request.reason}
        actions = [
            mark_cancelled(
                ubn,
                number,
                # The remark is for the G0501 only; the outbox item keeps it for that step.
                {"cancelled_at": now.isoformat(), "cancel_reason": request.reason, "artifacts_pending": True},
                _history(now, "cancelled", actor, detail),
            ),
            _put_outbox(ubn, number, CANCELLED_EVENT, CANCEL_STEPS, now, remark=request.remark),
            # Taken back out of the allowance's own period, where it was counted.
            add_to_totals(ubn, record.period, record.invoice_type, _totals(amounts, -1)),
            *_purchases(record, amounts, -1),
        ]
        for original in record.originals:
            history = _history(
                now, "allowance_cancelled", actor, {"allowance_number": number, "amount": original.amount}
            )
            actions.append(restore_invoice(ubn, original.invoice_number, original.amount, history))
        try:
            dynamodb().transact_write_items(TransactItems=actions)
            return True
        except ClientError as error:
            reasons = cancellation_reasons(error)
            if not reasons:
                raise
            return False  # cancelled concurrently (the next read says so) or a transaction conflict

    # --- reading ---------------------------------------------------------------------------------

    def get(self, ubn: str, number: str) -> AllowanceRecord:
        item = self._allowances.get(ubn, number)
        if item is None:
            raise _not_found()
        return AllowanceRecord.model_validate(item)

    def _replay(self, ubn: str, idem_id: str, fingerprint: str) -> IssuedAllowance | None:
        item = _idempotency(idem_id)
        if item is None or int(item.get("expiration", 0)) < int(self._clock.now().timestamp()):
            return None
        if item.get("validation") != fingerprint:
            raise RuleViolation(
                "IDEMPOTENCY_KEY_REUSED",
                "This Idempotency-Key was already used for a different allowance; use a new one",
                "此冪等鍵已用於另一張內容不同的折讓單，請使用新的值",
                "Idempotency-Key",
            )
        return IssuedAllowance(self.get(ubn, str(item["allowance_number"])), replayed=True)

    def _wake(self, ubn: str, number: str, event: str) -> None:
        # After the commit; never raises (notify_outbox swallows SQS errors), the sweeper catches up.
        if self._notify_outbox is not None:
            self._notify_outbox(ubn, number, event)


def _put_outbox(ubn: str, number: str, event: str, steps: Sequence[str], now: datetime, **extra: Any) -> dict[str, Any]:
    """Transaction action: the outbox item of an allowance event (issue, cancel: each happens once,
    which the allowance's own condition guarantees, so the item cannot exist yet)."""
    item = outbox_item(
        ubn, number, event, dict.fromkeys(steps, "pending"), now.isoformat(), subject="allowance", **extra
    )
    return {
        "Put": {"TableName": invoices_table(), "Item": to_item(item), "ConditionExpression": "attribute_not_exists(pk)"}
    }


def _ensure_storable(record: AllowanceRecord) -> None:
    """A DynamoDB item holds at most 400 KB; refuse (422) what would not fit instead of failing there."""
    size = len(record.model_dump_json().encode())
    if size > MAX_RECORD_BYTES:
        raise RuleViolation(
            "ALLOWANCE_TOO_LARGE",
            f"The allowance is too large to keep ({size} bytes); split it into several allowances",
            f"折讓單內容過大（{size} 位元組），請分成數張折讓單",
            "items",
        )


def _explain_issue_failure(
    reasons: list[str], record: AllowanceRecord, *, given_number: bool, idempotency_at: int | None
) -> str:
    """What a cancelled issue transaction means: ``replay``, ``retry``, or a Conflict for the caller.

    Actions are [allowance, outbox, totals, buyer's purchases?, invoices..., unfiled period?,
    idempotency?]; DynamoDB reports one reason each.
    """
    if (
        idempotency_at is not None
        and len(reasons) > idempotency_at
        and reasons[idempotency_at] == "ConditionalCheckFailed"
    ):
        return "replay"  # the same request with the same key committed first
    if reasons[0] == "ConditionalCheckFailed":
        if given_number:
            raise Conflict(
                "ALLOWANCE_NUMBER_TAKEN",
                f"Allowance number {record.allowance_number} is already used",
                f"折讓單號碼 {record.allowance_number} 已被使用",
                "allowance_number",
            )
        return "retry"  # a merchant-chosen number took our generated one: take the next
    # An invoice changed (cancelled, or another allowance took what remained), or a concurrent
    # transaction conflicted: prepare again, which reports the real reason if there is one.
    return "retry"


def ensure_within_invoice_remaining(allowed_so_far: int, requested: int, total: int, number: str) -> None:
    """``ensure_within_invoice`` with the invoice named, so a multi-invoice allowance says which one."""
    from chalicelib.domain.allowance import ensure_within_invoice

    try:
        ensure_within_invoice(allowed_so_far, requested, total)
    except RuleViolation as error:
        raise RuleViolation(
            error.code,
            f"{error.message} (invoice {number}, NT${total - allowed_so_far} remaining)",
            f"{error.message_zh}（發票 {number}，剩餘可折讓 {total - allowed_so_far} 元）",
            "items",
        ) from None


def _amounts_of(record: AllowanceRecord) -> AllowanceAmounts:
    """The stored lines as domain amounts, to reverse exactly what was subtracted."""
    from chalicelib.domain.tax import TaxType

    lines = tuple(
        AllowanceLine(
            item.original_invoice_number,
            TaxType(item.tax_type),
            Decimal(item.quantity),
            Decimal(item.unit_price),
            Decimal(item.amount),
            item.tax,
        )
        for item in record.items
    )
    return AllowanceAmounts(lines, record.tax_amount, record.total_amount)


def allowance_email(
    record: AllowanceRecord,
    *,
    to: str,
    sender: str,
    sent_at: datetime,
    reply_to: str | None = None,
    attachment: Attachment | None = None,
    cancelled: bool = False,
) -> bytes:
    """The buyer's notice of an allowance (with its PDF attached) or, ``cancelled``, of its
    cancellation (none attached, like an invoice's cancellation mail). Chosen by the outbox event,
    not the record's status, so a late issue notice is never sent as a second cancellation."""
    seller = one_line(str(record.seller["name"]))
    number = record.allowance_number
    numbers = "、".join(o.invoice_number for o in record.originals)
    amounts_zh = (
        f"折讓金額（未稅）：{record.total_amount} 元，稅額：{record.tax_amount} 元，"
        f"合計：{record.total_amount + record.tax_amount} 元。"
    )
    amounts_en = f"NT${record.total_amount} + tax NT${record.tax_amount}"
    if cancelled:
        subject = f"{seller} 折讓證明單已作廢 {number} / Allowance {number} cancelled"
        zh = f"{seller} 已作廢折讓證明單 {number}（{record.allowance_date.isoformat()}），此折讓單不再有效。"
        en = f"{seller} cancelled allowance {number} against invoice(s) {numbers} ({amounts_en}); it no longer counts."
    else:
        subject = f"{seller} 折讓證明單 {number} / Allowance notice {number}"
        zh = f"{seller} 已開立折讓證明單 {number}（{record.allowance_date.isoformat()}）。"
        en = f"{seller} issued allowance {number} against invoice(s) {numbers}: {amounts_en}."
    text = f"{zh}\n原發票：{numbers}\n{amounts_zh}\n\n{'—' * 20}\n\n{en}\n"
    message = mail_message(subject, seller=seller, to=to, sender=sender, sent_at=sent_at, reply_to=reply_to, text=text)
    if attachment is not None:
        message.add_attachment(attachment.content, maintype="application", subtype="pdf", filename=attachment.file_name)
    return message.as_bytes()


def _idempotency_put(idem_id: str, number: str, fingerprint: str, now: datetime) -> dict[str, Any]:
    return {
        "Put": {
            "TableName": get_settings().idempotency_table,
            "Item": to_item(
                {
                    "id": idem_id,
                    "allowance_number": number,
                    "validation": fingerprint,
                    "status": "COMPLETED",
                    "expiration": int((now + IDEMPOTENCY_TTL).timestamp()),
                }
            ),
            # An expired record (DynamoDB deletes them lazily) may be replaced.
            "ConditionExpression": "attribute_not_exists(id) OR expiration < :now",
            "ExpressionAttributeValues": {":now": {"N": str(int(now.timestamp()))}},
        }
    }


def _idempotency(idem_id: str) -> dict[str, Any] | None:
    from chalicelib.adapters.dynamo import from_item

    item = (
        dynamodb()
        .get_item(TableName=get_settings().idempotency_table, Key={"id": {"S": idem_id}}, ConsistentRead=True)
        .get("Item")
    )
    return from_item(item) if item else None


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


# --- listing --------------------------------------------------------------------------------------


class AllowanceQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: str | None = Field(default=None, description="期別 of the allowance date, e.g. 11412")
    date_from: date | None = None
    date_to: date | None = None
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _dates(self) -> AllowanceQuery:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise as_pydantic_error(
                InvalidInput(
                    "INVALID_DATE_RANGE",
                    "date_from must not be after date_to.",
                    "起始日期（date_from）不可晚於結束日期（date_to）。",
                    "date_from",
                )
            )
        return self


class AllowancePage(BaseModel):
    items: list[AllowanceView]
    next_cursor: str | None


def _cursor_owner(ubn: str) -> str:
    # Bound to the merchant *and* this list: an invoice-list cursor would start a query on the
    # wrong index partition.
    return f"allowances:{ubn}"


def find_allowances(
    ubn: str, query: AllowanceQuery, cursors: CursorCodec, allowances: DynamoAllowances
) -> AllowancePage:
    low, high = date(1912, 1, 1), date(9999, 12, 31)
    if query.period:
        period = Period.parse(query.period)
        low, high = period.first_day, period.last_day
    low = max(low, query.date_from) if query.date_from else low
    high = min(high, query.date_to) if query.date_to else high
    if low > high:
        return AllowancePage(items=[], next_cursor=None)
    start = cursors.decode(_cursor_owner(ubn), query.cursor)
    # Sort keys are "<date>#<number>": "~" sorts after every number of the last day.
    items, last = allowances.page(ubn, low.isoformat(), high.isoformat() + "~", query.limit, start)
    views = [allowance_view(AllowanceRecord.model_validate(item)) for item in items]
    return AllowancePage(items=views, next_cursor=cursors.encode(_cursor_owner(ubn), last))


__all__ = [
    "AllowanceQuery",
    "AllowanceRequest",
    "AllowanceService",
    "AllowanceView",
    "CancelRequest",
    "allowance_email",
    "find_allowances",
    "g0401",
    "g0501",
]


def counted_totals(record: AllowanceRecord) -> tuple[dict[str, int], tuple[str, dict[str, int]] | None]:
    """What an allowance in force adds to its seller's totals, and to its buyer's purchases (or None),
    computed exactly as issuing adds them: the reconciliation recounts a period with it."""
    amounts = _amounts_of(record)
    return _totals(amounts, +1), _purchase_changes(record, amounts, +1)

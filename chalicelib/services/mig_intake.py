"""MIG 4.1 XML in: the Turnkey-style messages merchants' ERP systems already produce.

An F0401 arrives with its number already chosen by the ERP. The platform does not trust it: the
number must be the *next* number of one of the merchant's own channels in the current period
(so numbers stay in order with no gaps), the seller must be the caller, and the Amount block must
agree with what the platform computes from the lines. It is then issued through the same
``InvoicingService`` as the JSON API, with numbering pinned to exactly that number: if another
writer takes it first, the message is refused rather than issued under a different number.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from chalicelib.adapters.dynamo_invoices import DynamoInvoices
from chalicelib.adapters.dynamo_merchants import DynamoMerchants
from chalicelib.adapters.dynamo_tracks import Counter, DynamoTracks, as_counter
from chalicelib.documents.mig import CancelAllowance, CancelInvoice, Invoice, MessageType, MigMessage, parse_xml
from chalicelib.domain.errors import Conflict, DomainError, NotFound, RuleViolation
from chalicelib.domain.invoice import parse_draft, validate_draft
from chalicelib.domain.invoice_number import InvoiceNumber
from chalicelib.domain.invoice_type import InvoiceType
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.domain.ubn import CONSUMER_BUYER_ID
from chalicelib.services.invoice_record import InvoiceRecord
from chalicelib.services.invoicing import InvoicingService, Issued
from chalicelib.services.numbering import ActionsFor, NumberingService, TakenNumber
from chalicelib.services.ports import Clock

SUPPORTED = (MessageType.F0401, MessageType.F0501, MessageType.G0501)
# F0701 voids *and* re-issues under the same number in the JSON API, which needs the replacement
# F0401 in the same call; G0401 needs its own mapping of allowance lines. Both come later.
LATER = (MessageType.F0701, MessageType.G0401)


class InvoiceCanceller(Protocol):
    """The JSON API's cancel (作廢) use case."""

    def cancel(
        self,
        ubn: str,
        number: str,
        *,
        reason: str,
        actor: str,
        return_tax_document_number: str | None = None,
        remark: str | None = None,
    ) -> Any: ...


class AllowanceCanceller(Protocol):
    """The JSON API's allowance cancel (作廢折讓) use case, with its request model bound in."""

    def __call__(self, ubn: str, number: str, reason: str, remark: str | None, *, actor: str) -> Any: ...


# The Amount block, in MIG element names, against the platform's computed amounts.
_AMOUNT_FIELDS = (
    ("sales_amount", "SalesAmount"),
    ("free_tax_sales_amount", "FreeTaxSalesAmount"),
    ("zero_tax_sales_amount", "ZeroTaxSalesAmount"),
    ("tax_type", "TaxType"),
    ("tax_rate", "TaxRate"),
    ("tax_amount", "TaxAmount"),
    ("total_amount", "TotalAmount"),
)


@dataclass(frozen=True)
class MessageResult:
    invoice_number: str | None
    status: str  # accepted | rejected
    field: str | None = None
    code: str | None = None
    reason: str | None = None
    reason_zh: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def not_next(number: str) -> Conflict:
    return Conflict(
        "NOT_NEXT_NUMBER",
        f"{number} is not the next number of any of your channels this period; numbers are used in order",
        f"{number} 不是本期任何通路的下一個發票號碼，發票號碼須依序使用",
        "Main.InvoiceNumber",
    )


class PinnedNumbering(NumberingService):
    """Numbering that commits exactly ``expected`` or nothing: the ERP already printed it."""

    def __init__(self, inner: NumberingService, expected: str) -> None:
        self._inner = inner
        self._expected = expected

    def take(
        self,
        ubn: str,
        channel: str,
        *,
        invoice_type: InvoiceType = InvoiceType.GENERAL,
        actions_for: ActionsFor,
        low_stock_threshold: int | None = None,
        at: datetime | None = None,
    ) -> TakenNumber:
        def pinned(number: InvoiceNumber, issued_at: datetime) -> Any:
            # Reached again after a lost race with the counter one further: refuse, do not drift.
            if number.value != self._expected:
                raise not_next(self._expected)
            return actions_for(number, issued_at)

        return self._inner.take(
            ubn,
            channel,
            invoice_type=invoice_type,
            actions_for=pinned,
            low_stock_threshold=low_stock_threshold,
            at=at,
        )


class MigInvoicing(InvoicingService):
    """Issuing that keeps the random number the ERP printed (its proof already shows it).

    Only the building step differs; validation, numbering and the transaction are the JSON API's."""

    def __init__(self, *, kept_random_number: str | None, **wiring: Any) -> None:
        super().__init__(**wiring)
        self._kept_random_number = kept_random_number

    def _record(
        self,
        ubn: str,
        profile: Mapping[str, Any],
        validated: Any,
        number: InvoiceNumber,
        issued_at: datetime,
        random_number: str,
        *rest: Any,
    ) -> InvoiceRecord:
        kept = self._kept_random_number or random_number
        return super()._record(ubn, profile, validated, number, issued_at, kept, *rest)


@dataclass(frozen=True)
class Wiring:
    """The adapters issuing needs; the intake pins the numbering per message."""

    invoices: DynamoInvoices
    merchants: DynamoMerchants
    numbering: NumberingService
    tracks: DynamoTracks
    clock: Clock
    notify_outbox: Callable[[str, str, str], None] | None = None


def _next_number(counter: Counter) -> str | None:
    if not counter.current_exhausted and counter.track and counter.next_no is not None:
        return f"{counter.track}{counter.next_no:08d}"
    if counter.queue:
        track, begin = counter.queue[0].split("#")
        return f"{track}{int(begin):08d}"
    return None


def draft_of(invoice: Invoice) -> dict[str, Any]:
    """The JSON API body of an F0401: the same validation applies to both ways in."""
    main = invoice.main
    is_b2b = main.buyer.identifier != CONSUMER_BUYER_ID
    buyer: dict[str, Any] = {"ubn": main.buyer.identifier if is_b2b else None, "name": main.buyer.name}
    if is_b2b:
        buyer |= {
            "address": main.buyer.address,
            "person_in_charge": main.buyer.person_in_charge,
            "telephone": main.buyer.telephone_number,
            "email": main.buyer.email_address,
            "customer_number": main.buyer.customer_number,
        }
    carrier = None
    if main.carrier_type and main.carrier_id1:
        carrier = {"type": main.carrier_type, "id": main.carrier_id1}
        if main.carrier_id2 and main.carrier_id2 != main.carrier_id1:
            carrier["hidden_id"] = main.carrier_id2
    body: dict[str, Any] = {
        "buyer": {k: v for k, v in buyer.items() if v is not None},
        "carrier": carrier,
        "donation_code": main.npoban if main.donate_mark == "1" else None,
        "print": main.print_mark == "Y",
        "items": [
            {
                "description": item.description,
                "quantity": str(item.quantity),
                "unit": item.unit,
                "unit_price": str(item.unit_price),
                "tax_type": item.tax_type,
                "remark": item.remark,
            }
            for item in invoice.details
        ],
        # MIG convention: B2B lines and SalesAmount are before tax, B2C ones include it.
        "prices_include_tax": not is_b2b,
        "invoice_type": main.invoice_type,
        "customs_clearance_mark": main.customs_clearance_mark,
        "zero_tax_rate_reason": main.zero_tax_rate_reason,
        "order_id": main.relate_number,
        "main_remark": main.main_remark,
    }
    if main.invoice_type == InvoiceType.SPECIAL.value and invoice.amount.tax_type == "4":
        body["special_tax_rate"] = str(invoice.amount.tax_rate)
    for index, item in enumerate(body["items"]):
        body["items"][index] = {k: v for k, v in item.items() if v is not None}
    return {k: v for k, v in body.items() if v is not None}


def _same(ours: Any, theirs: Any) -> bool:
    try:
        return Decimal(str(ours)) == Decimal(str(theirs))
    except ArithmeticError:
        return str(ours) == str(theirs)


def _mismatch(field: str, ours: Any, theirs: Any) -> RuleViolation:
    return RuleViolation(
        "AMOUNT_MISMATCH",
        f"{field} is {theirs} but the lines give {ours}",
        f"{field} 為 {theirs}，依明細計算應為 {ours}",
        field,
    )


class MigIntake:
    def __init__(self, wiring: Wiring) -> None:
        self._wiring = wiring
        self._clock = wiring.clock

    def parse(self, message_type: str, data: bytes) -> MigMessage:
        return parse_xml(message_type, data)

    def f0401(self, ubn: str, invoice: Invoice, *, actor: str) -> Issued:
        main = invoice.main
        _own_seller(main.seller.identifier, ubn, "Main.Seller.Identifier")
        body = draft_of(invoice)
        draft = parse_draft(body)
        validated = validate_draft(draft, seller_ubn=ubn)
        self._check_lines(invoice)
        self._check_amounts(invoice, validated.amounts.model_dump(mode="json"))
        # The ERP retries a message whose answer it missed: the same message again is answered with
        # the invoice it made (Idempotency-Key per number), whatever the counter says by now.
        existing = self._wiring.invoices.get(ubn, main.invoice_number)
        if existing is None:
            self._check_today(invoice)
            channel = self._channel_of(ubn, main.invoice_number, main.invoice_type)
        else:
            channel = existing.channel  # a different message under a used number fails as not next
        wiring = self._wiring
        service = MigInvoicing(
            kept_random_number=main.random_number,
            invoices=wiring.invoices,
            merchants=wiring.merchants,
            numbering=PinnedNumbering(wiring.numbering, main.invoice_number),
            clock=wiring.clock,
            notify_outbox=wiring.notify_outbox,
        )
        try:
            issued = service.issue(
                ubn, body, channel=channel, actor=actor, idempotency_key=f"mig-F0401-{main.invoice_number}"
            )
        except RuleViolation as error:
            if error.code != "IDEMPOTENCY_KEY_REUSED":
                raise
            raise _number_used(main.invoice_number) from None
        if issued.replayed and main.random_number and issued.record.random_number != main.random_number:
            raise _number_used(main.invoice_number)  # the random number is not part of the JSON body
        if issued.record.invoice_number != main.invoice_number:
            # Main.RelateNumber is the JSON API's order_id: that order was invoiced under another number.
            raise Conflict(
                "ORDER_ALREADY_INVOICED",
                f"This RelateNumber was already invoiced as {issued.record.invoice_number}",
                f"此 RelateNumber 已開立為 {issued.record.invoice_number}",
                "Main.RelateNumber",
            )
        return issued

    def _check_today(self, invoice: Invoice) -> None:
        today = self._clock.now().astimezone(TAIWAN_TZ).date()
        if invoice.main.invoice_date != today:
            # The platform stamps the issue time itself; an older date would disagree with the record.
            raise RuleViolation(
                "INVOICE_DATE_NOT_TODAY",
                "Main.InvoiceDate must be today (Taiwan time): invoices are issued as they are received",
                "Main.InvoiceDate 須為今日（臺灣時間），發票於收到時開立",
                "Main.InvoiceDate",
            )

    def cancel_invoice(self, ubn: str, message: CancelInvoice, canceller: InvoiceCanceller, *, actor: str) -> str:
        """F0501: the message must describe the invoice it cancels (seller, buyer, date)."""
        _own_seller(message.seller_id, ubn, "SellerId")
        record = self._wiring.invoices.get(ubn, message.cancel_invoice_number)
        if record is None:
            raise NotFound("INVOICE_NOT_FOUND", "No such invoice", "查無此發票", "CancelInvoiceNumber")
        if message.buyer_id != (record.buyer.get("ubn") or CONSUMER_BUYER_ID):
            raise _differs("BuyerId", "buyer", "買方")
        if message.invoice_date != record.invoice_date:
            raise _differs("InvoiceDate", "invoice date", "發票日期")
        canceller.cancel(
            ubn,
            message.cancel_invoice_number,
            reason=message.cancel_reason,
            actor=actor,
            return_tax_document_number=message.return_tax_document_number,
            remark=message.remark,
        )
        return message.cancel_invoice_number

    @staticmethod
    def cancel_allowance(ubn: str, message: CancelAllowance, canceller: AllowanceCanceller, *, actor: str) -> str:
        """G0501: the allowance service checks the allowance itself (exists, not yet cancelled)."""
        _own_seller(message.seller_id, ubn, "SellerId")
        canceller(ubn, message.cancel_allowance_number, message.cancel_reason, message.remark, actor=actor)
        return message.cancel_allowance_number

    def _channel_of(self, ubn: str, number: str, invoice_type: str) -> str:
        period = Period.from_date(self._clock.now().astimezone(TAIWAN_TZ).date())
        for item in self._wiring.tracks.items(ubn, "COUNTER", period.code):
            counter = as_counter(item)
            if counter.invoice_type == invoice_type and _next_number(counter) == number:
                return counter.channel
        raise not_next(number)

    @staticmethod
    def _check_lines(invoice: Invoice) -> None:
        for index, item in enumerate(invoice.details):
            ours = (item.quantity * item.unit_price).quantize(Decimal("0.0000001"))
            if not _same(ours, item.amount):
                raise _mismatch(f"Details.ProductItem[{index}].Amount", ours.normalize(), item.amount)

    @staticmethod
    def _check_amounts(invoice: Invoice, ours: Mapping[str, Any]) -> None:
        theirs = invoice.amount
        for name, mig_name in _AMOUNT_FIELDS:
            if not _same(ours.get(name), getattr(theirs, name)):
                raise _mismatch(f"Amount.{mig_name}", ours.get(name), getattr(theirs, name))


def _number_used(number: str) -> Conflict:
    return Conflict(
        "NUMBER_ALREADY_USED",
        f"{number} was already issued with different content",
        f"{number} 已以不同內容開立",
        "Main.InvoiceNumber",
    )


def _own_seller(seller: str, ubn: str, field: str) -> None:
    if seller != ubn:
        raise RuleViolation(
            "SELLER_NOT_CALLER",
            f"{field} must be your own UBN",
            f"{field} 須為您自己的統一編號",
            field,
        )


def _differs(field: str, what: str, what_zh: str) -> RuleViolation:
    return RuleViolation(
        "MESSAGE_DOES_NOT_MATCH",
        f"{field} is not the {what} of the invoice",
        f"{field} 與原發票的{what_zh}不符",
        field,
    )


def rejected(number: str | None, error: DomainError) -> MessageResult:
    return MessageResult(
        invoice_number=number,
        status="rejected",
        field=error.field,
        code=error.code,
        reason=error.message,
        reason_zh=error.message_zh,
    )

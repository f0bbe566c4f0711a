"""MIG 4.1 XML in: the Turnkey-style messages merchants' ERP systems already produce.

An F0401 arrives with its number already chosen by the ERP. The platform does not trust it: the
number must be the *next* number of one of the merchant's own channels in the current period
(so numbers stay in order with no gaps), the seller must be the caller, and the Amount block must
agree with what the platform computes from the lines. It is then issued through the same
``InvoicingService`` as the JSON API, with numbering pinned to exactly that number: if another
writer takes it first, the message is refused rather than issued under a different number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from chalicelib.documents.mig import (
    Allowance,
    CancelAllowance,
    CancelInvoice,
    CancelInvoiceConfirm,
    ExchangeCancelInvoice,
    ExchangeInvoice,
    Invoice,
    InvoiceConfirm,
    MessageType,
    MigMessage,
    RejectInvoice,
    RejectInvoiceConfirm,
    VoidAllowance,
    VoidInvoice,
    message_class,
    parse_xml,
)
from chalicelib.documents.mig.schema import check_message
from chalicelib.domain.allowance import compute_allowance_amounts
from chalicelib.domain.allowance_record import AllowanceRequest, AllowanceVoidRequest
from chalicelib.domain.allowance_rules import ensure_can_void_allowance
from chalicelib.domain.clock import Clock
from chalicelib.domain.counter import Counter
from chalicelib.domain.errors import Conflict, DomainError, InvalidInput, NotFound, RuleViolation
from chalicelib.domain.exchange import ExchangeAction, exchange_id
from chalicelib.domain.invoice import parse_draft, validate_draft
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.domain.pending_void import PendingVoid
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.domain.status import ensure_can_void
from chalicelib.domain.ubn import CONSUMER_BUYER_ID
from chalicelib.domain.validation import parse_model
from chalicelib.services.exchange import Answer
from chalicelib.services.invoice_lifecycle import changeable_invoice
from chalicelib.services.invoicing import InvoicingService, Issued, not_next_number
from chalicelib.services.mig_mapping import allowance_body, draft_of, exchange_draft_of, mig_allowance_error
from chalicelib.services.mig_mapping import message_differs as _differs

SUPPORTED = (
    MessageType.F0401,
    MessageType.F0501,
    MessageType.F0701,
    MessageType.G0401,
    MessageType.G0501,
    MessageType.G0701,
    # B2B exchange (交換): the seller's A0101 and A0201 and A0302, the buyer's A0102, A0301 and A0202.
    MessageType.A0101,
    MessageType.A0102,
    MessageType.A0201,
    MessageType.A0202,
    MessageType.A0301,
    MessageType.A0302,
    # Allowances by exchange: the issuer's B0101 and B0201, the other party's B0102 and B0202
    # (services/mig_exchange_allowances.py).
    MessageType.B0101,
    MessageType.B0102,
    MessageType.B0201,
    MessageType.B0202,
)
#: F0701 (G0701) comes alone and the replacement F0401 (G0401) with the same number follows: the
#: void waits this long for it.
PENDING_VOID_SECONDS = 48 * 3600


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


class InvoiceVoider(Protocol):
    """The JSON API's void and re-issue (註銷重開) use case."""

    def void(
        self,
        ubn: str,
        number: str,
        *,
        reason: str,
        replacement: Mapping[str, Any],
        actor: str,
        remark: str | None = None,
        random_number: str | None = None,
    ) -> InvoiceRecord: ...


class AllowanceIssuer(Protocol):
    """The JSON API's allowance (折讓) use case: issue, void and re-issue, and read one by number."""

    def issue(self, ubn: str, body: Mapping[str, Any], *, actor: str, idempotency_key: str | None = None) -> Any: ...

    def void(
        self, ubn: str, number: str, request: AllowanceVoidRequest, *, actor: str, version: int | None = None
    ) -> Any: ...

    def get(self, ubn: str, number: str) -> Any: ...


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
    mof_code: str | None = None  # set by the raiser where our code alone does not decide it

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def not_allocated(number: str) -> RuleViolation:
    # MOF E0102 「發票字軌號碼非申購部分」: the number is in none of the merchant's ranges.
    return RuleViolation(
        "NUMBER_NOT_ALLOCATED",
        f"{number} is not in any range allocated to you for this period",
        f"{number} 不在本期配給您的任何字軌號碼區間內（發票字軌號碼非申購部分）",
        "Main.InvoiceNumber",
    )


class MigTracks(Protocol):
    def counters(self, ubn: str, period: str) -> list[Counter]:
        """Every channel's number counter of ``period``."""

    def items(self, ubn: str, kind: str, period: str) -> list[dict[str, Any]]:
        """The ``RANGE`` items (allocated ranges, 配號) of ``period``, among others."""


class PendingVoids(Protocol):
    def put(self, ubn: str, pending: PendingVoid) -> None: ...

    def get(self, ubn: str, number: str) -> PendingVoid | None: ...

    def delete(self, ubn: str, number: str) -> None: ...


class ExchangeAnswers(Protocol):
    """The exchange use case (services/exchange.py): one exchange as a party sees it, and a step."""

    def get(self, ubn: str, ident: str) -> Any: ...

    def take(self, ubn: str, ident: str, action: ExchangeAction, answer: Answer, *, actor: str) -> Any: ...


@dataclass(frozen=True)
class _AnswerShape:
    """Where an exchange answer keeps what the intake reads, and whose it is."""

    action: ExchangeAction
    own: str  # the MIG field that must be the caller's UBN: BuyerId or SellerId
    number: str
    date: str
    time: str
    reason: str | None = None


_ANSWERS: dict[type, _AnswerShape] = {
    InvoiceConfirm: _AnswerShape(ExchangeAction.CONFIRM, "buyer_id", "invoice_number", "receive_date", "receive_time"),
    RejectInvoice: _AnswerShape(
        ExchangeAction.REJECT, "buyer_id", "reject_invoice_number", "reject_date", "reject_time", "reject_reason"
    ),
    RejectInvoiceConfirm: _AnswerShape(
        ExchangeAction.CONFIRM_REJECT, "seller_id", "reject_invoice_number", "reject_date", "reject_time"
    ),
    ExchangeCancelInvoice: _AnswerShape(
        ExchangeAction.CANCEL, "seller_id", "cancel_invoice_number", "cancel_date", "cancel_time", "cancel_reason"
    ),
    CancelInvoiceConfirm: _AnswerShape(
        ExchangeAction.CONFIRM_CANCEL, "buyer_id", "cancel_invoice_number", "cancel_date", "cancel_time"
    ),
}
EXCHANGE_ANSWERS = tuple(_ANSWERS)


def _mig_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


class IntakeInvoices(Protocol):
    def get(self, ubn: str, number: str) -> InvoiceRecord | None: ...


@dataclass(frozen=True)
class Wiring:
    """What the intake needs: issuing (the JSON API's own, with the number pinned per message)."""

    invoices: IntakeInvoices
    invoicing: InvoicingService
    tracks: MigTracks
    pending_voids: PendingVoids
    clock: Clock
    #: G0701s waiting for their G0401 (a ``PendingVoid`` whose ``random_number`` holds the version,
    #: ``v<void_count>``, of the allowance it withdraws).
    pending_allowance_voids: PendingVoids | None = None


def _next_number(counter: Counter) -> str | None:
    if not counter.current_exhausted and counter.track and counter.next_no is not None:
        return f"{counter.track}{counter.next_no:08d}"
    if counter.queue:
        track, begin = counter.queue[0].split("#")
        return f"{track}{int(begin):08d}"
    return None


def _same(ours: Any, theirs: Any) -> bool:
    try:
        return Decimal(str(ours)) == Decimal(str(theirs))
    except ArithmeticError:
        return str(ours) == str(theirs)


def _mismatch(field: str, ours: Any, theirs: Any) -> RuleViolation:
    error = RuleViolation(
        "AMOUNT_MISMATCH",
        f"{field} is {theirs} but the lines give {ours}",
        f"{field} 為 {theirs}，依明細計算應為 {ours}",
        field,
    )
    error.mof_code = "E0103"  # 發票明細加總與總金額不符
    return error


class MigIntake:
    def __init__(self, wiring: Wiring) -> None:
        self._wiring = wiring
        self._clock = wiring.clock

    def parse(self, message_type: str, data: bytes) -> MigMessage:
        # The official XSD first: a failure names the element and its line (E0304/E0305).
        message_class(message_type)  # an unknown type is refused before any schema is looked up
        check_message(message_type, data)
        return parse_xml(message_type, data)

    def f0401(self, ubn: str, invoice: Invoice, *, actor: str, voider: InvoiceVoider | None = None) -> Issued:
        main = invoice.main
        _own_seller(main.seller.identifier, ubn, "Main.Seller.Identifier")
        body = draft_of(invoice)
        draft = parse_draft(body)
        validated = validate_draft(draft, seller_ubn=ubn)
        self._check_lines(invoice)
        self._check_amounts(invoice, validated.amounts.model_dump(mode="json"))
        existing = self._wiring.invoices.get(ubn, main.invoice_number)
        pending = self._pending_void(ubn, main.invoice_number) if existing is not None else None
        if existing is not None and pending is not None and voider is not None:
            return self._reissue(ubn, invoice, body, existing, pending, voider, actor=actor)
        if existing is not None and _is_current_replacement(existing, invoice, body):
            return Issued(existing, replayed=True)  # the replacement F0401 again: answered as before
        # The ERP retries a message whose answer it missed: the same message again is answered with
        # the invoice it made (Idempotency-Key per number), whatever the counter says by now.
        if existing is None:
            self._check_today(main.invoice_date)
            channel = self._channel_of(ubn, main.invoice_number, main.invoice_type)
        else:
            channel = existing.channel  # a different message under a used number fails as not next
        try:
            issued = self._wiring.invoicing.issue(
                ubn,
                body,
                channel=channel,
                actor=actor,
                idempotency_key=f"mig-F0401-{main.invoice_number}",
                # The ERP printed both already: exactly this number, or NOT_NEXT_NUMBER and nothing.
                number=main.invoice_number,
                random_number=main.random_number,
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

    # --- B2B exchange (交換): A0101 in, then each party's answers -------------------------------------

    def a0101(self, ubn: str, invoice: ExchangeInvoice, *, actor: str) -> Issued:
        """An invoice for exchange: checked as an F0401 is (own seller, next number, lines and
        totals), then issued with ``exchange: true``, so the buyer rules apply as over JSON."""
        main = invoice.main
        _own_seller(main.seller.identifier, ubn, "Main.Seller.Identifier")
        body = exchange_draft_of(invoice)
        validated = validate_draft(parse_draft(body), seller_ubn=ubn)
        self._check_lines(invoice)
        ours = validated.amounts
        theirs = invoice.amount
        for mig_name, mine, given in (
            ("SalesAmount", ours.total_amount - ours.tax_amount, theirs.sales_amount),
            ("TaxType", ours.tax_type, theirs.tax_type),
            ("TaxRate", ours.tax_rate, theirs.tax_rate),
            ("TaxAmount", ours.tax_amount, theirs.tax_amount),
            ("TotalAmount", ours.total_amount, theirs.total_amount),
        ):
            if not _same(mine, given):
                raise _mismatch(f"Amount.{mig_name}", mine, given)
        existing = self._wiring.invoices.get(ubn, main.invoice_number)
        if existing is None:
            self._check_today(main.invoice_date)
            channel = self._channel_of(ubn, main.invoice_number, main.invoice_type)
        else:
            channel = existing.channel  # the same message again is answered with its invoice
        try:
            issued = self._wiring.invoicing.issue(
                ubn,
                body,
                channel=channel,
                actor=actor,
                idempotency_key=f"mig-A0101-{main.invoice_number}",
                number=main.invoice_number,
            )
        except RuleViolation as error:
            if error.code != "IDEMPOTENCY_KEY_REUSED":
                raise _exchange_field(error) from None
            raise _number_used(main.invoice_number) from None
        if issued.record.invoice_number != main.invoice_number:
            raise Conflict(
                "ORDER_ALREADY_INVOICED",
                f"This RelateNumber was already invoiced as {issued.record.invoice_number}",
                f"此 RelateNumber 已開立為 {issued.record.invoice_number}",
                "Main.RelateNumber",
            )
        return issued

    @staticmethod
    def exchange_answer(ubn: str, message: MigMessage, answers: ExchangeAnswers, *, actor: str) -> tuple[str, bool]:
        """A0102, A0201, A0202, A0301 or A0302 from the party whose step it is; the other party's
        UBN in it, or an exchange the caller is no party to, is refused. The same message again is
        answered as accepted without a second step. Answers the number and whether it was a replay."""
        shape = _ANSWERS[type(message)]
        mig_type = str(message.message_type)
        own_field = _mig_name(shape.own)
        number_field = _mig_name(shape.number)
        seller, buyer = str(message.seller_id), str(message.buyer_id)  # type: ignore[attr-defined]
        number = str(getattr(message, shape.number))
        if str(getattr(message, shape.own)) != ubn:
            raise RuleViolation(
                "PARTY_NOT_CALLER",
                f"{own_field} must be your own UBN: only that party sends {mig_type}",
                f"{own_field} 須為您自己的統一編號：{mig_type} 僅由該方傳送",
                own_field,
            )
        ident = exchange_id(seller, number)
        try:
            found = answers.get(ubn, ident)
        except NotFound as error:
            raise NotFound(error.code, error.message, error.message_zh, number_field) from None
        record = found.record
        if buyer != record.buyer.get("ubn"):
            raise _differs("BuyerId", "buyer", "買方")
        if message.invoice_date != record.invoice_date:  # type: ignore[attr-defined]
            raise _differs("InvoiceDate", "invoice date", "發票日期")
        at = datetime.combine(getattr(message, shape.date), getattr(message, shape.time), tzinfo=TAIWAN_TZ)
        answer = Answer(
            reason=getattr(message, shape.reason) if shape.reason else None,
            remark=getattr(message, "remark", None),
            return_tax_document_number=getattr(message, "return_tax_document_number", None),
            buyer_remark=getattr(message, "buyer_remark", None),
            bonded_area_confirm=getattr(message, "bonded_area_confirm", None),
            at=at,
        )
        kept = found.exchange.messages.get(mig_type)
        if kept is not None and _same_answer(kept, answer):
            return number, True  # the ERP sent it again: it was applied once
        try:
            answers.take(ubn, ident, shape.action, answer, actor=actor)
        except DomainError as error:
            mapped = {
                "reason": _mig_name(shape.reason) if shape.reason else None,
                "return_tax_document_number": "ReturnTaxDocumentNumber",
                "action": own_field,
                "state": number_field,
            }.get(error.field or "")
            if mapped is None:
                raise
            clone = type(error)(error.code, error.message, error.message_zh, mapped)
            clone.mof_code = error.mof_code
            raise clone from None
        return number, False

    def _check_today(self, invoice_date: Any) -> None:
        today = self._clock.now().astimezone(TAIWAN_TZ).date()
        if invoice_date != today:
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

    # --- F0701 then F0401: void and re-issue (註銷重開) under the same number -------------------------

    def void_invoice(self, ubn: str, message: VoidInvoice, *, clock: Clock | None = None) -> str:
        """F0701: checked as the JSON void is, then kept until the replacement F0401 arrives (48 h)."""
        number = message.void_invoice_number
        _own_seller(message.seller_id, ubn, "SellerId")
        record = changeable_invoice(self._wiring.invoices, ubn, number, "VoidInvoiceNumber")
        if message.buyer_id != (record.buyer.get("ubn") or CONSUMER_BUYER_ID):
            raise _differs("BuyerId", "buyer", "買方")
        if message.invoice_date != record.invoice_date:
            raise _differs("InvoiceDate", "invoice date", "發票日期")
        now = (clock or self._clock).now()
        try:
            ensure_can_void(record.issued_at, now)
        except RuleViolation as error:
            raise RuleViolation(error.code, error.message, error.message_zh, "VoidInvoiceNumber") from None
        pending = PendingVoid(
            invoice_number=number,
            reason=message.void_reason,
            remark=message.remark,
            random_number=record.random_number,
            received_at=now.isoformat(),
            expires_at=int(now.timestamp()) + PENDING_VOID_SECONDS,
        )
        self._wiring.pending_voids.put(ubn, pending)
        return number

    def _pending_void(self, ubn: str, number: str) -> PendingVoid | None:
        pending = self._wiring.pending_voids.get(ubn, number)
        if pending is None or not pending.is_live(int(self._clock.now().timestamp())):
            return None
        return pending

    def _reissue(
        self,
        ubn: str,
        invoice: Invoice,
        body: Mapping[str, Any],
        record: InvoiceRecord,
        pending: PendingVoid,
        voider: InvoiceVoider,
        *,
        actor: str,
    ) -> Issued:
        """The replacement F0401: same number, date and time, items and amounts; new random number."""
        main = invoice.main
        if record.random_number != pending.random_number:
            # Re-issued already since the F0701 (by the JSON API): this void is spent.
            self._drop_pending_void(ubn, main.invoice_number)
            raise _number_used(main.invoice_number)
        if main.invoice_date != record.invoice_date:
            raise _differs("Main.InvoiceDate", "invoice date", "發票日期")
        if main.invoice_time.strftime("%H:%M:%S") != record.invoice_time:
            raise _differs("Main.InvoiceTime", "invoice time", "發票時間")
        if main.random_number is not None and main.random_number == record.random_number:
            raise RuleViolation(
                "RANDOM_NUMBER_NOT_NEW",
                "The replacement of a voided invoice needs a new RandomNumber",
                "註銷重開的發票須使用新的隨機碼",
                "Main.RandomNumber",
            )
        _check_same_content(invoice, body, record)
        replacement = {name: body.get(name) for name in ("buyer", "carrier", "donation_code", "print")}
        reissued = voider.void(
            ubn,
            main.invoice_number,
            reason=pending.reason,
            remark=pending.remark,
            replacement=replacement,
            actor=actor,
            random_number=main.random_number,
        )
        self._drop_pending_void(ubn, main.invoice_number)
        return Issued(reissued, replayed=False)

    def _drop_pending_void(self, ubn: str, number: str) -> None:
        self._wiring.pending_voids.delete(ubn, number)

    # --- G0401: issue an allowance (折讓) --------------------------------------------------------------

    def g0401(self, ubn: str, message: Allowance, allowances: AllowanceIssuer, *, actor: str) -> tuple[str, bool]:
        """The allowance service issues it; the message's own figures must match the platform's.

        Answers the allowance number and whether it was already issued by this same message."""
        main = message.main
        number = main.allowance_number
        _own_seller(main.seller.identifier, ubn, "Main.Seller.Identifier")
        body = allowance_body(message)
        try:
            request = parse_model(AllowanceRequest, body)
        except InvalidInput as error:
            raise mig_allowance_error(error) from None
        self._check_originals(ubn, message)
        amounts = compute_allowance_amounts(request.items, prices_include_tax=False)
        for index, (item, line) in enumerate(zip(message.details, amounts.lines, strict=True)):
            base = f"Details.ProductItem[{index}]"
            if not _same(line.amount, item.amount):
                raise _mismatch(f"{base}.Amount", line.amount.normalize(), item.amount)
            if line.tax != item.tax:
                raise _mismatch(f"{base}.Tax", line.tax, item.tax)
        if amounts.tax_amount != message.amount.tax_amount:
            raise _mismatch("Amount.TaxAmount", amounts.tax_amount, message.amount.tax_amount)
        if not _same(amounts.total_amount, message.amount.total_amount):
            raise _mismatch("Amount.TotalAmount", amounts.total_amount, message.amount.total_amount)
        pending = self._pending_allowance_void(ubn, number)
        if pending is not None:
            return self._reissue_allowance(ubn, message, body, pending, allowances, actor=actor), False
        if self._already_issued(ubn, message, allowances):
            return number, True
        try:
            allowances.issue(ubn, body, actor=actor)
        except Conflict as error:
            if error.code != "ALLOWANCE_NUMBER_TAKEN":
                raise mig_allowance_error(error) from None
            if self._already_issued(ubn, message, allowances):  # the same message, sent twice at once
                return number, True
            raise mig_allowance_error(error) from None
        except DomainError as error:
            raise mig_allowance_error(error) from None
        return number, False

    # --- G0701 then G0401: void and re-issue an allowance (註銷重開) under the same number ----------------

    def void_allowance(self, ubn: str, message: VoidAllowance, allowances: AllowanceIssuer, *, clock: Clock) -> str:
        """G0701: checked as the JSON void is, then kept until the G0401 with the same number arrives
        (48 h); that G0401 re-issues the allowance with its lines, in one transaction."""
        number = message.void_allowance_number
        _own_seller(message.seller_id, ubn, "SellerId")
        try:
            record = allowances.get(ubn, number)
        except NotFound as error:
            raise NotFound(error.code, error.message, error.message_zh, "VoidAllowanceNumber") from None
        if message.buyer_id != (record.buyer.get("ubn") or CONSUMER_BUYER_ID):
            raise _differs("BuyerId", "buyer", "買方", "allowance")
        if message.allowance_date != record.allowance_date:
            raise _differs("AllowanceDate", "allowance date", "折讓單日期", "allowance")
        now = clock.now()
        try:
            ensure_can_void_allowance(record, now)
        except DomainError as error:
            raise type(error)(error.code, error.message, error.message_zh, "VoidAllowanceNumber") from None
        pending = PendingVoid(
            invoice_number=number,
            reason=message.void_reason,
            remark=message.remark,
            random_number=f"v{record.void_count}",
            received_at=now.isoformat(),
            expires_at=int(now.timestamp()) + PENDING_VOID_SECONDS,
        )
        self._allowance_voids().put(ubn, pending)
        return number

    def _allowance_voids(self) -> PendingVoids:
        if self._wiring.pending_allowance_voids is None:
            raise RuntimeError("this intake is not wired for G0701")
        return self._wiring.pending_allowance_voids

    def _pending_allowance_void(self, ubn: str, number: str) -> PendingVoid | None:
        if self._wiring.pending_allowance_voids is None:
            return None
        pending = self._wiring.pending_allowance_voids.get(ubn, number)
        if pending is None or not pending.is_live(int(self._clock.now().timestamp())):
            return None
        return pending

    def _reissue_allowance(
        self,
        ubn: str,
        message: Allowance,
        body: Mapping[str, Any],
        pending: PendingVoid,
        allowances: AllowanceIssuer,
        *,
        actor: str,
    ) -> str:
        """The G0401 after a G0701: the same number and date, the corrected lines."""
        number = message.main.allowance_number
        record = allowances.get(ubn, number)
        if message.main.allowance_date != record.allowance_date:
            raise _differs("Main.AllowanceDate", "allowance date", "折讓單日期", "allowance")
        request = AllowanceVoidRequest(
            reason=pending.reason,
            remark=pending.remark,
            replacement={"items": body["items"], "prices_include_tax": False},
        )
        try:
            allowances.void(ubn, number, request, actor=actor, version=int(pending.random_number.removeprefix("v")))
        except Conflict as error:
            if error.code == "ALLOWANCE_CHANGED":  # re-issued since the G0701 (by the JSON API): spent
                self._allowance_voids().delete(ubn, number)
            raise mig_allowance_error(error) from None
        except DomainError as error:
            raise mig_allowance_error(error) from None
        self._allowance_voids().delete(ubn, number)
        return number

    def _check_originals(self, ubn: str, message: Allowance) -> None:
        buyer = message.main.buyer.identifier
        for index, item in enumerate(message.details):
            base = f"Details.ProductItem[{index}]"
            record = self._wiring.invoices.get(ubn, item.original_invoice_number)
            if record is None:
                raise NotFound(
                    "INVOICE_NOT_FOUND",
                    f"No such invoice {item.original_invoice_number}",
                    f"查無此發票 {item.original_invoice_number}",
                    f"{base}.OriginalInvoiceNumber",
                )
            if item.original_invoice_date != record.invoice_date:
                raise _differs(f"{base}.OriginalInvoiceDate", "invoice date", "發票日期")
            if buyer != (record.buyer.get("ubn") or CONSUMER_BUYER_ID):
                raise _differs("Main.Buyer.Identifier", "buyer", "買方")

    @staticmethod
    def _already_issued(ubn: str, message: Allowance, allowances: AllowanceIssuer) -> bool:
        try:
            existing = allowances.get(ubn, message.main.allowance_number)
        except NotFound:
            return False
        if existing.status == "issued" and _allowance_matches(existing, message):
            return True
        raise Conflict(
            "ALLOWANCE_NUMBER_TAKEN",
            f"Allowance number {message.main.allowance_number} is already used by another allowance",
            f"折讓單號碼 {message.main.allowance_number} 已被其他折讓單使用",
            "Main.AllowanceNumber",
        )

    def _channel_of(self, ubn: str, number: str, invoice_type: str) -> str:
        period = Period.from_date(self._clock.now().astimezone(TAIWAN_TZ).date())
        for counter in self._wiring.tracks.counters(ubn, period.code):
            if counter.invoice_type == invoice_type and _next_number(counter) == number:
                return counter.channel
        if not self._allocated(ubn, number, period.code):
            raise not_allocated(number)
        raise not_next_number(number)

    def _allocated(self, ubn: str, number: str, period: str) -> bool:
        """Whether ``number`` lies in one of the merchant's allocated ranges (配號) of ``period``."""
        track, serial = number[:2], int(number[2:])
        return any(
            str(item["track"]) == track and int(item["begin"]) <= serial <= int(item["end"])
            for item in self._wiring.tracks.items(ubn, "RANGE", period)
        )

    @staticmethod
    def _check_lines(invoice: Invoice | ExchangeInvoice) -> None:
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


def _allowance_matches(record: Any, message: Allowance) -> bool:
    """An issued allowance is the one this message describes (the ERP re-sent it)."""
    if record.allowance_date != message.main.allowance_date or len(record.items) != len(message.details):
        return False
    if (record.buyer.get("ubn") or CONSUMER_BUYER_ID) != message.main.buyer.identifier:
        return False
    if record.tax_amount != message.amount.tax_amount or not _same(record.total_amount, message.amount.total_amount):
        return False
    for stored, item in zip(record.items, message.details, strict=True):
        sequence = item.original_sequence_number
        given = str(int(sequence)) if sequence and sequence.isdigit() else ""
        if (
            stored.original_invoice_number != item.original_invoice_number
            or str(stored.original_sequence_number or "") != given
            or stored.description != item.original_description
            or stored.unit != item.unit
            or stored.tax != item.tax
            or stored.tax_type != item.tax_type
            or not _same(stored.quantity, item.quantity)
            or not _same(stored.unit_price, item.unit_price)
        ):
            return False
    return True


_COMPARED_ITEM_FIELDS = (("description", "Description"), ("unit", "Unit"), ("tax_type", "TaxType"))


def _check_same_content(invoice: Invoice, body: Mapping[str, Any], record: InvoiceRecord) -> None:
    """A re-issue corrects buyer, carrier, donation and print only: lines and amounts stay as issued."""
    if invoice.main.invoice_type != record.invoice_type:
        raise _differs("Main.InvoiceType", "invoice type", "發票類別")
    if len(invoice.details) != len(record.items):
        raise _differs("Details.ProductItem", "items", "明細")
    # B2C lines include the tax and B2B ones do not: a consumer invoice corrected to a company buyer
    # carries other unit prices for the same goods; then only the total is compared.
    same_basis = body.get("prices_include_tax") == record.prices_include_tax or record.prices_include_tax is None
    for index, (item, stored) in enumerate(zip(invoice.details, record.items, strict=True)):
        base = f"Details.ProductItem[{index}]"
        for name, mig_name in _COMPARED_ITEM_FIELDS:
            if str(getattr(item, name) or "") != str(getattr(stored, name) or ""):
                raise _differs(f"{base}.{mig_name}", mig_name, mig_name)
        if not _same(item.quantity, stored.quantity):
            raise _differs(f"{base}.Quantity", "quantity", "數量")
        if same_basis and not _same(item.unit_price, stored.unit_price):
            raise _differs(f"{base}.UnitPrice", "unit price", "單價")
    ours = record.amounts.model_dump(mode="json")
    fields = _AMOUNT_FIELDS if same_basis else (("total_amount", "TotalAmount"),)
    for name, mig_name in fields:
        if not _same(ours.get(name), getattr(invoice.amount, name)):
            raise _differs(f"Amount.{mig_name}", mig_name, mig_name)


def _is_current_replacement(record: InvoiceRecord, invoice: Invoice, body: Mapping[str, Any]) -> bool:
    """The replacement F0401 of an F0701, sent again after it was applied."""
    main = invoice.main
    if not any(entry.event == "reissued" for entry in record.history):
        return False
    if main.random_number is None or main.random_number != record.random_number:
        return False
    carrier = body.get("carrier")
    return (
        (record.buyer.get("ubn") or None) == body["buyer"].get("ubn")
        and (record.carrier or None) == (dict(carrier) if carrier else None)
        and record.donation_code == body.get("donation_code")
        and record.print_mark == body.get("print")
    )


def _same_answer(kept: Mapping[str, Any], answer: Answer) -> bool:
    """The answer recorded is this message (its time and every field it carried)."""
    at = answer.at.isoformat() if answer.at else None
    return kept.get("at") == at and all(
        kept.get(name) == getattr(answer, name)
        for name in ("reason", "remark", "return_tax_document_number", "buyer_remark", "bonded_area_confirm")
    )


def _exchange_field(error: RuleViolation) -> RuleViolation:
    """The exchange rules name JSON fields (``exchange``, ``buyer.ubn``); an A0101 has MIG ones."""
    mapped = {"exchange": "Main.Buyer.Identifier", "buyer.ubn": "Main.Buyer.Identifier"}.get(error.field or "")
    if mapped is None:
        return error
    return RuleViolation(error.code, error.message, error.message_zh, mapped)


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


def rejected(number: str | None, error: DomainError) -> MessageResult:
    return MessageResult(
        invoice_number=number,
        status="rejected",
        field=error.field,
        code=error.code,
        reason=error.message,
        reason_zh=error.message_zh,
        mof_code=error.mof_code,
    )

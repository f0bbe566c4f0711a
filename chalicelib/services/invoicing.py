"""Issuing e-invoices: validate, number, and commit everything in one transaction.

One DynamoDB transaction writes the channel's number counter, the invoice, the period's running
totals, the outbox entry (documents and delivery happen from it afterwards), the low-stock notice
when this issue is the one to queue it and, when given, the idempotency record and the order-id
record. So an invoice is never half-written, a number is never lost, and a retry finds the first
invoice instead of making a second one; and nothing after the commit can fail the request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from chalicelib.documents.codes import QrItem
from chalicelib.domain.clock import Clock
from chalicelib.domain.counter import Counter
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound, RuleViolation
from chalicelib.domain.exchange import ensure_can_exchange
from chalicelib.domain.invoice import InvoiceDraft, ValidatedDraft, parse_draft, validate_draft
from chalicelib.domain.invoice_record import Amounts, HistoryEntry, InvoiceRecord, RecordItem
from chalicelib.domain.issuing_state import CounterKey
from chalicelib.domain.merchant import MerchantProfile, MerchantSettings
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.domain.random_number import new_random_number
from chalicelib.domain.writes import (
    AddToTotals,
    AlreadyRecorded,
    Intent,
    NumberTaken,
    PutInvoice,
    PutOutboxItem,
    RecordIdempotencyKey,
    RecordOrderId,
)
from chalicelib.services.exchange import issue_intents, issue_state
from chalicelib.services.idempotency import is_live, record_intent, request_hash, same_request
from chalicelib.services.invoice_building import invoice_codes, purchase_intents, totals_changes
from chalicelib.services.invoice_view import view
from chalicelib.services.issuing_cache import IssuingCache
from chalicelib.services.numbering import MAX_ATTEMPTS, NextNumber, NumberingService, backoff
from chalicelib.services.ports import InvoiceReader, IssuingReads, UnitOfWork


class Profiles(Protocol):
    def profile(self, ubn: str) -> MerchantProfile | None:
        """A merchant's profile: here the buyer's, when an invoice is issued for exchange."""


MAX_IDEMPOTENCY_KEY = 255


@dataclass(frozen=True)
class Issued:
    record: InvoiceRecord
    replayed: bool

    def body(self) -> dict[str, Any]:
        return view(self.record).model_dump(mode="json")


def _reused(field: str, what: str, what_zh: str) -> RuleViolation:
    return RuleViolation(
        "IDEMPOTENCY_KEY_REUSED" if field == "Idempotency-Key" else "ORDER_ID_REUSED",
        f"This {what} was already used for a different invoice; use a new one",
        f"此{what_zh}已用於另一張內容不同的發票，請使用新的值",
        field,
    )


def not_next_number(number: str) -> Conflict:
    """A number the caller fixed (an ERP's MIG F0401 already printed it) is not the channel's next."""
    return Conflict(
        "NOT_NEXT_NUMBER",
        f"{number} is not the next number of any of your channels this period; numbers are used in order",
        f"{number} 不是本期任何通路的下一個發票號碼，發票號碼須依序使用",
        "Main.InvoiceNumber",
    )


class InvoicingService:
    def __init__(
        self,
        *,
        invoices: InvoiceReader,
        reads: IssuingReads,
        ledger: UnitOfWork,
        numbering: NumberingService,
        clock: Clock,
        cache: IssuingCache | None = None,
        merchants: Profiles | None = None,
    ) -> None:
        self._merchants = merchants
        self._invoices = invoices
        self._reads = reads
        self._ledger = ledger
        self._numbering = numbering
        self._clock = clock
        self._cache = cache

    def issue(
        self,
        ubn: str,
        body: Mapping[str, Any],
        *,
        channel: str,
        actor: str,
        idempotency_key: str | None = None,
        draft: InvoiceDraft | None = None,
        origin: str | None = None,
        number: str | None = None,
        random_number: str | None = None,
    ) -> Issued:
        """Issue ``body`` (``draft`` is ``body`` already validated, when the caller has it).
        ``origin`` (e.g. ``pending:<id>``) is kept on the outbox item: it decides the events reported.
        ``number`` and ``random_number`` are fixed by a caller that printed them already (an ERP's
        MIG F0401): exactly that number is committed, or ``NOT_NEXT_NUMBER`` and nothing."""
        fingerprint = request_hash(body)
        idem_id = f"{ubn}#{idempotency_key}" if idempotency_key else None
        if draft is None:
            parsed = self._parse(ubn, body, idem_id, fingerprint)
            if isinstance(parsed, Issued):
                return parsed
            draft = parsed
        now = self._clock.now().astimezone(TAIWAN_TZ)
        where = CounterKey(Period.from_date(now.date()).code, draft.invoice_type.value, channel)
        # A number the caller fixed is checked against the counter as it is: never a remembered one.
        remembered = self._cache.get(ubn, where) if self._cache is not None and number is None else None
        counter: Counter | None
        if remembered is not None:
            profile, counter = remembered
        else:
            state = self._reads.read(ubn, where, idem_id, draft.order_id)
            replay = self._replay_by_key(ubn, idem_id, fingerprint, state.idempotency) if idem_id else None
            if replay is None and draft.order_id:
                replay = self._replay_by_order(ubn, draft.order_id, fingerprint, state.order)
            if replay is not None:
                return replay
            if state.profile is None:
                raise NotFound("MERCHANT_NOT_FOUND", "No such merchant", "查無此營業人")
            profile, counter = MerchantProfile.of(state.profile), state.counter
        ensure_ready_to_issue(profile)
        validated = validate_draft(draft, seller_ubn=ubn)
        if draft.exchange:
            self._ensure_exchange(ubn, draft)
        outcome = self._commit(
            ubn,
            draft,
            validated,
            profile,
            profile.settings,
            counter,
            random_number or new_random_number(),
            channel=channel,
            actor=actor,
            idem_id=idem_id,
            fingerprint=fingerprint,
            origin=origin,
            number=number,
            remembered=remembered is not None,
        )
        if isinstance(outcome, Issued):
            return outcome
        return Issued(outcome, replayed=False)

    def _commit(
        self,
        ubn: str,
        draft: InvoiceDraft,
        validated: ValidatedDraft,
        profile: MerchantProfile,
        settings: MerchantSettings,
        seen: Counter | None,
        random_number: str,
        *,
        channel: str,
        actor: str,
        idem_id: str | None,
        fingerprint: str,
        origin: str | None,
        number: str | None,
        remembered: bool,
    ) -> InvoiceRecord | Issued:
        """Take the channel's next number and commit the invoice with it, top-down: choose the
        number, build the record, hand the unit of work every intent. A number another writer took
        first is chosen again (``seen``: the counter as the lost race handed it back); a replay
        record that exists already means a concurrent identical request won: its invoice."""
        for attempt in range(MAX_ATTEMPTS):
            taken = self._numbering.next(
                ubn,
                channel,
                invoice_type=draft.invoice_type,
                low_stock_threshold=settings.low_stock_threshold,
                seen=seen,
            )
            if number is not None and taken.number.value != number:
                # Reached after a lost race with the counter one further: refuse, do not drift.
                raise not_next_number(number)
            record = self._record(
                ubn, profile, validated, taken, random_number, channel, actor, settings.qr_aes_key or ""
            )
            intents = [*taken.intents(), *self._intents(ubn, record, settings, idem_id, fingerprint, origin)]
            try:
                self._ledger.commit(intents)
            except NumberTaken as lost:
                seen = lost.counter
                backoff(attempt)
                continue
            except AlreadyRecorded as refused:
                return self._replay_refused(ubn, refused, idem_id, fingerprint, draft.order_id)
            if self._cache is not None:
                self._cache.remember(ubn, profile, taken.counter_key, taken.counter_after, fresh=not remembered)
            return record
        raise RuntimeError(f"could not take a number for {ubn}/{channel} after {MAX_ATTEMPTS} attempts")

    def _ensure_exchange(self, ubn: str, draft: InvoiceDraft) -> None:
        buyer_ubn = draft.buyer.ubn
        buyer = self._merchants.profile(buyer_ubn) if self._merchants is not None and buyer_ubn else None
        ensure_can_exchange(
            seller_ubn=ubn,
            buyer_ubn=buyer_ubn,
            buyer=buyer,
            has_carrier=draft.carrier is not None,
            printed=draft.print_proof,
        )

    def _parse(self, ubn: str, body: Mapping[str, Any], idem_id: str | None, fingerprint: str) -> InvoiceDraft | Issued:
        try:
            return parse_draft(body)
        except InvalidInput:
            # A retry is answered with the first invoice even if the rules have changed since.
            record = self._reads.idempotency_record(idem_id) if idem_id else None
            replay = self._replay_by_key(ubn, idem_id, fingerprint, record) if idem_id else None
            if replay is not None:
                return replay
            raise

    # --- replays ---------------------------------------------------------------------------------

    def _replay_refused(
        self, ubn: str, refused: AlreadyRecorded, idem_id: str | None, fingerprint: str, order_id: str | None
    ) -> Issued:
        """A concurrent identical request committed first: answer with its invoice."""
        replay = None
        if isinstance(refused.intent, RecordIdempotencyKey) and idem_id:
            replay = self._replay_by_key(ubn, idem_id, fingerprint, refused.stored)
        elif isinstance(refused.intent, RecordOrderId) and order_id:
            replay = self._replay_by_order(ubn, order_id, fingerprint, refused.stored)
        if replay is None:
            raise RuntimeError(f"{type(refused.intent).__name__} refused without a replayable record") from refused
        return replay

    def _replay_by_key(self, ubn: str, idem_id: str, fingerprint: str, item: Mapping[str, Any] | None) -> Issued | None:
        """The first invoice of this Idempotency-Key (``item``: its record as read)."""
        if item is None or not is_live(item, self._clock.now()):
            return None
        if not same_request(item, fingerprint):
            raise _reused("Idempotency-Key", "Idempotency-Key", "冪等鍵")
        return self._replay(ubn, str(item["invoice_number"]))

    def _replay_by_order(
        self, ubn: str, order_id: str, fingerprint: str, item: Mapping[str, Any] | None
    ) -> Issued | None:
        """The first invoice of this order id (``item``: its record as read)."""
        if item is None:
            return None
        if not same_request(item, fingerprint):
            raise _reused("order_id", "order_id", "訂單編號")
        return self._replay(ubn, str(item["invoice_number"]))

    def _replay(self, ubn: str, number: str) -> Issued:
        record = self._invoices.get(ubn, number)
        if record is None:  # the records are written in one transaction with the invoice
            raise RuntimeError(f"replay record points to a missing invoice {number}")
        return Issued(record, replayed=True)

    # --- building --------------------------------------------------------------------------------

    def _record(
        self,
        ubn: str,
        profile: MerchantProfile,
        validated: ValidatedDraft,
        taken: NextNumber,
        random_number: str,
        channel: str,
        actor: str,
        qr_key: str,
    ) -> InvoiceRecord:
        number, issued_at = taken.number, taken.issued_at
        draft: InvoiceDraft = validated.draft
        amounts = validated.amounts
        period = Period.from_date(issued_at.date())
        items = [
            RecordItem(
                sequence=index,
                description=item.description,
                quantity=_plain(item.quantity),
                unit=item.unit,
                unit_price=_plain(item.unit_price),
                amount=_plain(item.amount),
                tax_type=str(item.tax_type.value),
                remark=item.remark,
            )
            for index, item in enumerate(draft.items, start=1)
        ]
        codes = invoice_codes(
            period=period.code,
            number=number.value,
            invoice_date=issued_at.date(),
            random_number=random_number,
            tax_exclusive_sales_amount=amounts.tax_exclusive_sales_amount,
            zero_tax_sales_amount=amounts.zero_tax_sales_amount,
            free_tax_sales_amount=amounts.free_tax_sales_amount,
            total_amount=amounts.total_amount,
            seller_ubn=ubn,
            buyer_ubn=draft.buyer.ubn,
            items=tuple(QrItem(i.description, i.quantity, i.unit_price) for i in draft.items),
            qr_key=qr_key,
        )
        buyer = draft.buyer.model_dump(mode="json")
        carrier = draft.carrier.model_dump(mode="json", exclude_none=True) if draft.carrier else None
        return InvoiceRecord(
            invoice_number=number.value,
            random_number=random_number,
            period=period.code,
            invoice_date=issued_at.date(),
            invoice_time=issued_at.strftime("%H:%M:%S"),
            issued_at=issued_at,
            invoice_type=draft.invoice_type.value,
            channel=channel,
            seller={"ubn": ubn, "name": profile.name, "address": profile.address or ""},
            buyer=buyer,
            items=items,
            amounts=Amounts.model_validate(amounts.model_dump(mode="json")),
            tax_exclusive_sales_amount=amounts.tax_exclusive_sales_amount,
            output_tax_amount=amounts.output_tax_amount,
            carrier=carrier,
            donation_code=draft.donation_code,
            print_mark=draft.print_proof,
            prices_include_tax=draft.prices_include_tax,
            customs_clearance_mark=draft.customs_clearance_mark.value if draft.customs_clearance_mark else None,
            zero_tax_rate_reason=draft.zero_tax_rate_reason.value if draft.zero_tax_rate_reason else None,
            special_tax_rate=_plain(draft.special_tax_rate) if draft.special_tax_rate is not None else None,
            main_remark=draft.main_remark,
            order_id=draft.order_id,
            status="issued",
            barcode=codes.barcode,
            qr_left=codes.qr_left,
            qr_right=codes.qr_right,
            history=[
                HistoryEntry(
                    at=issued_at.isoformat(),
                    event="issued",
                    actor=actor,
                    detail={"channel": channel, **({"exchange": "A0101"} if draft.exchange else {})},
                )
            ],
            exchange=issue_state(issued_at) if draft.exchange else None,
            warnings=[
                {"code": w.code, "message": w.message, "message_zh": w.message_zh, "field": w.field}
                for w in validated.warnings
            ],
        )

    def _intents(
        self,
        ubn: str,
        record: InvoiceRecord,
        settings: MerchantSettings,
        idem_id: str | None,
        fingerprint: str,
        origin: str | None = None,
    ) -> list[Intent]:
        """What issuing ``record`` writes besides the number: the invoice, the period's running
        totals (the 401 return reads them instead of scanning invoices), the buyer's input side, the
        outbox item (documents, delivery and events follow from it), and the replay records."""
        email = "pending" if record.buyer.get("email") and settings.email_buyer else "skipped"
        sms = "pending" if record.buyer.get("mobile") and settings.sms_buyer else "skipped"
        issued_at = record.issued_at
        # An exchanged invoice's message is its A0101; the buyer's side counts only once it confirms.
        xml = "a0101_xml" if record.exchange is not None else "xml"
        steps = {xml: "pending", "proof_pdf": "pending", "a4_pdf": "pending", "email": email, "sms": sms}
        intents: list[Intent] = [
            PutInvoice(ubn, record),
            AddToTotals(ubn, record.period, record.invoice_type, totals_changes(record)),
            *(issue_intents(record) if record.exchange is not None else purchase_intents(None, record)),
            PutOutboxItem(
                ubn, record.invoice_number, "issued", steps, issued_at.isoformat(), {"origin": origin} if origin else {}
            ),
        ]
        if idem_id:
            intents.append(record_intent(idem_id, record.invoice_number, fingerprint, issued_at))
        if record.order_id:
            intents.append(RecordOrderId(ubn, record.order_id, record.invoice_number, fingerprint))
        return intents


def ensure_ready_to_issue(profile: MerchantProfile) -> None:
    """What a merchant must have set before any invoice can be issued (the one check, for every way in)."""
    if not profile.address:
        # MIG F0401 requires the seller's address; an invoice without one could never be uploaded.
        raise RuleViolation(
            "SELLER_ADDRESS_MISSING",
            "Set your business address first (PATCH /v1/merchant address)",
            "請先設定營業地址（PATCH /v1/merchant 的 address）",
            "address",
        )
    if not profile.settings.qr_aes_key:
        raise RuleViolation(
            "QR_KEY_MISSING",
            "Set your QR-code AES key first (PATCH /v1/merchant settings.qr_aes_key): proofs need it",
            "請先設定 QR Code 加密金鑰（PATCH /v1/merchant 的 settings.qr_aes_key），證明聯需要它",
            "settings.qr_aes_key",
        )


def _plain(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text

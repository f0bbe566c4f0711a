"""Issuing allowances (折讓證明單, G0401) and cancelling them (作廢折讓, G0501).

Issuing commits one unit of work: the allowance, its tax-inclusive amount taken off every original
invoice (conditionally, so concurrent allowances can never overdraw one), the amounts added to the
running totals of the period the *allowance* is issued in (reference §7: rows 17/18/19 of the 401
return) and to the buyer's purchases, the outbox item and, when given, the Idempotency-Key.
Cancelling reverses all of it in one unit of work too.

Documents (the G0401/G0501 XML, the A4 PDF) and the buyer's e-mail go through the outbox, like an
invoice's: each commit also writes an outbox item (``<allowance number>#allowance_issued`` or
``#allowance_cancelled``; ``subject`` says ``allowance``), and ``services/outbox.py`` does the steps,
retried by the sweeper until done, the mail never twice. ``artifacts_pending`` is True while the
latest event's item is unfinished.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from chalicelib.domain.allowance import AllowanceAmounts, compute_allowance_amounts
from chalicelib.domain.allowance_record import (
    CANCEL_STEPS,
    CANCELLED_EVENT,
    ISSUE_STEPS,
    ISSUED_EVENT,
    MAX_ORIGINAL_INVOICES,
    VOID_STEPS,
    VOIDED_EVENT,
    AllowanceItemRecord,
    AllowanceRecord,
    AllowanceRequest,
    AllowanceVoidRequest,
    CancelRequest,
    OriginalInvoice,
)
from chalicelib.domain.allowance_rules import (
    allowable_moves,
    allowance_date,
    amounts_of,
    buyer_identity,
    default_prices_include_tax,
    ensure_can_void_allowance,
    ensure_item_exists,
    ensure_same_buyer,
    ensure_storable,
    ensure_within_invoice_remaining,
    purchase_changes,
    remaining,
    taken_per_invoice,
    totals_changes,
)
from chalicelib.domain.clock import Clock
from chalicelib.domain.errors import Conflict, DomainError, NotFound, RuleViolation
from chalicelib.domain.invoice_record import HistoryEntry, InvoiceRecord
from chalicelib.domain.merchant import MerchantProfile
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.domain.status import InvoiceStatus, ensure_allowance_allowed
from chalicelib.domain.working_days import WEEKDAYS, WorkingCalendar
from chalicelib.domain.writes import (
    AddToPurchases,
    AddToTotals,
    AdjustAllowable,
    AlreadyRecorded,
    CancelAllowance,
    Contended,
    Intent,
    PutAllowance,
    PutOutboxItem,
    RecordIdempotencyKey,
    ReduceAllowable,
    ReplaceAllowance,
    RequireUnfiled,
    RestoreAllowable,
    StateChanged,
)
from chalicelib.services.allowance_query import allowance_view
from chalicelib.services.exchange import ensure_storage_invoice
from chalicelib.services.idempotency import is_live, record_intent, request_hash, same_request
from chalicelib.services.invoice_building import difference
from chalicelib.services.ports import FiledPeriods, IdempotencyStore, InvoiceReader, MerchantStore, UnitOfWork

#: Concurrent transactions on the same invoice are cancelled with TransactionConflict; try again.
_CONFLICT_RETRIES = 5
#: A DynamoDB transaction holds at most 100 actions.
_MAX_INTENTS = 100


class AllowanceStore(Protocol):
    def record(self, ubn: str, number: str) -> AllowanceRecord | None: ...

    def next_sequence(self, ubn: str, period: str) -> int:
        """The next value of the period's counter behind generated allowance numbers (gaps are
        harmless: allowance numbers are the merchant's own, only uniqueness matters)."""


@dataclass(frozen=True)
class IssuedAllowance:
    record: AllowanceRecord
    replayed: bool

    def body(self) -> dict[str, Any]:
        return allowance_view(self.record).model_dump(mode="json")


@dataclass(frozen=True)
class _Prepared:
    request: AllowanceRequest
    originals: dict[str, InvoiceRecord]
    remaining: dict[str, int]
    amounts: AllowanceAmounts
    taken: dict[str, int]
    prices_include_tax: bool


def _history(at: datetime, event: str, actor: str, detail: Mapping[str, Any]) -> HistoryEntry:
    return HistoryEntry(at=at.isoformat(), event=event, actor=actor, detail=dict(detail))


def _not_found() -> NotFound:
    return NotFound("ALLOWANCE_NOT_FOUND", "No such allowance", "查無此折讓單", "allowance_number")


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _busy() -> Conflict:
    return Conflict(
        "ALLOWANCE_BUSY",
        "The invoices are being changed by another request; try again",
        "原發票正由其他請求處理中，請稍後再試",
    )


class AllowanceService:
    def __init__(
        self,
        *,
        invoices: InvoiceReader,
        allowances: AllowanceStore,
        merchants: MerchantStore,
        ledger: UnitOfWork,
        idempotency: IdempotencyStore,
        filed: FiledPeriods,
        clock: Clock,
        sleep: Callable[[float], None] = time.sleep,
        calendar: WorkingCalendar = WEEKDAYS,
    ) -> None:
        self._calendar = calendar  # a period closes on its filing deadline, moved off a day off
        self._invoices = invoices
        self._allowances = allowances
        self._merchants = merchants
        self._ledger = ledger
        self._idempotency = idempotency
        self._filed = filed
        self._clock = clock
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
        profile = self._merchants.profile(ubn)
        if profile is None:
            raise NotFound("MERCHANT_NOT_FOUND", "No such merchant", "查無此營業人")
        for attempt in range(_CONFLICT_RETRIES):
            prepared = self._prepare(ubn, request)
            now = self._clock.now()
            record = self._record(ubn, profile, prepared, now, actor)
            ensure_storable(record)
            try:
                self._ledger.commit(self._issue_intents(ubn, record, prepared, idem_id, fingerprint, now, actor))
            except AlreadyRecorded as refused:
                if isinstance(refused.intent, RecordIdempotencyKey) and idem_id:
                    # The same request with the same key committed first: answer with its allowance.
                    replay = self._replay(ubn, idem_id, fingerprint)
                    if replay is not None:
                        return replay
                elif isinstance(refused.intent, PutAllowance) and request.allowance_number is not None:
                    raise Conflict(
                        "ALLOWANCE_NUMBER_TAKEN",
                        f"Allowance number {record.allowance_number} is already used",
                        f"折讓單號碼 {record.allowance_number} 已被使用",
                        "allowance_number",
                    ) from None
                # Otherwise a merchant-chosen number took our generated one: take the next.
            except (StateChanged, Contended):
                # An invoice changed (cancelled, or another allowance took what remained), the period
                # was filed, or a concurrent transaction conflicted: prepare again, which reports
                # the real reason if there is one.
                pass
            else:
                return IssuedAllowance(record, replayed=False)
            self._sleep(0.05 * (attempt + 1))
        raise _busy()

    def _prepare(self, ubn: str, request: AllowanceRequest, given_back: Mapping[str, int] | None = None) -> _Prepared:
        """The originals and amounts of ``request``; ``given_back`` is what a voided allowance took
        from each invoice, which its re-issue may take again."""
        back = given_back or {}
        originals: dict[str, InvoiceRecord] = {}
        left: dict[str, int] = {}
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
                record = self._invoices.get(ubn, number)
                if record is None:
                    raise NotFound("INVOICE_NOT_FOUND", f"No such invoice {number}", f"查無此發票 {number}", field)
                ensure_allowance_allowed(InvoiceStatus(record.status), field)
                ensure_storage_invoice(record, field)
                originals[number] = record
                left[number] = remaining(record) + back.get(number, 0)
            ensure_item_exists(originals[number], item.original_sequence_number, index)
        ensure_same_buyer(list(originals.values()))
        include_tax = (
            request.prices_include_tax
            if request.prices_include_tax is not None
            else default_prices_include_tax(list(originals.values()))
        )
        amounts = compute_allowance_amounts(request.items, prices_include_tax=include_tax)
        if amounts.total_amount + amounts.tax_amount <= 0:
            raise RuleViolation(
                "ALLOWANCE_TOO_SMALL", "The allowance rounds to NT$0", "折讓金額四捨五入後為 0 元", "items"
            )
        taken = taken_per_invoice(amounts.lines)
        for number, amount in taken.items():
            total = originals[number].amounts.total_amount
            ensure_within_invoice_remaining(total - left[number], amount, total, number)
        return _Prepared(request, originals, left, amounts, taken, include_tax)

    def _record(
        self, ubn: str, profile: MerchantProfile, prepared: _Prepared, now: datetime, actor: str
    ) -> AllowanceRecord:
        request = prepared.request
        day = allowance_date(request.allowance_date, list(prepared.originals.values()), now, self._calendar)
        period = Period.from_date(day).code
        if period != _current_period(now) and self._filed.is_filed(ubn, period):
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
            seller={"ubn": ubn, "name": profile.name, "address": profile.address or ""},
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
            history=[_history(now, "issued", actor, {})],
            artifacts_pending=True,  # until the outbox item written with it is done
        )

    @staticmethod
    def _issue_intents(
        ubn: str,
        record: AllowanceRecord,
        prepared: _Prepared,
        idem_id: str | None,
        fingerprint: str,
        now: datetime,
        actor: str,
    ) -> list[Intent]:
        number = record.allowance_number
        intents: list[Intent] = [
            PutAllowance(ubn, record),
            # Same unit of work as the allowance: its documents and mail can never be forgotten.
            _outbox(ubn, number, ISSUED_EVENT, ISSUE_STEPS, now),
            AddToTotals(ubn, record.period, record.invoice_type, totals_changes(prepared.amounts, +1)),
            *_purchases(record, prepared.amounts, +1),
        ]
        for original, taken in prepared.taken.items():
            history = _history(now, "allowance", actor, {"allowance_number": number, "amount": taken})
            total = prepared.originals[original].amounts.total_amount
            intents.append(ReduceAllowable(ubn, original, taken, total, history))
        if record.period != _current_period(now):
            intents.append(RequireUnfiled(ubn, record.period))  # back-dated: no submission in between
        if idem_id:
            intents.append(record_intent(idem_id, number, fingerprint, now, kind="allowance"))
        return intents

    # --- cancel ----------------------------------------------------------------------------------

    def cancel(self, ubn: str, number: str, request: CancelRequest, *, actor: str) -> AllowanceRecord:
        for attempt in range(_CONFLICT_RETRIES):
            record = self.get(ubn, number)
            ensure_storage_allowance(record, "cancel")
            if record.status == "cancelled":
                raise Conflict(
                    "ALLOWANCE_ALREADY_CANCELLED", "This allowance is already cancelled", "此折讓單已作廢", "status"
                )
            now = self._clock.now()
            try:
                self._ledger.commit(self._cancel_intents(ubn, record, request, now, actor))
            except (StateChanged, AlreadyRecorded, Contended):
                pass  # cancelled concurrently (the next read says so) or a transaction conflict
            else:
                return self.get(ubn, number)
            self._sleep(0.05 * (attempt + 1))
        raise Conflict("ALLOWANCE_BUSY", "The allowance is being changed; try again", "折讓單正在處理中，請稍後再試")

    @staticmethod
    def _cancel_intents(
        ubn: str, record: AllowanceRecord, request: CancelRequest, now: datetime, actor: str
    ) -> list[Intent]:
        number = record.allowance_number
        amounts = amounts_of(record)
        # The remark is for the G0501 only; the outbox item keeps it for that step.
        fields = {"cancelled_at": now.isoformat(), "cancel_reason": request.reason, "artifacts_pending": True}
        intents: list[Intent] = [
            CancelAllowance(ubn, number, fields, _history(now, "cancelled", actor, {"reason": request.reason})),
            _outbox(ubn, number, CANCELLED_EVENT, CANCEL_STEPS, now, remark=request.remark),
            # Taken back out of the allowance's own period, where it was counted.
            AddToTotals(ubn, record.period, record.invoice_type, totals_changes(amounts, -1)),
            *_purchases(record, amounts, -1),
        ]
        for original in record.originals:  # what it took, exactly (a re-issue's amounts included)
            detail = {"allowance_number": number, "amount": original.amount}
            history = _history(now, "allowance_cancelled", actor, detail)
            intents.append(RestoreAllowable(ubn, original.invoice_number, original.amount, history))
        return intents

    # --- void and re-issue (註銷重開, G0701 + G0401) ----------------------------------------------------

    def void(
        self, ubn: str, number: str, request: AllowanceVoidRequest, *, actor: str, version: int | None = None
    ) -> AllowanceRecord:
        """Withdraw the allowance (G0701) and issue the corrected one under the same number and date
        (G0401), in one unit of work: what it took goes back to its invoices and the correction's
        amounts are taken, and the period totals and the buyer's purchases move by the difference.

        ``version``: the ``void_count`` a G0701 received as MIG XML was checked against (the number
        re-issued since then makes it spent)."""
        for attempt in range(_CONFLICT_RETRIES):
            record = self.get(ubn, number)
            ensure_storage_allowance(record, "void")
            if version is not None and record.void_count != version:
                raise _changed("allowance_number")
            now = self._clock.now()
            ensure_can_void_allowance(record, now)
            if self._filed.is_filed(ubn, record.period):
                raise RuleViolation(
                    "ALLOWANCE_PERIOD_FILED",
                    f"The return of period {record.period} is filed; the allowance can no longer be voided. "
                    "Cancel it and issue a new one dated today instead.",
                    f"{record.period} 期已申報營業稅，折讓單不可再註銷重開；請作廢後以今天為日期重新開立。",
                    "allowance_number",
                )
            given_back = given_back_of(record)
            replacement = AllowanceRequest.model_validate(
                {
                    **request.replacement.model_dump(mode="json"),
                    "allowance_number": number,
                    "allowance_date": record.allowance_date,
                }
            )
            try:
                prepared = self._prepare(ubn, replacement, given_back)
                reissued = self._reissued(record, prepared, request, now, actor)
            except DomainError as error:
                raise _in_replacement(error) from None
            self._ensure_same_parties(ubn, record, prepared)
            ensure_storable(reissued)
            intents = self._void_intents(ubn, record, reissued, prepared, now, actor)
            try:
                self._ledger.commit(intents)
            except (StateChanged, AlreadyRecorded, Contended):
                pass  # changed meanwhile (the next pass says how) or a transaction conflict
            else:
                return reissued
            self._sleep(0.05 * (attempt + 1))
        raise _busy()

    def _ensure_same_parties(self, ubn: str, record: AllowanceRecord, prepared: _Prepared) -> None:
        """A correction keeps the seller, the buyer and the invoice type: an allowance to someone else
        is a different allowance (cancel this one and issue that)."""
        first = next(iter(prepared.originals.values()))
        before = self._invoices.get(ubn, record.originals[0].invoice_number) if record.originals else None
        if first.invoice_type != record.invoice_type or (
            before is not None and buyer_identity(before) != buyer_identity(first)
        ):
            raise RuleViolation(
                "DIFFERENT_BUYERS",
                "The corrected allowance must reduce invoices of the same buyer and invoice type as the one it "
                "replaces; cancel it and issue a new allowance instead.",
                "註銷重開的折讓單須折讓同一買方、同一發票類別的發票；請改為作廢後重新開立。",
                "replacement.items",
            )

    def _reissued(
        self, record: AllowanceRecord, prepared: _Prepared, request: AllowanceVoidRequest, now: datetime, actor: str
    ) -> AllowanceRecord:
        """The corrected allowance: same number, date, period and first issue time; new lines."""
        new = self._record(record.seller["ubn"], _seller_profile(record), prepared, now, actor)
        voided = _history(
            now,
            "voided",
            actor,
            {
                k: v
                for k, v in {
                    "reason": request.reason,
                    "remark": request.remark,
                    # The version the G0701 withdraws: its amounts and what it took from each invoice.
                    "sales_amount": record.total_amount,
                    "tax_amount": record.tax_amount,
                    "original_invoices": [o.model_dump(mode="json") for o in record.originals],
                }.items()
                if v is not None
            },
        )
        return new.model_copy(
            update={
                "issued_at": record.issued_at,
                "seller": record.seller,
                "void_count": record.void_count + 1,
                "voided_at": now,
                "void_reason": request.reason,
                "void_remark": request.remark,
                "history": [*record.history, voided, _history(now, "reissued", actor, {})],
                "artifacts": record.artifacts,
                "delivery": record.delivery,
            }
        )

    @staticmethod
    def _void_intents(
        ubn: str,
        record: AllowanceRecord,
        reissued: AllowanceRecord,
        prepared: _Prepared,
        now: datetime,
        actor: str,
    ) -> list[Intent]:
        number = record.allowance_number
        old, new = amounts_of(record), prepared.amounts
        intents: list[Intent] = [
            ReplaceAllowance(ubn, reissued, record.void_count),
            # A second void of the same number replaces the first one's finished item; the
            # allowance's own condition guarantees it is the only change in flight.
            _outbox(
                ubn,
                number,
                VOIDED_EVENT,
                VOID_STEPS,
                now,
                replace=True,
                previous_originals=[o.invoice_number for o in record.originals],
            ),
            # The voided period is the allowance's own (its date is kept), so the moves net out here.
            RequireUnfiled(ubn, record.period),
        ]
        changes = difference(totals_changes(new, +1), totals_changes(old, +1))
        if changes:
            intents.append(AddToTotals(ubn, record.period, record.invoice_type, changes))
        before, after = purchase_changes(record, old, +1), purchase_changes(reissued, new, +1)
        if before is not None and after is not None:
            moved = difference(after[1], before[1])
            if moved:
                intents.append(AddToPurchases(after[0], record.period, moved))
        totals = {n: r.amounts.total_amount for n, r in prepared.originals.items()}
        for invoice, restore, take in allowable_moves(given_back_of(record), prepared.taken):
            back = _history(now, "allowance_voided", actor, {"allowance_number": number, "amount": restore})
            taken = _history(now, "allowance", actor, {"allowance_number": number, "amount": take})
            if restore and take:
                intents.append(AdjustAllowable(ubn, invoice, restore, take, (back, taken)))
            elif restore:
                intents.append(RestoreAllowable(ubn, invoice, restore, back))
            else:
                intents.append(ReduceAllowable(ubn, invoice, take, totals[invoice], taken))
        if len(intents) > _MAX_INTENTS:
            raise RuleViolation(
                "TOO_MANY_ORIGINAL_INVOICES",
                "The allowance and its correction reduce too many invoices together to change in one step; "
                "cancel it and issue a new one instead",
                "原折讓單與更正後的折讓單合計折讓的發票過多，無法一次註銷重開；請改為作廢後重新開立",
                "replacement.items",
            )
        return intents

    # --- reading ---------------------------------------------------------------------------------

    def get(self, ubn: str, number: str) -> AllowanceRecord:
        record = self._allowances.record(ubn, number)
        if record is None:
            raise _not_found()
        return record

    def _replay(self, ubn: str, idem_id: str, fingerprint: str) -> IssuedAllowance | None:
        item = self._idempotency.get(idem_id)
        if item is None or not is_live(item, self._clock.now()):
            return None
        if not same_request(item, fingerprint):
            raise RuleViolation(
                "IDEMPOTENCY_KEY_REUSED",
                "This Idempotency-Key was already used for a different allowance; use a new one",
                "此冪等鍵已用於另一張內容不同的折讓單，請使用新的值",
                "Idempotency-Key",
            )
        return IssuedAllowance(self.get(ubn, str(item["allowance_number"])), replayed=True)


def ensure_storage_allowance(record: AllowanceRecord, action: str) -> None:
    """An allowance by exchange (交換, B0101) is cancelled only by its issuer's B0201 that the other
    party confirms (B0202), and never voided (as an exchanged invoice is not, reference §1.6)."""
    if record.exchange is None:
        return
    from chalicelib.domain.exchange_allowance import allowance_exchange_id

    ident = allowance_exchange_id(str(record.seller["ubn"]), record.allowance_number)
    raise Conflict(
        "EXCHANGE_ALLOWANCE",
        f"This allowance was issued by exchange (B0101): it cannot be {action}ed here; its issuer cancels it with "
        f"POST /v1/exchange/allowances/{ident}/cancel (B0201), which the other party confirms.",
        f"此折讓證明單以交換方式開立（B0101），不可於此{'作廢' if action == 'cancel' else '註銷'}；"
        f"請由開立方以 POST /v1/exchange/allowances/{ident}/cancel（B0201）作廢，並待對方確認。",
        "allowance_number",
    )


def _in_replacement(error: DomainError) -> DomainError:
    """The rules of the corrected allowance name its fields (``items[0]``); the request nests them."""
    if error.field and error.field.startswith(("items", "remark", "prices_include_tax")):
        clone = type(error)(error.code, error.message, error.message_zh, f"replacement.{error.field}")
        clone.mof_code = error.mof_code
        return clone
    return error


def _changed(field: str) -> Conflict:
    return Conflict(
        "ALLOWANCE_CHANGED",
        "The allowance changed since the void was received; send the void again.",
        "收到註銷後折讓單已被變更，請重新傳送註銷。",
        field,
    )


def given_back_of(record: AllowanceRecord) -> dict[str, int]:
    """What an allowance in force took from each of its invoices (what a void or cancel gives back)."""
    return {o.invoice_number: o.amount for o in record.originals}


def _seller_profile(record: AllowanceRecord) -> MerchantProfile:
    """The seller as the allowance names it: a re-issue keeps it as first issued."""
    return MerchantProfile.of(
        {"ubn": record.seller["ubn"], "name": record.seller["name"], "address": record.seller.get("address")}
    )


def _current_period(now: datetime) -> str:
    return Period.from_date(now.astimezone(TAIWAN_TZ).date()).code


def _outbox(
    ubn: str, number: str, event: str, steps: tuple[str, ...], now: datetime, *, replace: bool = False, **extra: Any
) -> PutOutboxItem:
    """The outbox item of an allowance event (issue, cancel: each happens once, which the
    allowance's own condition guarantees, so the item cannot exist yet; a void may happen again and
    ``replace``s the last one's item)."""
    fields = {"subject": "allowance", **extra}
    steps_pending = dict.fromkeys(steps, "pending")
    return PutOutboxItem(ubn, number, event, steps_pending, now.isoformat(), fields, replace=replace)


def _purchases(record: AllowanceRecord, amounts: AllowanceAmounts, sign: int) -> list[Intent]:
    found = purchase_changes(record, amounts, sign)
    return [] if found is None else [AddToPurchases(found[0], record.period, found[1])]

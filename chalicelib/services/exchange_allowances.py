"""Allowances (折讓證明單) by B2B exchange (交換): issued by either party of an exchanged invoice
(B0101), confirmed by the other (B0102), cancelled by the issuer once the other confirms (B0201 →
B0202); by the JSON API, the console and ``POST /v1/mig/{type}`` alike.

Every step is one transaction, as the invoice's are (services/exchange.py): the allowance's
exchange state (conditional on the state it was decided on), history on the allowance and on the
invoice, what the step does to the amounts, both parties' to-do entries and the counterpart's
event. The amounts (domain/exchange_allowance.py): issuing reserves the allowance's amount on the
invoice, conditionally on what remains and on the invoice's confirmation still standing; the period
totals (the seller's allowances, the buyer's purchase returns) move at the confirmation (B0102) and
back at a confirmed cancel (B0202), which also gives back the reservation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain import events as types
from chalicelib.domain.allowance import compute_allowance_amounts
from chalicelib.domain.allowance_record import AllowanceItemRecord, AllowanceRecord, OriginalInvoice
from chalicelib.domain.allowance_rules import (
    allowance_date,
    amounts_of,
    default_prices_include_tax,
    ensure_item_exists,
    ensure_storable,
    ensure_within_invoice_remaining,
    purchase_changes,
    remaining,
    totals_changes,
)
from chalicelib.domain.clock import Clock
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound, RuleViolation
from chalicelib.domain.events import outbox_event_name
from chalicelib.domain.exchange import (
    ALLOWANCE_FLOW,
    ExchangeAction,
    ExchangeRecord,
    ExchangeTask,
    Party,
    actions_for,
    answer_deadline,
    decide,
    exchange_id,
    is_open,
    parse_exchange_id,
)
from chalicelib.domain.exchange_allowance import (
    PENDING,
    ExchangeAllowanceRequest,
    allowance_exchange_id,
    ensure_invoice_allows,
    ensure_may_issue,
    ensure_whole_dollars,
    parse_allowance_exchange_id,
)
from chalicelib.domain.invoice_record import HistoryEntry, InvoiceRecord
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.domain.validation import parse_model
from chalicelib.domain.working_days import WEEKDAYS, WorkingCalendar
from chalicelib.domain.writes import (
    AddToPurchases,
    AddToTotals,
    AlreadyRecorded,
    AppendHistory,
    ChangeExchangeAllowance,
    Contended,
    DropExchangeTask,
    Intent,
    PutAllowance,
    PutExchangeTask,
    PutOutboxItem,
    RequireUnfiled,
    ReserveAllowable,
    RestoreAllowable,
    StateChanged,
)
from chalicelib.services.exchange import Answer, party_of
from chalicelib.services.ports import FiledPeriods, InvoiceReader, UnitOfWork

#: The event each step tells the counterpart of the party that took it.
STEP_EVENTS: Mapping[ExchangeAction, str] = {
    ExchangeAction.CONFIRM: types.EXCHANGE_ALLOWANCE_CONFIRMED,
    ExchangeAction.CANCEL: types.EXCHANGE_ALLOWANCE_CANCEL_REQUESTED,
    ExchangeAction.CONFIRM_CANCEL: types.EXCHANGE_ALLOWANCE_CANCELLED,
}
_ATTEMPTS = 5


class ExchangeAllowanceStore(Protocol):
    def record(self, ubn: str, number: str) -> AllowanceRecord | None: ...

    def next_sequence(self, ubn: str, period: str) -> int:
        """The next value of the period's counter behind generated allowance numbers."""


@dataclass(frozen=True)
class ExchangeAllowance:
    """One exchanged allowance as one of its parties sees it."""

    record: AllowanceRecord
    party: Party
    now: datetime

    @property
    def seller_ubn(self) -> str:
        return str(self.record.seller["ubn"])

    @property
    def id(self) -> str:
        return allowance_exchange_id(self.seller_ubn, self.record.allowance_number)

    @property
    def invoice_number(self) -> str:
        return self.record.originals[0].invoice_number

    @property
    def invoice_id(self) -> str:
        """The exchange id of the invoice it reduces."""
        return exchange_id(self.seller_ubn, self.invoice_number)

    @property
    def exchange(self) -> ExchangeRecord:
        if self.record.exchange is None:  # only an exchanged allowance is made one
            raise ValueError("not an exchanged allowance")
        return self.record.exchange

    @property
    def issuer(self) -> Party:
        return self.exchange.issuer

    @property
    def actions(self) -> list[ExchangeAction]:
        return actions_for(ALLOWANCE_FLOW, self.exchange.state, self.party, self.issuer)

    @property
    def counterpart(self) -> dict[str, Any]:
        theirs = self.record.buyer if self.party is Party.SELLER else self.record.seller
        return {"ubn": theirs.get("ubn"), "name": theirs.get("name")}

    @property
    def overdue(self) -> bool:
        deadline = self.exchange.deadline
        return deadline is not None and self.now > datetime.fromisoformat(deadline)

    @property
    def gross(self) -> int:
        """What the buyer gets back, tax included (what the invoice's allowable is reduced by)."""
        return self.record.total_amount + self.record.tax_amount


def not_found() -> NotFound:
    # The same answer for a malformed id, a missing allowance and one the caller is no party to.
    return NotFound("EXCHANGE_ALLOWANCE_NOT_FOUND", "No such exchanged allowance", "查無此交換折讓證明單")


def _invoice_not_found() -> NotFound:
    return NotFound("EXCHANGE_NOT_FOUND", "No such exchange", "查無此交換發票", "exchange_id")


def allowance_party(record: AllowanceRecord, ubn: str) -> Party | None:
    if record.exchange is None:
        return None
    if str(record.seller["ubn"]) == ubn:
        return Party.SELLER
    if record.buyer.get("ubn") == ubn:
        return Party.BUYER
    return None


def task_of(record: AllowanceRecord, role: Party, at: datetime) -> ExchangeTask:
    """A party's to-do entry of an open exchanged allowance (``record`` as it is after the step)."""
    exchange = record.exchange
    if exchange is None or exchange.waiting_on is None or exchange.deadline is None:
        raise ValueError("only an open exchange has to-do entries")
    original = record.originals[0]
    return ExchangeTask(
        id=allowance_exchange_id(str(record.seller["ubn"]), record.allowance_number),
        kind=ALLOWANCE_FLOW.kind,
        role=role,
        state=exchange.state,
        waiting_on=exchange.waiting_on,
        deadline=exchange.deadline,
        seller_ubn=str(record.seller["ubn"]),
        seller_name=str(record.seller.get("name") or ""),
        buyer_ubn=str(record.buyer["ubn"]),
        buyer_name=str(record.buyer.get("name") or ""),
        invoice_number=original.invoice_number,
        invoice_date=original.invoice_date.isoformat(),
        total_amount=record.total_amount + record.tax_amount,
        updated_at=at.isoformat(),
        allowance_number=record.allowance_number,
        issuer=exchange.issuer,
    )


def event_payload(record: AllowanceRecord, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What an ``exchange.allowance_*`` event carries: the allowance as its to-do entry summarises it."""
    exchange = record.exchange
    seller = str(record.seller["ubn"])
    ident = allowance_exchange_id(seller, record.allowance_number)
    original = record.originals[0]
    return {
        "id": ident,
        "kind": ALLOWANCE_FLOW.kind,
        "allowance_number": record.allowance_number,
        "allowance_date": record.allowance_date.isoformat(),
        "issuer": exchange.issuer.value if exchange else None,
        "invoice_number": original.invoice_number,
        "invoice_exchange_id": exchange_id(seller, original.invoice_number),
        "seller": {"ubn": record.seller["ubn"], "name": record.seller.get("name")},
        "buyer": {"ubn": record.buyer.get("ubn"), "name": record.buyer.get("name")},
        "state": exchange.state.value if exchange else None,
        "deadline": exchange.deadline if exchange else None,
        "sales_amount": record.total_amount,
        "tax_amount": record.tax_amount,
        "total_amount": record.total_amount + record.tax_amount,
        "links": {"self": f"/v1/exchange/allowances/{ident}"},
        **dict(extra or {}),
    }


def _event_item(
    to: str, record: AllowanceRecord, event_type: str, at: datetime, extra: Mapping[str, Any] | None = None
) -> PutOutboxItem:
    ident = allowance_exchange_id(str(record.seller["ubn"]), record.allowance_number)
    return PutOutboxItem(
        to,
        ident,
        outbox_event_name(event_type),
        {"publish": "pending"},
        at.isoformat(),
        {"payload": event_payload(record, extra)},
    )


def _history(at: datetime, event: str, actor: str, detail: Mapping[str, Any]) -> HistoryEntry:
    return HistoryEntry(at=at.isoformat(), event=event, actor=actor, detail=dict(detail))


class ExchangeAllowanceService:
    def __init__(
        self,
        *,
        invoices: InvoiceReader,
        allowances: ExchangeAllowanceStore,
        ledger: UnitOfWork,
        filed: FiledPeriods,
        clock: Clock,
        calendar: WorkingCalendar = WEEKDAYS,
    ) -> None:
        self._invoices = invoices
        self._allowances = allowances
        self._ledger = ledger
        self._filed = filed
        self._clock = clock
        self._calendar = calendar  # a period closes on its filing deadline, moved off a day off

    # --- reading ------------------------------------------------------------------------------------

    def get(self, ubn: str, ident: str) -> ExchangeAllowance:
        record, party = self._read(ubn, ident)
        return ExchangeAllowance(record, party, self._now())

    def of_invoice(self, ubn: str, invoice_ident: str) -> list[ExchangeAllowance]:
        """The exchanged allowances on an exchanged invoice the caller is a party to, oldest first
        (the invoice's history names each)."""
        invoice, _ = self._invoice(ubn, invoice_ident)
        seller = str(invoice.seller["ubn"])
        numbers = [
            str(entry.detail["allowance_number"])
            for entry in invoice.history
            if entry.event == "exchange_allowance" and entry.detail.get("allowance_number")
        ]
        found = []
        for number in dict.fromkeys(numbers):
            record = self._allowances.record(seller, number)
            party = allowance_party(record, ubn) if record is not None else None
            if record is not None and party is not None:
                found.append(ExchangeAllowance(record, party, self._now()))
        return found

    def invoice(self, ubn: str, invoice_ident: str) -> InvoiceRecord:
        """The exchanged invoice ``invoice_ident`` if ``ubn`` is a party to it (404 otherwise)."""
        return self._invoice(ubn, invoice_ident)[0]

    def message(self, ubn: str, ident: str, message_type: str) -> tuple[bytes, str]:
        """The XML of one message of an exchanged allowance (either party may read every one)."""
        from chalicelib.documents.mig import build_xml
        from chalicelib.services.exchange_allowance_documents import exchange_allowance_message

        record, _ = self._read(ubn, ident)
        return (
            build_xml(exchange_allowance_message(record, message_type)),
            f"{record.allowance_number}-{message_type}.xml",
        )

    def _read(self, ubn: str, ident: str) -> tuple[AllowanceRecord, Party]:
        key = parse_allowance_exchange_id(ident)
        record = self._allowances.record(*key) if key is not None else None
        party = allowance_party(record, ubn) if record is not None else None
        if record is None or party is None:
            raise not_found()
        return record, party

    def _invoice(self, ubn: str, ident: str) -> tuple[InvoiceRecord, Party]:
        key = parse_exchange_id(ident)
        record = self._invoices.get(*key) if key is not None else None
        party = party_of(record, ubn) if record is not None else None
        if record is None or party is None:
            raise _invoice_not_found()
        return record, party

    # --- issuing (B0101) ----------------------------------------------------------------------------

    def issue(self, ubn: str, invoice_ident: str, body: Mapping[str, Any], *, actor: str) -> ExchangeAllowance:
        """``ubn``, the seller or the buyer of exchanged invoice ``invoice_ident``, issues an allowance
        on it; the other party is to confirm it."""
        request = parse_model(ExchangeAllowanceRequest, body)
        for _ in range(_ATTEMPTS):
            invoice, party = self._invoice(ubn, invoice_ident)
            ensure_may_issue(party)
            ensure_invoice_allows(invoice)
            now = self._now()
            record, taken = self._record(invoice, party, request, now, actor)
            try:
                self._ledger.commit(self._issue_intents(invoice, record, taken, now, actor))
            except AlreadyRecorded as refused:
                if isinstance(refused.intent, PutAllowance) and request.allowance_number is not None:
                    raise Conflict(
                        "ALLOWANCE_NUMBER_TAKEN",
                        f"Allowance number {record.allowance_number} is already used on this seller's allowances",
                        f"折讓證明單號碼 {record.allowance_number} 已被使用",
                        "allowance_number",
                    ) from None
                continue  # a generated number met a merchant's own: take the next
            except (StateChanged, Contended):
                continue  # the invoice changed (a cancel asked for, another allowance took what remained)
            return ExchangeAllowance(record, party, now)
        raise _busy()

    def _record(
        self, invoice: InvoiceRecord, party: Party, request: ExchangeAllowanceRequest, now: datetime, actor: str
    ) -> tuple[AllowanceRecord, int]:
        number = invoice.invoice_number
        items = [line.on(number) for line in request.items]
        for index, item in enumerate(items):
            ensure_item_exists(invoice, item.original_sequence_number, index)
        include_tax = (
            request.prices_include_tax
            if request.prices_include_tax is not None
            else default_prices_include_tax([invoice])
        )
        amounts = compute_allowance_amounts(items, prices_include_tax=include_tax)
        ensure_whole_dollars(amounts.lines)
        taken = amounts.total_amount + amounts.tax_amount
        if taken <= 0:
            raise RuleViolation(
                "ALLOWANCE_TOO_SMALL", "The allowance rounds to NT$0", "折讓金額四捨五入後為 0 元", "items"
            )
        total = invoice.amounts.total_amount
        # What remains counts the pending allowances too: each reserved its amount when issued.
        ensure_within_invoice_remaining(total - remaining(invoice), taken, total, number)
        day = allowance_date(request.allowance_date, [invoice], now, self._calendar)
        period = Period.from_date(day).code
        seller = str(invoice.seller["ubn"])
        if period != _current_period(now) and self._filed.is_filed(seller, period):
            raise RuleViolation(
                "ALLOWANCE_PERIOD_FILED",
                f"The return of period {period} is filed; date the allowance today.",
                f"{period} 期已申報營業稅，請以今天為折讓日期。",
                "allowance_date",
            )
        # Numbered in the seller's partition, where it is kept whoever issued it (BA: the buyer's).
        prefix = "AL" if party is Party.SELLER else "BA"
        allowance_number = (
            request.allowance_number or f"{prefix}{period}{self._allowances.next_sequence(seller, period):08d}"
        )
        lines = [
            AllowanceItemRecord(
                sequence=index,
                original_invoice_number=number,
                original_invoice_date=invoice.invoice_date,
                original_sequence_number=item.original_sequence_number,
                description=item.description,
                quantity=_plain(line.quantity),
                unit=item.unit,
                unit_price=_plain(line.unit_price),
                amount=_plain(line.amount),
                tax=line.tax,
                tax_type=str(line.tax_type.value),
            )
            for index, (item, line) in enumerate(zip(items, amounts.lines, strict=True), start=1)
        ]
        exchange = ExchangeRecord(
            state=ALLOWANCE_FLOW.first_state,
            flow=ALLOWANCE_FLOW.kind,
            issuer=party,
            deadline=answer_deadline(now).isoformat(),
            updated_at=now.isoformat(),
        )
        record = AllowanceRecord(
            allowance_number=allowance_number,
            allowance_date=day,
            period=period,
            invoice_type=invoice.invoice_type,
            issued_at=now,
            seller={k: invoice.seller.get(k) for k in ("ubn", "name", "address")},
            buyer=invoice.buyer,
            items=lines,
            tax_amount=amounts.tax_amount,
            total_amount=amounts.total_amount,
            originals=[OriginalInvoice(invoice_number=number, invoice_date=invoice.invoice_date, amount=taken)],
            prices_include_tax=include_tax,
            remark=request.remark,
            status=PENDING,
            history=[_history(now, "issued", actor, {"by": party.value, "message": ALLOWANCE_FLOW.issue_message})],
            exchange=exchange,
        )
        ensure_storable(record)
        return record, taken

    @staticmethod
    def _issue_intents(
        invoice: InvoiceRecord, record: AllowanceRecord, taken: int, now: datetime, actor: str
    ) -> list[Intent]:
        seller, buyer = str(invoice.seller["ubn"]), str(invoice.buyer["ubn"])
        exchange = record.exchange
        assert exchange is not None  # noqa: S101 - _record made it an exchanged allowance
        detail = {
            "allowance_number": record.allowance_number,
            "amount": taken,
            "by": exchange.issuer.value,
            "message": ALLOWANCE_FLOW.issue_message,
        }
        counterpart = buyer if exchange.issuer is Party.SELLER else seller
        return [
            PutAllowance(seller, record),
            ReserveAllowable(
                seller,
                invoice.invoice_number,
                taken,
                invoice.amounts.total_amount,
                _history(now, "exchange_allowance", actor, detail),
            ),
            PutExchangeTask(seller, task_of(record, Party.SELLER, now)),
            PutExchangeTask(buyer, task_of(record, Party.BUYER, now)),
            _event_item(counterpart, record, types.EXCHANGE_ALLOWANCE_RECEIVED, now, {"message": "B0101"}),
        ]

    # --- answering (B0102, B0201, B0202) -------------------------------------------------------------

    def take(self, ubn: str, ident: str, action: ExchangeAction, answer: Answer, *, actor: str) -> ExchangeAllowance:
        """``ubn`` takes step ``action`` on exchanged allowance ``ident``: decided on the state read,
        committed only if it is still that state."""
        for _ in range(_ATTEMPTS):
            record, party = self._read(ubn, ident)
            now = self._now()
            intents, after = self._prepare(record, party, action, answer, now, actor)
            try:
                self._ledger.commit(intents)
            except (StateChanged, Contended):
                continue  # read again: the next decision names what changed
            return ExchangeAllowance(after, party, now)
        raise _busy()

    def _prepare(
        self, record: AllowanceRecord, party: Party, action: ExchangeAction, answer: Answer, now: datetime, actor: str
    ) -> tuple[list[Intent], AllowanceRecord]:
        exchange = record.exchange
        if exchange is None:
            raise not_found()
        step = decide(ALLOWANCE_FLOW, exchange.state, action, party, exchange.issuer)
        if action is ExchangeAction.CANCEL and not answer.reason:
            raise InvalidInput(
                "MISSING_FIELD",
                "Give the reason of the cancel (at most 20 characters).",
                "請填寫作廢原因（最多 20 字）。",
                "reason",
            )
        seller, buyer = str(record.seller["ubn"]), str(record.buyer["ubn"])
        if (
            action is ExchangeAction.CONFIRM
            and record.period != _current_period(now)
            and self._filed.is_filed(seller, record.period)
        ):
            raise RuleViolation(
                "ALLOWANCE_PERIOD_FILED",
                f"The allowance is dated in period {record.period}, whose return is filed: it can no longer count. "
                "Its issuer cancels it (B0201) and issues a new one dated today.",
                f"此折讓證明單日期屬 {record.period} 期，該期已申報，無法再列入；"
                "請開立方作廢（B0201）後以今天日期重新開立。",
                "state",
            )
        number = record.allowance_number
        at = (answer.at or now).astimezone(TAIWAN_TZ)
        fields = {
            "at": at.isoformat(),
            "recorded_at": now.isoformat(),
            "by": party.value,
            "reason": answer.reason,
            "remark": answer.remark,
        }
        entry = {name: value for name, value in fields.items() if value is not None}
        target = step.target
        after_exchange = exchange.after(step, entry, now)
        detail = {"by": party.value, "message": step.message}
        detail |= {k: v for k, v in entry.items() if k in ("reason", "remark")}
        history = _history(now, f"exchange_{target.value}", actor, detail)
        changes: dict[str, Any] = {}
        if action is ExchangeAction.CONFIRM:
            changes = {"status": "issued"}
        elif action is ExchangeAction.CONFIRM_CANCEL:
            asked = exchange.messages.get(ALLOWANCE_FLOW.messages[ExchangeAction.CANCEL], {})
            changes = {"status": "cancelled", "cancelled_at": now.isoformat(), "cancel_reason": asked.get("reason")}
        after = record.model_copy(
            update={
                "exchange": after_exchange,
                "history": [*record.history, history],
                **{k: (now if k == "cancelled_at" else v) for k, v in changes.items()},
            }
        )
        intents: list[Intent] = [
            ChangeExchangeAllowance(seller, number, exchange.state.value, after_exchange, history, changes)
        ]
        intents += self._effects(record, exchange, action, party, now, actor)
        ident = allowance_exchange_id(seller, number)
        if is_open(target):
            intents += [PutExchangeTask(seller, task_of(after, Party.SELLER, now))]
            intents += [PutExchangeTask(buyer, task_of(after, Party.BUYER, now))]
        else:
            intents += [DropExchangeTask(seller, ident), DropExchangeTask(buyer, ident)]
        counterpart = buyer if party is Party.SELLER else seller
        said = {k: v for k, v in entry.items() if k in ("reason", "remark")}
        intents.append(_event_item(counterpart, after, STEP_EVENTS[action], now, {"message": step.message, **said}))
        return intents, after

    def _effects(
        self,
        record: AllowanceRecord,
        exchange: ExchangeRecord,
        action: ExchangeAction,
        party: Party,
        now: datetime,
        actor: str,
    ) -> list[Intent]:
        """What a step does to the amounts, with its history entry on the invoice it reduces (one
        action per item: the invoice's own update carries it where there is one)."""
        seller = str(record.seller["ubn"])
        original = record.originals[0]
        message = ALLOWANCE_FLOW.messages[action]
        detail = {"allowance_number": record.allowance_number, "by": party.value, "message": message}
        amounts = amounts_of(record)
        if action is ExchangeAction.CONFIRM:
            entry = _history(now, "exchange_allowance_confirmed", actor, detail)
            intents: list[Intent] = [
                AppendHistory(seller, original.invoice_number, entry),
                AddToTotals(seller, record.period, record.invoice_type, totals_changes(amounts, +1)),
                *_purchases(record, +1),
            ]
            if record.period != _current_period(now):
                # Confirmed in a later period: it counts in its own, which must still be open.
                intents.append(RequireUnfiled(seller, record.period))
            return intents
        if action is ExchangeAction.CANCEL:
            entry = _history(now, "exchange_allowance_cancel_requested", actor, detail)
            return [AppendHistory(seller, original.invoice_number, entry)]
        # CONFIRM_CANCEL: the reservation back, and the totals back if it was ever counted.
        entry = _history(now, "exchange_allowance_cancelled", actor, {**detail, "amount": original.amount})
        intents = [RestoreAllowable(seller, original.invoice_number, original.amount, entry)]
        if exchange.confirmed:
            # Taken back out of the allowance's own period, where it was counted (as a G0501).
            intents += [
                AddToTotals(seller, record.period, record.invoice_type, totals_changes(amounts, -1)),
                *_purchases(record, -1),
            ]
        return intents

    # --- helpers ------------------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self._clock.now().astimezone(TAIWAN_TZ)


def _purchases(record: AllowanceRecord, sign: int) -> list[Intent]:
    found = purchase_changes(record, amounts_of(record), sign)
    return [] if found is None else [AddToPurchases(found[0], record.period, found[1])]


def _current_period(now: datetime) -> str:
    return Period.from_date(now.astimezone(TAIWAN_TZ).date()).code


def _plain(value: Any) -> str:
    return format(value.normalize(), "f")


def _busy() -> Conflict:
    return Conflict(
        "EXCHANGE_ALLOWANCE_BUSY",
        "The invoice or allowance changed while this request ran; read it again and retry.",
        "處理期間發票或折讓證明單已被變更，請重新讀取後再試。",
        "state",
    )

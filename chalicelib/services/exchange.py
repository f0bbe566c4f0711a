"""B2B exchange (交換) of invoices between two merchants of the platform: the to-do list (待辦事項),
one exchange as either party sees it, its MIG messages, and the answers (A0102, A0301, A0302,
A0201, A0202), by the JSON API, the console and ``POST /v1/mig/{type}`` alike.

Each answer is one transaction: the invoice's exchange state (conditional on the state it was
decided on, domain/exchange.py), its history entry, what the answer does to the period totals,
both parties' to-do entries, and the counterpart's event (webhook and notice). The totals follow
one rule: a rejected invoice counts on neither side (the seller's sales drop it at the A0301), the
buyer's input side counts only what it confirmed (A0102), and a confirmed cancel (A0202) removes
the invoice from both. A cancel asked for (A0201) changes nothing until the buyer confirms it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain import events as types
from chalicelib.domain.clock import Clock
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound, RuleViolation
from chalicelib.domain.events import outbox_event_name
from chalicelib.domain.exchange import (
    INVOICE_FLOW,
    ExchangeAction,
    ExchangeRecord,
    ExchangeState,
    ExchangeTask,
    Party,
    actions_for,
    answer_deadline,
    decide,
    exchange_id,
    is_open,
    parse_exchange_id,
)
from chalicelib.domain.invoice_record import HistoryEntry, InvoiceRecord
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.domain.status import InvoiceStatus, ensure_can_cancel
from chalicelib.domain.working_days import WEEKDAYS, WorkingCalendar
from chalicelib.domain.writes import (
    AddToTotals,
    ChangeExchange,
    Contended,
    DropExchangeTask,
    Intent,
    PutExchangeTask,
    PutOutboxItem,
    RequireUnfiled,
    StateChanged,
)
from chalicelib.services.filed_periods import ensure_not_filed
from chalicelib.services.invoice_building import negated, purchase_intents, totals_changes
from chalicelib.services.ports import FiledPeriods, InvoiceReader, UnitOfWork

#: The event each step tells the counterpart; issuing tells the buyer ``exchange.received``.
STEP_EVENTS: Mapping[ExchangeAction, str] = {
    ExchangeAction.CONFIRM: types.EXCHANGE_CONFIRMED,
    ExchangeAction.REJECT: types.EXCHANGE_REJECTED,
    ExchangeAction.CONFIRM_REJECT: types.EXCHANGE_REJECTION_CONFIRMED,
    ExchangeAction.CANCEL: types.EXCHANGE_CANCEL_REQUESTED,
    ExchangeAction.CONFIRM_CANCEL: types.EXCHANGE_CANCELLED,
}
#: The outbox item that renders the seller's PDFs again when a step changes what they print.
REPRINT_EVENT = "exchange-reprint"
_ATTEMPTS = 3


class ExchangeTasks(Protocol):
    def open_tasks(self, ubn: str) -> list[ExchangeTask]:
        """The merchant's to-do entries: every open exchange it is a party to."""


@dataclass(frozen=True)
class Answer:
    """What an answer carries besides who gives it. ``at``: the message's own date and time (an
    ERP's XML states it); the platform's clock when absent."""

    reason: str | None = None
    remark: str | None = None
    return_tax_document_number: str | None = None
    buyer_remark: str | None = None
    bonded_area_confirm: str | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class Exchange:
    """One exchanged invoice as one of its parties sees it."""

    record: InvoiceRecord
    party: Party
    now: datetime

    @property
    def id(self) -> str:
        return exchange_id(str(self.record.seller["ubn"]), self.record.invoice_number)

    @property
    def exchange(self) -> ExchangeRecord:
        if self.record.exchange is None:  # an Exchange is only made of an exchanged invoice
            raise ValueError("not an exchanged invoice")
        return self.record.exchange

    @property
    def actions(self) -> list[ExchangeAction]:
        return actions_for(INVOICE_FLOW, self.exchange.state, self.party)

    @property
    def counterpart(self) -> dict[str, Any]:
        other = self.record.buyer if self.party is Party.SELLER else self.record.seller
        return {"ubn": other.get("ubn"), "name": other.get("name")}

    @property
    def overdue(self) -> bool:
        deadline = self.exchange.deadline
        return deadline is not None and self.now > datetime.fromisoformat(deadline)


def not_found() -> NotFound:
    # The same answer for a malformed id, a missing invoice and one the caller is no party to.
    return NotFound("EXCHANGE_NOT_FOUND", "No such exchange", "查無此交換發票")


def ensure_storage_invoice(record: InvoiceRecord, field: str) -> None:
    """The storage (存證) changes (F0501 cancel, F0701 void, G0401 allowance) are not for an
    exchanged invoice: it is cancelled by A0201 with the buyer's A0202, never voided (reference
    §1.6), and its allowances are the exchange's own B0101 (services/exchange_allowances.py)."""
    if record.exchange is None:
        return
    ident = exchange_id(str(record.seller["ubn"]), record.invoice_number)
    raise Conflict(
        "EXCHANGE_INVOICE",
        f"This invoice was issued for exchange: cancel it with POST /v1/exchange/{ident}/cancel (A0201), which "
        f"its buyer confirms; it cannot be voided; allow on it by exchange with POST /v1/exchange/{ident}/allowances "
        "(B0101), which the counterpart confirms.",
        f"此發票以交換方式開立：請以 POST /v1/exchange/{ident}/cancel（A0201）作廢，並待買方確認；交換發票不可註銷；"
        f"折讓請以 POST /v1/exchange/{ident}/allowances（B0101）開立，並待對方確認。",
        field,
    )


def party_of(record: InvoiceRecord, ubn: str) -> Party | None:
    if record.exchange is None:
        return None
    if str(record.seller["ubn"]) == ubn:
        return Party.SELLER
    if record.buyer.get("ubn") == ubn:
        return Party.BUYER
    return None


def task_of(record: InvoiceRecord, role: Party, at: datetime) -> ExchangeTask:
    """A party's to-do entry of an open exchange (``record`` as it is after the step)."""
    exchange = record.exchange
    if exchange is None or exchange.waiting_on is None or exchange.deadline is None:
        raise ValueError("only an open exchange has to-do entries")
    return ExchangeTask(
        id=exchange_id(str(record.seller["ubn"]), record.invoice_number),
        role=role,
        state=exchange.state,
        waiting_on=exchange.waiting_on,
        deadline=exchange.deadline,
        seller_ubn=str(record.seller["ubn"]),
        seller_name=str(record.seller.get("name") or ""),
        buyer_ubn=str(record.buyer["ubn"]),
        buyer_name=str(record.buyer.get("name") or ""),
        invoice_number=record.invoice_number,
        invoice_date=record.invoice_date.isoformat(),
        total_amount=record.amounts.total_amount,
        updated_at=at.isoformat(),
    )


def event_payload(record: InvoiceRecord, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What an ``exchange.*`` event carries: the exchange as its to-do entry summarises it."""
    exchange = record.exchange
    ident = exchange_id(str(record.seller["ubn"]), record.invoice_number)
    return {
        "id": ident,
        "kind": "invoice",
        "invoice_number": record.invoice_number,
        "invoice_date": record.invoice_date.isoformat(),
        "seller": {"ubn": record.seller["ubn"], "name": record.seller.get("name")},
        "buyer": {"ubn": record.buyer.get("ubn"), "name": record.buyer.get("name")},
        "state": exchange.state.value if exchange else None,
        "deadline": exchange.deadline if exchange else None,
        "total_amount": record.amounts.total_amount,
        "links": {"self": f"/v1/exchange/{ident}"},
        **dict(extra or {}),
    }


def issue_state(issued_at: datetime) -> ExchangeRecord:
    """The exchange state of an invoice just issued for exchange: the buyer is to answer."""
    return ExchangeRecord(
        state=ExchangeState.AWAITING_BUYER,
        deadline=answer_deadline(issued_at).isoformat(),
        updated_at=issued_at.isoformat(),
    )


def issue_intents(record: InvoiceRecord) -> list[Intent]:
    """What issuing for exchange writes besides the invoice (services/invoicing.py): both parties'
    to-do entries and the buyer's ``exchange.received``. The buyer's input side is not added: only
    its confirmation (A0102) makes the invoice its purchase."""
    seller, buyer = str(record.seller["ubn"]), str(record.buyer["ubn"])
    at = record.issued_at
    return [
        PutExchangeTask(seller, task_of(record, Party.SELLER, at)),
        PutExchangeTask(buyer, task_of(record, Party.BUYER, at)),
        _event_item(buyer, record, types.EXCHANGE_RECEIVED, at),
    ]


def _event_item(
    to: str, record: InvoiceRecord, event_type: str, at: datetime, extra: Mapping[str, Any] | None = None
) -> PutOutboxItem:
    ident = exchange_id(str(record.seller["ubn"]), record.invoice_number)
    return PutOutboxItem(
        to,
        ident,
        outbox_event_name(event_type),
        {"publish": "pending"},
        at.isoformat(),
        {"payload": event_payload(record, extra)},
    )


class ExchangeService:
    def __init__(
        self,
        *,
        invoices: InvoiceReader,
        tasks: ExchangeTasks,
        ledger: UnitOfWork,
        filed: FiledPeriods,
        clock: Clock,
        calendar: WorkingCalendar = WEEKDAYS,
    ) -> None:
        self._invoices = invoices
        self._tasks = tasks
        self._ledger = ledger
        self._filed = filed
        self._clock = clock
        self._calendar = calendar  # the cancel deadline moves off a day off with the filing deadline

    # --- reading ------------------------------------------------------------------------------------

    def inbox(self, ubn: str) -> list[ExchangeTask]:
        """The to-do list: what waits on ``ubn`` first, then what waits on the counterpart, each by
        deadline (the oldest request first)."""
        tasks = self._tasks.open_tasks(ubn)
        return sorted(tasks, key=lambda t: (t.waiting_on is not t.role, t.deadline, t.id))

    def get(self, ubn: str, ident: str) -> Exchange:
        record, party = self._read(ubn, ident)
        return Exchange(record, party, self._now())

    def message(self, ubn: str, ident: str, message_type: str) -> tuple[bytes, str]:
        """The XML of one message of an exchange (either party may read every one) and its file name."""
        from chalicelib.documents.mig import build_xml
        from chalicelib.services.exchange_documents import exchange_message

        record, _ = self._read(ubn, ident)
        if message_type not in INVOICE_FLOW.all_messages():
            raise NotFound(
                "EXCHANGE_MESSAGE_NOT_FOUND",
                f"An invoice exchange has the messages {', '.join(INVOICE_FLOW.all_messages())}",
                f"交換發票的訊息類型為 {'、'.join(INVOICE_FLOW.all_messages())}",
                "message_type",
            )
        return build_xml(exchange_message(record, message_type)), f"{record.invoice_number}-{message_type}.xml"

    def _read(self, ubn: str, ident: str) -> tuple[InvoiceRecord, Party]:
        key = parse_exchange_id(ident)
        record = self._invoices.get(*key) if key is not None else None
        party = party_of(record, ubn) if record is not None else None
        if record is None or party is None:
            raise not_found()
        return record, party

    # --- answering ----------------------------------------------------------------------------------

    def take(self, ubn: str, ident: str, action: ExchangeAction, answer: Answer, *, actor: str) -> Exchange:
        """``ubn`` takes step ``action`` on exchange ``ident``: decided on the state read, committed
        only if it is still that state. A concurrent answer that won is reported as the state it
        left (e.g. a reject after the confirm that won: ``EXCHANGE_STATE_CONFLICT``)."""
        for _ in range(_ATTEMPTS):
            record, party = self._read(ubn, ident)
            now = self._now()
            intents, after = self._prepare(record, party, action, answer, now, actor)
            try:
                self._ledger.commit(intents)
            except (StateChanged, Contended):
                continue  # read again: the next decision names what changed
            return Exchange(after, party, now)
        raise Conflict(
            "INVOICE_CHANGED",
            "The exchange changed while this request ran; read it again and retry.",
            "處理期間交換發票已被變更，請重新讀取後再試。",
            "state",
        )

    def _prepare(
        self, record: InvoiceRecord, party: Party, action: ExchangeAction, answer: Answer, now: datetime, actor: str
    ) -> tuple[list[Intent], InvoiceRecord]:
        exchange = record.exchange
        if exchange is None:  # party_of found none for a storage invoice
            raise not_found()
        step = decide(INVOICE_FLOW, exchange.state, action, party)
        seller, buyer = str(record.seller["ubn"]), str(record.buyer["ubn"])
        self._check(record, action, answer, now)
        at = (answer.at or now).astimezone(TAIWAN_TZ)
        fields = {
            "at": at.isoformat(),
            "recorded_at": now.isoformat(),
            "by": party.value,
            "reason": answer.reason,
            "remark": answer.remark,
            "return_tax_document_number": answer.return_tax_document_number,
            "buyer_remark": answer.buyer_remark,
            "bonded_area_confirm": answer.bonded_area_confirm,
        }
        entry = {name: value for name, value in fields.items() if value is not None}
        target = step.target
        after_exchange = exchange.after(step, entry, now)
        detail = {"by": party.value, "message": step.message}
        detail |= {k: v for k, v in entry.items() if k in ("reason", "remark", "return_tax_document_number")}
        history = HistoryEntry(at=now.isoformat(), event=f"exchange_{target.value}", actor=actor, detail=detail)
        intents, status, cancellation = _effects(record, exchange, action, answer, now)
        after = record.model_copy(
            update={
                "exchange": after_exchange,
                "status": status or record.status,
                "cancellation": cancellation if cancellation is not None else record.cancellation,
                "history": [*record.history, history],
            }
        )
        intents.insert(
            0,
            ChangeExchange(
                seller,
                record.invoice_number,
                exchange.state.value,
                after_exchange,
                history,
                status=status,
                cancellation=cancellation,
                allowance_free=action is ExchangeAction.CANCEL,
            ),
        )
        ident = exchange_id(seller, record.invoice_number)
        if is_open(target):
            intents += [PutExchangeTask(seller, task_of(after, Party.SELLER, now))]
            intents += [PutExchangeTask(buyer, task_of(after, Party.BUYER, now))]
        else:
            intents += [DropExchangeTask(seller, ident), DropExchangeTask(buyer, ident)]
        counterpart = buyer if party is Party.SELLER else seller
        said = {k: v for k, v in entry.items() if k in ("reason", "remark")}
        intents.append(_event_item(counterpart, after, STEP_EVENTS[action], now, {"message": step.message, **said}))
        if status is not None:
            # The PDFs print the invoice's status (退回 / 作廢): render them again.
            steps = {"proof_pdf": "pending", "a4_pdf": "pending"}
            intents.append(PutOutboxItem(seller, record.invoice_number, REPRINT_EVENT, steps, now.isoformat()))
        return intents, after

    def _check(self, record: InvoiceRecord, action: ExchangeAction, answer: Answer, now: datetime) -> None:
        if action in (ExchangeAction.REJECT, ExchangeAction.CANCEL) and not answer.reason:
            what = "rejection" if action is ExchangeAction.REJECT else "cancel"
            raise InvalidInput(
                "MISSING_FIELD",
                f"Give the reason of the {what} (at most 20 characters).",
                "請填寫原因（最多 20 字）。",
                "reason",
            )
        if action is ExchangeAction.CANCEL:
            if record.allowance_count > 0:
                # An exchange allowance (B0101) in force or awaiting its confirmation reduces it.
                raise RuleViolation(
                    "INVOICE_HAS_ALLOWANCES",
                    "Cancel the invoice's allowances first (B0201, confirmed by the counterpart).",
                    "請先作廢此發票的折讓證明單（B0201，並經對方確認）。",
                    "status",
                )
            # As a storage cancel (作廢): until the filing deadline, then with the approval number.
            ensure_can_cancel(
                Period.parse(record.period),
                now.date(),
                return_tax_document_number=answer.return_tax_document_number,
                calendar=self._calendar,
            )
            if not answer.return_tax_document_number:
                ensure_not_filed(self._filed, str(record.seller["ubn"]), record.period)

    # --- helpers ------------------------------------------------------------------------------------

    def _now(self) -> datetime:
        return self._clock.now().astimezone(TAIWAN_TZ)


def _effects(
    record: InvoiceRecord, exchange: ExchangeRecord, action: ExchangeAction, answer: Answer, now: datetime
) -> tuple[list[Intent], str | None, dict[str, Any] | None]:
    """What a step does besides the exchange state: the period totals, and the invoice's status
    (and cancellation) where the step settles what the invoice is."""
    seller = str(record.seller["ubn"])
    if action is ExchangeAction.CONFIRM:
        return [*purchase_intents(None, record)], None, None  # now the buyer's purchase (進項)
    if action is ExchangeAction.REJECT:
        drop = AddToTotals(seller, record.period, record.invoice_type, negated(totals_changes(record)))
        return [drop], InvoiceStatus.REJECTED.value, None
    if action is ExchangeAction.CANCEL:
        # Nothing counts differently until the buyer confirms; the period must still be open then.
        return ([] if answer.return_tax_document_number else [RequireUnfiled(seller, record.period)]), None, None
    if action is ExchangeAction.CONFIRM_CANCEL:
        asked = exchange.messages.get(INVOICE_FLOW.messages[ExchangeAction.CANCEL], {})
        cancellation = {
            "reason": asked.get("reason"),
            "return_tax_document_number": asked.get("return_tax_document_number"),
            "remark": asked.get("remark"),
            "cancelled_at": now.isoformat(),
        }
        changes = {**negated(totals_changes(record)), "cancelled_count": 1}
        intents: list[Intent] = [AddToTotals(seller, record.period, record.invoice_type, changes)]
        if exchange.confirmed:
            intents += purchase_intents(record, None)
        return intents, InvoiceStatus.CANCELLED.value, cancellation
    return [], None, None

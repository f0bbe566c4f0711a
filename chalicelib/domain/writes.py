"""What a use case asks the write seam (unit of work) to commit, all or nothing.

A service hands ``UnitOfWork.commit`` a list of these intents; the adapter alone knows the keys,
the conditions and the transaction they become (adapters/dynamo_ledger.py). A condition that
refuses is reported as one of the named errors below, about the intent it concerned, so that no
service has to know the order of a transaction's actions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.allowance_record import AllowanceRecord
from chalicelib.domain.counter import Counter
from chalicelib.domain.exchange import ExchangeRecord, ExchangeTask
from chalicelib.domain.invoice_record import HistoryEntry, InvoiceRecord
from chalicelib.domain.lottery import PeriodNumbers, WinnerRecord


@dataclass(frozen=True)
class TakeNumber:
    """Move ``counter`` past its next number, only if no other writer moved it since it was read.
    ``low_stock_notice`` (the number being issued) records that this issue queues the channel's
    low-stock notice; it then also requires that none is queued and ``remaining`` is as read."""

    ubn: str
    counter: Counter
    issued_at: str
    low_stock_notice: str | None = None


@dataclass(frozen=True)
class PutInvoice:
    """A new invoice; refused if its number is already stored."""

    ubn: str
    record: InvoiceRecord


@dataclass(frozen=True)
class AddToTotals:
    """Add ``changes`` (negative to subtract) to the seller's running totals of a period and
    invoice type (07/08), which the 401 return reads instead of the invoices."""

    ubn: str
    period: str
    invoice_type: str
    changes: Mapping[str, int]


@dataclass(frozen=True)
class AddToPurchases:
    """Add ``changes`` to a buyer's input side (format 25) of a period."""

    buyer_ubn: str
    period: str
    changes: Mapping[str, int]


@dataclass(frozen=True)
class PutOutboxItem:
    """A new outbox item: the work left after the commit (documents, mail, events) for ``subject``
    (an invoice or allowance number) and ``event``; ``fields`` are kept on it for that work."""

    ubn: str
    subject: str
    event: str
    steps: Mapping[str, str]
    created_at: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    # A second void of the same invoice (within its 48 h) replaces the first one's finished item:
    # the invoice's own condition already guarantees it is the only change in flight.
    replace: bool = False


@dataclass(frozen=True)
class RecordIdempotencyKey:
    """Remember which invoice (or allowance, by ``kind``) an ``Idempotency-Key`` made; refused while
    an unexpired record exists."""

    key_id: str  # "<ubn>#<key>", "<ubn>#allowance#<key>"
    number: str
    fingerprint: str  # the request's hash: a different request with the same key is refused
    expires_at: int  # epoch seconds
    now: int  # epoch seconds: an expired record (deleted lazily) may be replaced
    kind: str = "invoice"  # "invoice" | "allowance"


@dataclass(frozen=True)
class RecordOrderId:
    """Remember which invoice an ``order_id`` made; refused if the order id has one."""

    ubn: str
    order_id: str
    invoice_number: str
    fingerprint: str


@dataclass(frozen=True)
class CancelInvoice:
    """An issued invoice becomes cancelled (作廢); refused unless it is issued with no allowance in force."""

    ubn: str
    invoice_number: str
    cancellation: Mapping[str, Any]
    history: HistoryEntry


@dataclass(frozen=True)
class ReplaceInvoice:
    """The corrected invoice under its own number (void and re-issue, 註銷重開); refused unless the
    stored one is still issued with ``expected_random_number`` and no allowance is in force, so of
    two concurrent changes only one wins. ``reset_allowable`` sets what may be allowed to the new
    total (kept only where something was allowed before)."""

    ubn: str
    record: InvoiceRecord
    expected_random_number: str
    reset_allowable: bool


@dataclass(frozen=True)
class AppendHistory:
    """Add ``entry`` to an existing invoice's history."""

    ubn: str
    invoice_number: str
    entry: HistoryEntry


@dataclass(frozen=True)
class ChangeExchange:
    """An exchanged (交換) invoice takes one step: its ``exchange`` becomes ``exchange`` (the new
    state, the message added), ``history`` is appended and, where the step settles what the invoice
    is, its ``status`` (and ``cancellation``) change too. Refused unless its exchange state is still
    ``expected``, the state the step was decided on: of two concurrent answers only one wins."""

    ubn: str  # the seller's: the invoice lives in the seller's partition
    invoice_number: str
    expected: str
    exchange: ExchangeRecord
    history: HistoryEntry
    status: str | None = None
    cancellation: Mapping[str, Any] | None = None
    # Refused too while an allowance (折讓) is in force or pending on the invoice: a cancel asked for
    # then would leave the allowance reducing an invoice that no longer counts.
    allowance_free: bool = False


@dataclass(frozen=True)
class PutExchangeTask:
    """Keep (or replace) one party's to-do entry (待辦事項) of an open exchange, in its own
    partition; written only beside the ``PutInvoice`` or ``ChangeExchange`` that decides it."""

    ubn: str  # the party whose to-do list holds it
    task: ExchangeTask


@dataclass(frozen=True)
class DropExchangeTask:
    """Remove one party's to-do entry of an exchange that is settled (nothing happens if none)."""

    ubn: str
    task_id: str


@dataclass(frozen=True)
class ReserveAllowable:
    """Take an exchanged allowance's ``amount`` (tax-inclusive NT$) off what may still be allowed on
    an exchanged invoice (``invoice_total`` when nothing was yet), as ``ReduceAllowable`` does, but
    only while the invoice is issued and its buyer's confirmation stands (exchange state
    ``confirmed``): refused once a cancel is asked for, or when less remains."""

    ubn: str  # the seller's: the invoice lives in the seller's partition
    invoice_number: str
    amount: int
    invoice_total: int
    history: HistoryEntry


@dataclass(frozen=True)
class ChangeExchangeAllowance:
    """An exchanged allowance (B0101) takes one step, as ``ChangeExchange`` for an invoice: its
    ``exchange`` becomes ``exchange``, ``history`` is appended and ``fields`` (``status``,
    ``cancelled_at``…) are set. Refused unless its exchange state is still ``expected``."""

    ubn: str  # the seller's: the allowance lives in the seller's partition, whoever issued it
    allowance_number: str
    expected: str
    exchange: ExchangeRecord
    history: HistoryEntry
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PutAllowance:
    """A new allowance (折讓證明單); refused if its number is already used by the merchant."""

    ubn: str
    record: AllowanceRecord


@dataclass(frozen=True)
class ReduceAllowable:
    """Take ``amount`` (tax-inclusive NT$) off what may still be allowed on an issued invoice
    (``invoice_total`` when nothing was yet); refused if the invoice is no longer issued or less
    remains: what keeps two concurrent allowances from overdrawing one invoice."""

    ubn: str
    invoice_number: str
    amount: int
    invoice_total: int
    history: HistoryEntry


@dataclass(frozen=True)
class RestoreAllowable:
    """Give back to an invoice what a cancelled allowance took; refused if it was never reduced."""

    ubn: str
    invoice_number: str
    amount: int
    history: HistoryEntry


@dataclass(frozen=True)
class AdjustAllowable:
    """On one invoice, give back ``restore`` (what a voided allowance took) and take ``take`` (what
    its re-issue takes) in one step: the two cannot be separate actions on the same item of one
    transaction. Refused unless the invoice is issued and reduced, and ``take - restore`` remains."""

    ubn: str
    invoice_number: str
    restore: int
    take: int
    history: tuple[HistoryEntry, ...]


@dataclass(frozen=True)
class ReplaceAllowance:
    """The corrected allowance under its own number (void and re-issue, 註銷重開, G0701 + G0401);
    refused unless the stored one is still issued and was voided ``expected_void_count`` times, so
    of two concurrent changes only one wins."""

    ubn: str
    record: AllowanceRecord
    expected_void_count: int


@dataclass(frozen=True)
class CancelAllowance:
    """An issued allowance becomes cancelled with ``fields`` set; refused if it is not issued."""

    ubn: str
    allowance_number: str
    fields: Mapping[str, Any]
    history: HistoryEntry


@dataclass(frozen=True)
class RequireUnfiled:
    """Holds only while no return of ``period`` is filed (closes the race with a submission
    between a check and the write)."""

    ubn: str
    period: str


@dataclass(frozen=True)
class PutWinner:
    """A winning invoice of a period (中獎); refused if it is recorded already, so loading the same
    list or numbers again records and tells nothing twice."""

    record: WinnerRecord


@dataclass(frozen=True)
class MarkPrizeDelivered:
    """A winner still to deliver becomes delivered (its winning proof handed over); refused unless it
    is still to deliver."""

    ubn: str
    period: str
    invoice_number: str
    entry: HistoryEntry


@dataclass(frozen=True)
class WithdrawWinner:
    """A winner that replaced numbers no longer make win becomes withdrawn; refused unless it is still
    undelivered (to deliver, or nothing to deliver): a delivered proof is never taken back."""

    ubn: str
    period: str
    invoice_number: str
    entry: HistoryEntry


@dataclass(frozen=True)
class ReviseWinner:
    """A recorded winner takes ``record``'s prize, amount, duty and status (replaced numbers give it
    another prize, or make a withdrawn one win again), with ``entry`` added to its history; refused
    unless it exists and is not delivered."""

    record: WinnerRecord
    entry: HistoryEntry


@dataclass(frozen=True)
class PutWinningNumbers:
    """A period's drawn numbers, version ``numbers.version``: refused unless the stored version is
    ``numbers.version - 1`` (none stored for version 1), so of two concurrent loads one wins."""

    numbers: PeriodNumbers


Intent = (
    TakeNumber
    | PutInvoice
    | AddToTotals
    | AddToPurchases
    | PutOutboxItem
    | RecordIdempotencyKey
    | RecordOrderId
    | CancelInvoice
    | ReplaceInvoice
    | AppendHistory
    | ChangeExchange
    | PutExchangeTask
    | DropExchangeTask
    | PutAllowance
    | ReserveAllowable
    | ChangeExchangeAllowance
    | ReduceAllowable
    | RestoreAllowable
    | AdjustAllowable
    | ReplaceAllowance
    | CancelAllowance
    | RequireUnfiled
    | PutWinner
    | MarkPrizeDelivered
    | WithdrawWinner
    | ReviseWinner
    | PutWinningNumbers
)


class NumberTaken(Exception):
    """Another writer took the number first; ``counter`` is the counter as it is now, when known."""

    def __init__(self, counter: Counter | None) -> None:
        super().__init__("the number was taken by another writer")
        self.counter = counter


class Refused(Exception):
    """An intent's condition did not hold; ``stored`` is the item as it is now, when known."""

    def __init__(self, intent: Intent, stored: Mapping[str, Any] | None) -> None:
        super().__init__(f"{type(intent).__name__} refused")
        self.intent = intent
        self.stored = dict(stored) if stored is not None else None


class AlreadyRecorded(Refused):
    """An intent's record already exists (an Idempotency-Key or order id already used, a number
    already used, or the same item written by a concurrent identical request)."""


class StateChanged(Refused):
    """What an intent required of an item no longer holds (an invoice cancelled or allowed in full
    meanwhile, an allowance cancelled already, a period filed)."""


class Contended(Exception):
    """Another transaction was changing the same items at that moment; nothing was written. Read
    again and retry."""

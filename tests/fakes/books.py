"""The write seam and the reads beside it, in memory: what the allowance and invoice-change use
cases rely on from DynamoDB (services/ports.py), with the same conditions and all-or-nothing
commits, so those services can be tested without a database (the lottery's winners and period
numbers too, read through :class:`WinnerView`). tests/integration/test_books_contract.py
runs one suite against this and against DynamoDB Local, which keeps the two honest."""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from chalicelib.domain.allowance_record import AllowanceRecord
from chalicelib.domain.exchange import ExchangeTask
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.domain.lottery import DELIVERED, TO_DELIVER, UNDELIVERED, WITHDRAWN, PeriodNumbers, WinnerRecord
from chalicelib.domain.merchant import MerchantProfile
from chalicelib.domain.writes import (
    AddToPurchases,
    AddToTotals,
    AdjustAllowable,
    AlreadyRecorded,
    AppendHistory,
    CancelAllowance,
    CancelInvoice,
    ChangeExchange,
    ChangeExchangeAllowance,
    DropExchangeTask,
    Intent,
    MarkPrizeDelivered,
    PutAllowance,
    PutExchangeTask,
    PutInvoice,
    PutOutboxItem,
    PutWinner,
    PutWinningNumbers,
    RecordIdempotencyKey,
    RecordOrderId,
    ReduceAllowable,
    Refused,
    ReplaceAllowance,
    ReplaceInvoice,
    RequireUnfiled,
    ReserveAllowable,
    RestoreAllowable,
    ReviseWinner,
    StateChanged,
    WithdrawWinner,
)


class MemoryBooks:
    """Invoices, allowances, totals, outbox items, idempotency records and filed periods."""

    def __init__(self) -> None:
        self.invoices: dict[tuple[str, str], dict[str, Any]] = {}
        self.allowances: dict[tuple[str, str], dict[str, Any]] = {}
        self.totals: dict[tuple[str, str, str], dict[str, int]] = {}
        self.outbox: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.orders: dict[tuple[str, str], dict[str, Any]] = {}
        self.idempotency: dict[str, dict[str, Any]] = {}
        self.tasks: dict[tuple[str, str], dict[str, Any]] = {}  # (party, exchange id): to-do entry
        self.winners: dict[tuple[str, str, str], dict[str, Any]] = {}  # (ubn, period, number)
        self.drawn: dict[str, dict[str, Any]] = {}  # period -> its winning numbers
        self.filed: set[tuple[str, str]] = set()
        self.profiles: dict[str, dict[str, Any]] = {}
        self.sequences: dict[tuple[str, str], int] = {}
        self.commits = 0
        self._lock = threading.Lock()

    # --- UnitOfWork ---------------------------------------------------------------------------------

    def commit(self, intents: Sequence[Intent]) -> None:
        if len(intents) > 100:
            raise ValueError("a transaction holds at most 100 intents")
        with self._lock:
            work = copy.deepcopy(self._state())
            refusals = [refusal for intent in intents if (refusal := self._apply(work, intent)) is not None]
            if refusals:
                # The same precedence as the DynamoDB ledger: a refused Idempotency-Key explains the rest.
                keyed = [r for r in refusals if isinstance(r.intent, RecordIdempotencyKey)]
                raise (keyed or refusals)[0]
            self._restore(work)
            self.commits += 1

    def _state(self) -> dict[str, Any]:
        names = ("invoices", "allowances", "totals", "outbox", "orders", "idempotency", "tasks", "winners", "drawn")
        return {name: getattr(self, name) for name in names}

    def _restore(self, work: Mapping[str, Any]) -> None:
        for name, value in work.items():
            setattr(self, name, value)

    def _apply(self, work: dict[str, Any], intent: Intent) -> Refused | None:  # noqa: PLR0911
        invoices, allowances = work["invoices"], work["allowances"]
        if isinstance(intent, PutInvoice):
            key = (intent.ubn, intent.record.invoice_number)
            if key in invoices:
                return AlreadyRecorded(intent, invoices[key])
            invoices[key] = intent.record.model_dump(mode="json")
        elif isinstance(intent, AddToTotals | AddToPurchases):
            owner = intent.ubn if isinstance(intent, AddToTotals) else intent.buyer_ubn
            group = intent.invoice_type if isinstance(intent, AddToTotals) else "purchases"
            summed = work["totals"].setdefault((owner, intent.period, group), {})
            for name, value in intent.changes.items():
                summed[name] = summed.get(name, 0) + value
        elif isinstance(intent, PutOutboxItem):
            key = (intent.ubn, intent.subject, intent.event)
            if key in work["outbox"] and not intent.replace:
                return AlreadyRecorded(intent, work["outbox"][key])
            work["outbox"][key] = {"steps": dict(intent.steps), **intent.fields}
        elif isinstance(intent, RecordIdempotencyKey):
            stored = work["idempotency"].get(intent.key_id)
            if stored is not None and stored["expiration"] >= intent.now:
                return AlreadyRecorded(intent, stored)
            work["idempotency"][intent.key_id] = {
                "id": intent.key_id,
                f"{intent.kind}_number": intent.number,
                "validation": intent.fingerprint,
                "status": "COMPLETED",
                "expiration": intent.expires_at,
            }
        elif isinstance(intent, RecordOrderId):
            key = (intent.ubn, intent.order_id)
            if key in work["orders"]:
                return AlreadyRecorded(intent, work["orders"][key])
            work["orders"][key] = {"invoice_number": intent.invoice_number, "validation": intent.fingerprint}
        elif isinstance(intent, PutAllowance):
            key = (intent.ubn, intent.record.allowance_number)
            if key in allowances:
                return AlreadyRecorded(intent, allowances[key])
            allowances[key] = intent.record.model_dump(mode="json")
        elif isinstance(intent, ReduceAllowable):
            stored = invoices.get((intent.ubn, intent.invoice_number))
            left = None if stored is None else stored.get("allowance_remaining")
            left = intent.invoice_total if left is None else left
            if stored is None or stored["status"] != "issued" or left < intent.amount:
                return StateChanged(intent, stored)
            stored["allowance_remaining"] = left - intent.amount
            stored["allowance_count"] = int(stored.get("allowance_count") or 0) + 1
            stored["history"] = [*stored.get("history", []), intent.history.model_dump(mode="json")]
        elif isinstance(intent, ReserveAllowable):
            stored = invoices.get((intent.ubn, intent.invoice_number))
            left = None if stored is None else stored.get("allowance_remaining")
            left = intent.invoice_total if left is None else left
            if (
                stored is None
                or stored["status"] != "issued"
                or (stored.get("exchange") or {}).get("state") != "confirmed"
                or left < intent.amount
            ):
                return StateChanged(intent, stored)
            stored["allowance_remaining"] = left - intent.amount
            stored["allowance_count"] = int(stored.get("allowance_count") or 0) + 1
            stored["history"] = [*stored.get("history", []), intent.history.model_dump(mode="json")]
        elif isinstance(intent, ChangeExchangeAllowance):
            stored = allowances.get((intent.ubn, intent.allowance_number))
            if stored is None or (stored.get("exchange") or {}).get("state") != intent.expected:
                return StateChanged(intent, stored)
            stored.update({"exchange": intent.exchange.model_dump(mode="json"), **intent.fields})
            stored["history"] = [*stored.get("history", []), intent.history.model_dump(mode="json")]
        elif isinstance(intent, RestoreAllowable):
            stored = invoices.get((intent.ubn, intent.invoice_number))
            if stored is None or stored.get("allowance_remaining") is None or stored.get("allowance_count", 0) < 1:
                return StateChanged(intent, stored)
            stored["allowance_remaining"] += intent.amount
            stored["allowance_count"] -= 1
            stored["history"] = [*stored.get("history", []), intent.history.model_dump(mode="json")]
        elif isinstance(intent, AdjustAllowable):
            stored = invoices.get((intent.ubn, intent.invoice_number))
            left = None if stored is None else stored.get("allowance_remaining")
            if (
                stored is None
                or stored["status"] != "issued"
                or left is None
                or stored.get("allowance_count", 0) < 1
                or left < intent.take - intent.restore
            ):
                return StateChanged(intent, stored)
            stored["allowance_remaining"] = left - (intent.take - intent.restore)
            entries = [entry.model_dump(mode="json") for entry in intent.history]
            stored["history"] = [*stored.get("history", []), *entries]
        elif isinstance(intent, ReplaceAllowance):
            key = (intent.ubn, intent.record.allowance_number)
            stored = allowances.get(key)
            if (
                stored is None
                or stored.get("status", "issued") != "issued"
                or int(stored.get("void_count") or 0) != intent.expected_void_count
            ):
                return StateChanged(intent, stored)
            allowances[key] = intent.record.model_dump(mode="json")
        elif isinstance(intent, CancelAllowance):
            stored = allowances.get((intent.ubn, intent.allowance_number))
            if stored is None or stored.get("status", "issued") != "issued":
                return StateChanged(intent, stored)
            stored.update({"status": "cancelled", **intent.fields})
            stored["history"] = [*stored.get("history", []), intent.history.model_dump(mode="json")]
        elif isinstance(intent, CancelInvoice):
            stored = invoices.get((intent.ubn, intent.invoice_number))
            if stored is None or stored["status"] != "issued" or stored.get("allowance_count", 0) > 0:
                return StateChanged(intent, stored)
            stored.update({"status": "cancelled", "cancellation": dict(intent.cancellation)})
            stored["history"] = [*stored.get("history", []), intent.history.model_dump(mode="json")]
        elif isinstance(intent, ReplaceInvoice):
            key = (intent.ubn, intent.record.invoice_number)
            stored = invoices.get(key)
            if (
                stored is None
                or stored["status"] != "issued"
                or stored["random_number"] != intent.expected_random_number
                or stored.get("allowance_count", 0) > 0
            ):
                return StateChanged(intent, stored)
            replaced = {**stored, **intent.record.model_dump(mode="json")}
            if intent.reset_allowable:
                replaced["allowance_remaining"] = intent.record.amounts.total_amount
            invoices[key] = replaced
        elif isinstance(intent, AppendHistory):
            stored = invoices.get((intent.ubn, intent.invoice_number))
            if stored is None:
                return StateChanged(intent, None)
            stored["history"] = [*stored.get("history", []), intent.entry.model_dump(mode="json")]
        elif isinstance(intent, ChangeExchange):
            stored = invoices.get((intent.ubn, intent.invoice_number))
            if stored is None or (stored.get("exchange") or {}).get("state") != intent.expected:
                return StateChanged(intent, stored)
            if intent.allowance_free and int(stored.get("allowance_count") or 0) > 0:
                return StateChanged(intent, stored)
            stored["exchange"] = intent.exchange.model_dump(mode="json")
            if intent.status is not None:
                stored["status"] = intent.status
            if intent.cancellation is not None:
                stored["cancellation"] = dict(intent.cancellation)
            stored["history"] = [*stored.get("history", []), intent.history.model_dump(mode="json")]
        elif isinstance(intent, PutExchangeTask):
            work["tasks"][(intent.ubn, intent.task.id)] = intent.task.model_dump(mode="json")
        elif isinstance(intent, DropExchangeTask):
            work["tasks"].pop((intent.ubn, intent.task_id), None)
        elif isinstance(intent, RequireUnfiled):
            if (intent.ubn, intent.period) in self.filed:
                return StateChanged(intent, None)
        elif isinstance(intent, PutWinner | MarkPrizeDelivered | WithdrawWinner | ReviseWinner | PutWinningNumbers):
            return self._lottery(work, intent)
        else:
            raise NotImplementedError(f"{type(intent).__name__} is not kept in memory")
        return None

    @staticmethod
    def _lottery(  # noqa: PLR0911 - one return per intent and refusal, as _apply
        work: dict[str, Any], intent: PutWinner | MarkPrizeDelivered | WithdrawWinner | ReviseWinner | PutWinningNumbers
    ) -> Refused | None:
        winners = work["winners"]
        if isinstance(intent, PutWinningNumbers):
            numbers = intent.numbers
            stored = work["drawn"].get(numbers.period)
            if (stored is None and numbers.version != 1) or (
                stored is not None and stored["version"] != numbers.version - 1
            ):
                return StateChanged(intent, stored)
            work["drawn"][numbers.period] = numbers.model_dump(mode="json")
            return None
        if isinstance(intent, PutWinner):
            key = (intent.record.ubn, intent.record.period, intent.record.invoice_number)
            if key in winners:
                return AlreadyRecorded(intent, winners[key])
            winners[key] = {"kind": "winner", **intent.record.model_dump(mode="json")}
            return None
        if isinstance(intent, ReviseWinner):
            record = intent.record
            stored = winners.get((record.ubn, record.period, record.invoice_number))
            if stored is None or stored["status"] == DELIVERED:
                return StateChanged(intent, stored)
            fields = record.model_dump(mode="json")
            for name in ("prize", "prize_amount", "source", "duty", "status", "buyer_mailed", "loaded_at", "loaded_by"):
                stored[name] = fields[name]
            stored.pop("withdrawn_at", None)
            stored.pop("withdrawn_by", None)
            stored["history"] = [*stored["history"], intent.entry.model_dump(mode="json")]
            return None
        stored = winners.get((intent.ubn, intent.period, intent.invoice_number))
        entry = intent.entry.model_dump(mode="json")
        if isinstance(intent, MarkPrizeDelivered):
            if stored is None or stored["status"] != TO_DELIVER:
                return StateChanged(intent, stored)
            stored.update({"status": DELIVERED, "delivered_at": entry["at"], "delivered_by": entry["actor"]})
        else:
            if stored is None or stored["status"] not in UNDELIVERED:
                return StateChanged(intent, stored)
            stored.update({"status": WITHDRAWN, "withdrawn_at": entry["at"], "withdrawn_by": entry["actor"]})
        stored["history"] = [*stored["history"], entry]
        return None

    # --- reads (InvoiceReader, AllowanceStore, IdempotencyStore, FiledPeriods, MerchantStore) -------

    def get(self, ubn: str, number: str) -> InvoiceRecord | None:
        stored = self.invoices.get((ubn, number))
        return None if stored is None else InvoiceRecord.model_validate(stored)

    def record(self, ubn: str, number: str) -> AllowanceRecord | None:
        stored = self.allowances.get((ubn, number))
        return None if stored is None else AllowanceRecord.model_validate(stored)

    def next_sequence(self, ubn: str, period: str) -> int:
        with self._lock:
            self.sequences[(ubn, period)] = self.sequences.get((ubn, period), 0) + 1
            return self.sequences[(ubn, period)]

    def open_tasks(self, ubn: str) -> list[ExchangeTask]:
        """``ExchangeTasks.open_tasks``: a party's open exchanges (its to-do entries)."""
        return [ExchangeTask.model_validate(task) for (party, _), task in sorted(self.tasks.items()) if party == ubn]

    def group(self, ubn: str, period: str, group: str) -> dict[str, int]:
        return dict(self.totals.get((ubn, period, group), {}))

    def is_filed(self, ubn: str, period: str) -> bool:
        return (ubn, period) in self.filed

    def idempotency_record(self, key_id: str) -> dict[str, Any] | None:
        stored = self.idempotency.get(key_id)
        return None if stored is None else dict(stored)

    def remember(self, key_id: str, expires_at: int, now: int) -> bool:
        with self._lock:
            stored = self.idempotency.get(key_id)
            if stored is not None and stored["expiration"] >= now:
                return False
            self.idempotency[key_id] = {"id": key_id, "expiration": expires_at}
            return True

    def get_profile(self, ubn: str) -> dict[str, Any] | None:
        stored = self.profiles.get(ubn)
        return None if stored is None else dict(stored)

    def profile(self, ubn: str) -> MerchantProfile | None:
        stored = self.profiles.get(ubn)
        return None if stored is None else MerchantProfile.of(stored)


class IdempotencyView:
    """``IdempotencyStore`` over the books (its ``get`` is not the invoices' ``get``)."""

    def __init__(self, books: MemoryBooks) -> None:
        self._books = books

    def get(self, key_id: str) -> dict[str, Any] | None:
        return self._books.idempotency_record(key_id)

    def remember(self, key_id: str, expires_at: int, now: int) -> bool:
        return self._books.remember(key_id, expires_at, now)


class WinnerView:
    """``WinnerStore`` over the books (the lottery's reads: the books' own ``invoices`` is a dict)."""

    def __init__(self, books: MemoryBooks) -> None:
        self._books = books

    def winners(self, ubn: str, period: str) -> list[WinnerRecord]:
        return [
            WinnerRecord.model_validate(item)
            for (owner, drawn, _), item in sorted(self._books.winners.items())
            if (owner, drawn) == (ubn, period)
        ]

    def winner(self, ubn: str, period: str, number: str) -> WinnerRecord | None:
        item = self._books.winners.get((ubn, period, number))
        return None if item is None else WinnerRecord.model_validate(item)

    def winners_at(self, ubn: str, period: str, numbers: Sequence[str]) -> dict[str, WinnerRecord]:
        found = {number: self.winner(ubn, period, number) for number in numbers}
        return {number: record for number, record in found.items() if record is not None}

    def numbers(self, period: str) -> PeriodNumbers | None:
        item = self._books.drawn.get(period)
        return None if item is None else PeriodNumbers.model_validate(item)

    def recent_to_deliver(self, ubn: str, limit: int) -> list[WinnerRecord]:
        newest = sorted(((key, item) for key, item in self._books.winners.items() if key[0] == ubn), reverse=True)
        return [WinnerRecord.model_validate(item) for _, item in newest[:limit] if item["status"] == TO_DELIVER]

    def invoices(self, ubn: str, numbers: Sequence[str]) -> dict[str, InvoiceRecord]:
        found = {number: self._books.get(ubn, number) for number in numbers}
        return {number: record for number, record in found.items() if record is not None}


class MemoryRanges:
    """``PeriodRanges``: the allocated ranges of each period, as the tracks table's index lists them."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, ubn: str, period: str, track: str, begin: int, end: int, invoice_type: str = "07") -> None:
        self.items.append(
            {
                "ubn": ubn,
                "period": period,
                "track": track,
                "begin": f"{begin:08d}",
                "end": f"{end:08d}",
                "invoice_type": invoice_type,
            }
        )

    def ranges(self, period: str, track: str | None, limit: int) -> tuple[list[dict[str, Any]], bool]:
        found = [r for r in self.items if r["period"] == period and (track is None or r["track"] == track)]
        found.sort(key=lambda r: (r["track"], r["begin"]))
        return found[:limit], len(found) > limit

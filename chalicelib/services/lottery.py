"""The invoice lottery (中獎): staff load a period's winners, merchants see and deliver theirs.

Staff give either the drawn numbers (every merchant's B2C invoices of the period are matched) or the
MOF's E0504 winning-invoice list (validated against its schema first, one HeadBan per file). Each
winner is committed on its own with its outbox item (``lottery_won``: the ``invoice.won`` event, the
merchant's notice, the winner's mail) and a history entry on the invoice; a winner already recorded
is refused by the database, so loading the same list again records and tells nothing twice.

Matching stays cheap: the candidate numbers are computed from the period's allocated ranges (only
serials ending in a drawn 3-digit ending, plus the three exact numbers, can win), and only those
invoices are read, by key (merchant, number). A listed invoice that cannot win (cancelled, B2B,
another period, unknown) is reported as refused with the rule, and nobody is told.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.domain.clock import Clock
from chalicelib.domain.errors import InvalidInput, NotFound, RuleViolation
from chalicelib.domain.invoice_record import HistoryEntry, InvoiceRecord
from chalicelib.domain.lottery import (
    DELIVERED,
    DUTY_TEXTS,
    REFUSAL_TEXTS,
    Duty,
    Prize,
    Refusal,
    WinnerRecord,
    WinningNumbers,
    candidates,
    prize_for_amount,
    prize_of,
    refusal,
    winner,
)
from chalicelib.domain.period import Period
from chalicelib.domain.writes import (
    AlreadyRecorded,
    AppendHistory,
    Contended,
    Intent,
    MarkPrizeDelivered,
    PutOutboxItem,
    PutWinner,
    StateChanged,
)
from chalicelib.services.outbox_lottery import EVENT
from chalicelib.services.ports import UnitOfWork

if TYPE_CHECKING:
    from chalicelib.documents.mig import Award

#: Bound on the ranges one load reads (a period of the whole platform; the index is read, not scanned).
MAX_RANGES = 100_000
_INVOICE_TYPES = ("07", "08")


class WinnerStore(Protocol):
    def winners(self, ubn: str, period: str) -> list[WinnerRecord]: ...
    def winner(self, ubn: str, period: str, number: str) -> WinnerRecord | None: ...
    def invoices(self, ubn: str, numbers: Sequence[str]) -> dict[str, InvoiceRecord]:
        """The stored invoices among ``numbers``, read by key."""
        ...


class PeriodRanges(Protocol):
    def ranges(self, period: str, track: str | None, limit: int) -> tuple[list[dict[str, Any]], bool]: ...


@dataclass(frozen=True)
class Refused:
    invoice_number: str
    seller_ubn: str
    reason: Refusal

    def view(self) -> dict[str, str]:
        zh, en = REFUSAL_TEXTS[self.reason]
        return {
            "invoice_number": self.invoice_number,
            "seller_ubn": self.seller_ubn,
            "reason": self.reason.value,
            "message": en,
            "message_zh": zh,
        }


@dataclass
class LoadReport:
    period: str
    source: str
    recorded: list[WinnerRecord] = field(default_factory=list)
    already_recorded: int = 0
    refused: list[Refused] = field(default_factory=list)
    candidates_read: int = 0


def period_of(code: str, field_name: str = "period") -> Period:
    return Period.parse(code, field_name)


def not_found() -> NotFound:
    return NotFound("WINNER_NOT_FOUND", "No such winning invoice in this period", "此期別查無此中獎發票")


class LotteryService:
    def __init__(
        self,
        *,
        store: WinnerStore,
        ranges: PeriodRanges,
        ledger: UnitOfWork,
        clock: Clock,
    ) -> None:
        self._store = store
        self._ranges = ranges
        self._ledger = ledger
        self._clock = clock

    # --- staff: loading a period ------------------------------------------------------------------

    def load_numbers(self, period: Period, numbers: WinningNumbers, *, actor: str) -> LoadReport:
        """Match the drawn numbers against every merchant's invoices of the period."""
        report = LoadReport(period.code, "numbers")
        wanted: dict[str, list[str]] = {}
        found, _ = self._ranges.ranges(period.code, None, MAX_RANGES)
        for item in found:
            if str(item.get("invoice_type")) not in _INVOICE_TYPES:
                continue
            track = str(item["track"])
            serials = candidates(int(item["begin"]), int(item["end"]), numbers)
            wanted.setdefault(str(item["ubn"]), []).extend(f"{track}{serial:08d}" for serial in serials)
        for ubn, invoice_numbers in sorted(wanted.items()):
            report.candidates_read += len(invoice_numbers)
            for number, record in sorted(self._store.invoices(ubn, invoice_numbers).items()):
                prize = prize_of(number[2:], numbers)
                if prize is None:  # pragma: no cover - candidates() lists winning serials only
                    continue
                amount = _amount(prize)
                self._take(report, ubn, number, record, prize, amount, actor)
        return report

    def load_e0504(self, period: Period, data: bytes, *, actor: str) -> LoadReport:
        """Record the winners an E0504 lists (schema-checked first: element, path and line on error)."""
        if not data:
            raise InvalidInput("MISSING_BODY", "Send the E0504 XML as the body", "請以請求內容上傳 E0504 XML", None)
        from chalicelib.documents.mig import parse_e0504

        award = parse_e0504(data)
        if award.main.year_month != period.code:
            raise InvalidInput(
                "PERIOD_MISMATCH",
                f"Main.YearMonth: the list is of period {award.main.year_month}, not {period.code}",
                f"Main.YearMonth：清冊期別為 {award.main.year_month}，不是 {period.code}",
                "Main.YearMonth",
            )
        report = LoadReport(period.code, "e0504")
        for ubn, rows in _rows_by_seller(award).items():
            records = self._store.invoices(ubn, [row[0] for row in rows])
            report.candidates_read += len(rows)
            for number, amount in rows:
                self._take(report, ubn, number, records.get(number), prize_for_amount(amount), amount, actor)
        return report

    def _take(
        self,
        report: LoadReport,
        ubn: str,
        number: str,
        record: InvoiceRecord | None,
        prize: Prize,
        amount: Decimal,
        actor: str,
    ) -> None:
        why = refusal(record, report.period)
        if why is not None or record is None:
            report.refused.append(Refused(number, ubn, why or Refusal.NOT_FOUND))
            return
        at = self._clock.now().isoformat()
        won = winner(ubn, report.period, record, prize, amount, source=report.source, at=at, actor=actor)
        fields = {
            "period": report.period,
            "prize": prize.value,
            "prize_amount": str(amount),
            "duty": won.duty.value,
        }
        entry = HistoryEntry(at=at, event="won", actor=actor, detail={"prize": prize.value, "amount": str(amount)})
        intents: list[Intent] = [
            PutWinner(won),
            AppendHistory(ubn, number, entry),
            PutOutboxItem(ubn, number, EVENT, {"email": "pending"}, at, fields),
        ]
        try:
            self._ledger.commit(intents)
        except AlreadyRecorded:
            report.already_recorded += 1
            return
        except (StateChanged, Contended):
            # The invoice changed meanwhile; loading again reads it as it is then.
            report.refused.append(Refused(number, ubn, Refusal.NOT_ISSUED))
            return
        report.recorded.append(won)

    # --- merchants: their winners -----------------------------------------------------------------

    def winners(self, ubn: str, period: Period) -> list[WinnerRecord]:
        return sorted(self._store.winners(ubn, period.code), key=lambda w: w.invoice_number)

    def winner(self, ubn: str, period: Period, number: str) -> WinnerRecord:
        found = self._store.winner(ubn, period.code, number) if len(number) <= 10 else None
        if found is None:
            raise not_found()
        return found

    def mark_delivered(self, ubn: str, period: Period, number: str, *, actor: str) -> WinnerRecord:
        """The winning proof was handed to the winner. Marking it again changes nothing."""
        found = self.winner(ubn, period, number)
        if found.status == DELIVERED:
            return found
        _require_delivery(found)
        at = self._clock.now().isoformat()
        entry = HistoryEntry(at=at, event="prize_delivered", actor=actor, detail={"period": period.code})
        # Marked by a concurrent request: what is stored now is the answer.
        with contextlib.suppress(StateChanged, Contended):
            self._ledger.commit(
                [MarkPrizeDelivered(ubn, period.code, number, entry), AppendHistory(ubn, number, entry)]
            )
        return self.winner(ubn, period, number)

    def proof_of(self, ubn: str, period: Period, number: str) -> tuple[WinnerRecord, InvoiceRecord]:
        """The winner and its invoice as it is now, for the winning proof (member carriers only)."""
        found = self.winner(ubn, period, number)
        _require_delivery(found)
        record = self._store.invoices(ubn, [number]).get(number)
        if record is None:  # pragma: no cover - a winner names a stored invoice
            raise not_found()
        return found, record


def _require_delivery(found: WinnerRecord) -> None:
    if found.duty is not Duty.DELIVER_PROOF:
        zh, en = DUTY_TEXTS[found.duty]
        raise RuleViolation("NOTHING_TO_DELIVER", en, zh, "invoice_number")


def _amount(prize: Prize) -> Decimal:
    from chalicelib.domain.lottery import RULES

    return RULES[prize].amount


def _rows_by_seller(award: Award) -> dict[str, list[tuple[str, Decimal]]]:
    rows: dict[str, list[tuple[str, Decimal]]] = {}
    for row in award.details:
        rows.setdefault(row.seller.identifier, []).append((row.invoice_number, row.prize_amount))
    return rows


def winner_view(record: WinnerRecord) -> dict[str, Any]:
    """A winner as the API and the console show it: prize, what to do, status, history."""
    from chalicelib.domain.lottery import prize_name

    zh, en = prize_name(record.prize)
    duty_zh, duty_en = DUTY_TEXTS[record.duty]
    base = f"/v1/lottery/{record.period}/{record.invoice_number}"
    links = {"invoice": f"/v1/invoices/{record.invoice_number}"}
    if record.duty is Duty.DELIVER_PROOF:
        links |= {"proof": f"{base}/proof", "delivered": f"{base}/delivered"}
    return {
        "invoice_number": record.invoice_number,
        "period": record.period,
        "prize": record.prize.value,
        "prize_name": en,
        "prize_name_zh": zh,
        "prize_amount": str(record.prize_amount),
        "duty": record.duty.value,
        "what_to_do": duty_en,
        "what_to_do_zh": duty_zh,
        "status": record.status,
        "buyer_mailed": record.buyer_mailed,
        "source": record.source,
        "loaded_at": record.loaded_at,
        "delivered_at": record.delivered_at,
        "delivered_by": record.delivered_by,
        "history": [entry.model_dump(mode="json") for entry in record.history],
        "links": links,
    }

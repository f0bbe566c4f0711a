"""The invoice lottery (中獎): staff load a period's winners, merchants see and deliver theirs.

Staff give either the drawn numbers (every merchant's B2C invoices of the period are matched) or the
MOF's E0504 winning-invoice list (validated against its schema first, one HeadBan per file). Each
winner is committed on its own with its outbox item (``lottery_won``: the ``invoice.won`` event, the
merchant's notice, the winner's mail) and a history entry on the invoice; a winner already recorded
is refused by the database, so loading the same list again records and tells nothing twice.

A period has one set of drawn numbers, stored with a version. Loading other numbers into a period
that has some is refused (``WINNING_NUMBERS_DIFFER``): a second, different load would add a second
set of winners. A wrong set is corrected by replacing it (:meth:`LotteryService.replace_numbers`):
winners that no longer win are withdrawn (history, ``invoice.win_withdrawn``, the buyer told where
the win was mailed), those winning another prize are revised, the others keep what was done. It is
refused as a whole (``PRIZE_DELIVERED``, nothing written) when it would withdraw or re-prize a winner
whose proof was delivered: that proof, printed with the prize, is in the winner's hands.

Matching stays cheap: the candidate numbers are computed from the period's allocated ranges (only
serials ending in a drawn 3-digit ending, plus the three exact numbers, can win), and only those
invoices are read, by key (merchant, number). A replacement reads the winners it may change the same
way: every winner the old numbers recorded is one of their candidates. A listed invoice that cannot
win (cancelled, B2B, another period, unknown) is reported as refused with the rule, and nobody is told.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.domain.clock import Clock
from chalicelib.domain.errors import Conflict, InvalidInput, NotFound, RuleViolation
from chalicelib.domain.invoice_record import HistoryEntry, InvoiceRecord
from chalicelib.domain.lottery import (
    DELIVERED,
    DUTY_TEXTS,
    PRIZE_TABLE,
    REFUSAL_TEXTS,
    RULES,
    WITHDRAWN,
    Duty,
    Match,
    PeriodNumbers,
    Prize,
    Refusal,
    WinnerRecord,
    WinningNumbers,
    candidates,
    plan_replacement,
    prize_name,
    prize_of,
    prize_types,
    refusal,
    revised,
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
    PutWinningNumbers,
    ReviseWinner,
    StateChanged,
    WithdrawWinner,
)
from chalicelib.services.outbox_lottery import EVENT, revised_event, withdrawn_event
from chalicelib.services.ports import UnitOfWork

if TYPE_CHECKING:
    from chalicelib.documents.mig import Award

#: Bound on the ranges one load reads (a period of the whole platform; the index is read, not scanned).
MAX_RANGES = 100_000
_INVOICE_TYPES = ("07", "08")
#: Delivered winners named in a refused replacement's message (all of them are in the count).
NAMED_IN_REFUSAL = 5
#: How many of a merchant's newest winners the dashboard's reminder reads.
RECENT_WINNERS = 200
WITHDRAWN_TEXT = (
    "本期中獎號碼已更正，此發票不再中獎；請勿交付中獎證明聯。",
    "The period's winning numbers were corrected and this invoice no longer wins: do not deliver a proof.",
)


class WinnerStore(Protocol):
    def winners(self, ubn: str, period: str) -> list[WinnerRecord]: ...
    def winner(self, ubn: str, period: str, number: str) -> WinnerRecord | None: ...
    def winners_at(self, ubn: str, period: str, numbers: Sequence[str]) -> dict[str, WinnerRecord]:
        """The winners of ``period`` among ``numbers``, read by key."""
        ...

    def numbers(self, period: str) -> PeriodNumbers | None: ...
    def recent_to_deliver(self, ubn: str, limit: int) -> list[WinnerRecord]:
        """Winners still to deliver among the merchant's ``limit`` newest winners."""
        ...

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


@dataclass(frozen=True)
class Found:
    """A winner a load found (recorded now or before), for the count per prize."""

    ubn: str
    invoice_number: str
    prize: Prize
    amount: Decimal


@dataclass
class LoadReport:
    period: str
    source: str
    recorded: list[WinnerRecord] = field(default_factory=list)
    already_recorded: int = 0
    refused: list[Refused] = field(default_factory=list)
    candidates_read: int = 0
    found: list[Found] = field(default_factory=list)
    #: The numbers' version after this load (numbers only); whether it replaced other numbers.
    numbers_version: int | None = None
    replaced: bool = False
    withdrawn: list[WinnerRecord] = field(default_factory=list)
    revised: list[tuple[WinnerRecord, WinnerRecord]] = field(default_factory=list)  # (before, after)
    kept: int = 0
    #: Winners the replacement meant to change that changed meanwhile (delivered by now): left as they are.
    changed_meanwhile: list[str] = field(default_factory=list)
    #: E0504: what each PrizeType code of the file stands for (read from its amounts).
    prize_types: dict[str, Prize] = field(default_factory=dict)

    def by_prize(self) -> list[tuple[Prize, Decimal, int]]:
        """How many winners were found per prize (prize, amount, count), highest prize first."""
        counted = Counter((f.prize, f.amount) for f in self.found)
        order = {rule.prize: index for index, rule in enumerate(PRIZE_TABLE)}
        return sorted(
            ((prize, amount, n) for (prize, amount), n in counted.items()),
            key=lambda row: (order.get(row[0], len(order)), -row[1]),
        )


def period_of(code: str, field_name: str = "period") -> Period:
    return Period.parse(code, field_name)


def not_found() -> NotFound:
    return NotFound("WINNER_NOT_FOUND", "No such winning invoice in this period", "此期別查無此中獎發票")


def numbers_differ(stored: PeriodNumbers) -> Conflict:
    return Conflict(
        "WINNING_NUMBERS_DIFFER",
        f"Period {stored.period} already has other winning numbers (loaded {stored.loaded_at} by "
        f"{stored.loaded_by}); to correct them, replace them (PUT /v1/admin/lottery/{stored.period}/numbers)",
        f"{stored.period} 期已載入不同的中獎號碼（{stored.loaded_at}，{stored.loaded_by}）；"
        f"如需更正，請以更正功能取代（PUT /v1/admin/lottery/{stored.period}/numbers）",
        "special",
    )


def _delivered_refusal(period: str, blocked: list[tuple[WinnerRecord, Prize | None]]) -> Conflict:
    named = ", ".join(w.invoice_number for w, _ in blocked[:NAMED_IN_REFUSAL])
    more = len(blocked) - NAMED_IN_REFUSAL
    tail_en = f" and {more} more" if more > 0 else ""
    tail_zh = f"等 {len(blocked)} 張" if more > 0 else ""
    return Conflict(
        "PRIZE_DELIVERED",
        f"Not replaced: the new numbers would withdraw or change the prize of {len(blocked)} winning "
        f"invoice(s) of period {period} whose winning proof was already delivered ({named}{tail_en}). "
        "Nothing was changed; a delivered proof is corrected with the winner and the tax office, not here.",
        f"未取代：新號碼將撤銷或變更 {period} 期 {len(blocked)} 張已交付中獎證明聯的中獎發票"
        f"（{named}{tail_zh}）的獎項。未做任何變更；已交付的證明聯須與中獎人及稽徵機關另行處理。",
        "special",
    )


@dataclass(frozen=True)
class _Range:
    ubn: str
    track: str
    begin: int
    end: int

    def numbers(self, drawn: WinningNumbers) -> list[str]:
        return [f"{self.track}{serial:08d}" for serial in candidates(self.begin, self.end, drawn)]


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

    def numbers(self, period: Period) -> PeriodNumbers | None:
        """The numbers the period was loaded with, if any."""
        return self._store.numbers(period.code)

    def load_numbers(self, period: Period, numbers: WinningNumbers, *, actor: str) -> LoadReport:
        """Match the drawn numbers against every merchant's invoices of the period. The first load
        stores them; the same numbers again record only what is missing; other numbers are refused."""
        stored = self._store.numbers(period.code)
        if stored is None:
            stored = self._first_numbers(period, numbers, actor)
        if not stored.winning().same_draw(numbers):
            raise numbers_differ(stored)
        report = LoadReport(period.code, "numbers", numbers_version=stored.version)
        matches = self._match(report, self._period_ranges(period), numbers)
        for match in matches:
            self._take(report, match, actor)
        return report

    def replace_numbers(self, period: Period, numbers: WinningNumbers, *, actor: str) -> LoadReport:
        """Correct a wrong load: the period's numbers become ``numbers`` and its winners follow.

        Refused as a whole, before anything is written, when a delivered winner would be withdrawn
        or given another prize. Replacing with the numbers stored finishes a replacement that was
        interrupted (every step is conditional, so none is done twice)."""
        stored = self._store.numbers(period.code)
        if stored is None:
            return self.load_numbers(period, numbers, actor=actor)
        report = LoadReport(period.code, "numbers", numbers_version=stored.version, replaced=True)
        ranges = self._period_ranges(period)
        matches = self._match(report, ranges, numbers)
        plan = plan_replacement(self._recorded(period, ranges, [*stored.every_draw(), numbers]), matches)
        if plan.blocked:
            raise _delivered_refusal(period.code, plan.blocked)
        if not stored.winning().same_draw(numbers):
            at = self._clock.now().isoformat()
            replacing = stored.replaced_by(numbers, at=at, actor=actor)
            try:
                self._ledger.commit([PutWinningNumbers(replacing)])
            except (StateChanged, AlreadyRecorded, Contended) as exc:
                raise Conflict(
                    "WINNING_NUMBERS_CHANGED",
                    "The period's numbers were changed meanwhile; read them again before replacing them",
                    "此期中獎號碼剛被他人變更，請重新讀取後再更正",
                    "special",
                ) from exc
            report.numbers_version = replacing.version
        version = report.numbers_version or stored.version
        for match in plan.add:
            self._take(report, match, actor)
        for before, match in [*plan.reinstate, *plan.change]:
            self._revise(report, before, match, actor, version)
        for gone in plan.withdraw:
            self._withdraw(report, gone, actor, version)
        report.kept = len(plan.keep)
        matched = _keys(matches)
        for same in [*plan.keep, *(w for w in plan.listed if (w.ubn, w.invoice_number) in matched)]:
            report.found.append(Found(same.ubn, same.invoice_number, same.prize, same.prize_amount))
        report.already_recorded += len([w for w in plan.listed if (w.ubn, w.invoice_number) in matched])
        return report

    def _first_numbers(self, period: Period, numbers: WinningNumbers, actor: str) -> PeriodNumbers:
        at = self._clock.now().isoformat()
        first = PeriodNumbers.of(period.code, numbers, version=1, at=at, actor=actor)
        try:
            self._ledger.commit([PutWinningNumbers(first)])
        except (StateChanged, AlreadyRecorded, Contended):
            # A concurrent first load stored its numbers: the same numbers go on, others are refused.
            stored = self._store.numbers(period.code)
            if stored is None:  # pragma: no cover - a refused first put means some numbers are stored
                raise
            return stored
        return first

    def _period_ranges(self, period: Period) -> list[_Range]:
        found, _ = self._ranges.ranges(period.code, None, MAX_RANGES)
        return [
            _Range(str(item["ubn"]), str(item["track"]), int(item["begin"]), int(item["end"]))
            for item in found
            if str(item.get("invoice_type")) in _INVOICE_TYPES
        ]

    def _match(self, report: LoadReport, ranges: list[_Range], numbers: WinningNumbers) -> list[Match]:
        """The invoices the numbers make win, in merchant and number order; the candidates that
        cannot win (cancelled, B2B) are reported as refused."""
        wanted: dict[str, list[str]] = {}
        for found in ranges:
            wanted.setdefault(found.ubn, []).extend(found.numbers(numbers))
        matches: list[Match] = []
        for ubn, invoice_numbers in sorted(wanted.items()):
            report.candidates_read += len(invoice_numbers)
            for number, record in sorted(self._store.invoices(ubn, invoice_numbers).items()):
                prize = prize_of(number[2:], numbers)
                if prize is None:  # pragma: no cover - candidates() lists winning serials only
                    continue
                why = refusal(record, report.period)
                if why is not None:
                    report.refused.append(Refused(number, ubn, why))
                    continue
                matches.append(Match(ubn, record, prize))
        return matches

    def _recorded(self, period: Period, ranges: list[_Range], drawn: Sequence[WinningNumbers]) -> list[WinnerRecord]:
        """Every winner recorded at a candidate of any of ``drawn`` (the old numbers and the new)."""
        keys: dict[str, set[str]] = {}
        for found in ranges:
            for numbers in drawn:
                keys.setdefault(found.ubn, set()).update(found.numbers(numbers))
        recorded: list[WinnerRecord] = []
        for ubn, numbers_of in sorted(keys.items()):
            recorded.extend(self._store.winners_at(ubn, period.code, sorted(numbers_of)).values())
        return recorded

    def load_e0504(self, period: Period, data: bytes, *, actor: str) -> LoadReport:
        """Record the winners an E0504 lists (schema-checked first: element, path and line on error;
        then every row's PrizeType checked against its PrizeAmount, before anything is written)."""
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
        codes = prize_types([(row.invoice_number, row.prize_type, row.prize_amount) for row in award.details])
        report = LoadReport(period.code, "e0504", prize_types=codes)
        for ubn, rows in _rows_by_seller(award).items():
            records = self._store.invoices(ubn, [row[0] for row in rows])
            report.candidates_read += len(rows)
            for number, code, amount in rows:
                record = records.get(number)
                why = refusal(record, report.period)
                if why is not None or record is None:
                    report.refused.append(Refused(number, ubn, why or Refusal.NOT_FOUND))
                    continue
                self._take(report, Match(ubn, record, codes[code]), actor, amount=amount)
        return report

    def _take(self, report: LoadReport, match: Match, actor: str, *, amount: Decimal | None = None) -> None:
        ubn, record, prize = match.ubn, match.record, match.prize
        number = record.invoice_number
        amount = RULES[prize].amount if amount is None else amount
        report.found.append(Found(ubn, number, prize, amount))
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
            report.found.pop()
            report.refused.append(Refused(number, ubn, Refusal.NOT_ISSUED))
            return
        report.recorded.append(won)

    def _revise(self, report: LoadReport, before: WinnerRecord, match: Match, actor: str, version: int) -> None:
        """A winner of the replaced numbers wins another prize now, or a withdrawn one wins again."""
        number = match.record.invoice_number
        amount = RULES[match.prize].amount
        at = self._clock.now().isoformat()
        after = revised(before, match.record, match.prize, amount, at=at, actor=actor)
        detail = {"prize": match.prize.value, "amount": str(amount), "was": before.prize.value, "version": version}
        if before.status == WITHDRAWN:
            detail["was"] = WITHDRAWN
        entry = HistoryEntry(at=at, event="prize_revised", actor=actor, detail=detail)
        event = revised_event(version)
        fields = {
            "period": report.period,
            "prize": match.prize.value,
            "prize_amount": str(amount),
            "duty": after.duty.value,
            "previous_prize": before.prize.value,
            "previous_status": before.status,
            "numbers_version": version,
        }
        try:
            self._ledger.commit(
                [
                    ReviseWinner(after, entry),
                    AppendHistory(match.ubn, number, entry),
                    PutOutboxItem(match.ubn, number, event, {"email": "pending"}, at, fields),
                ]
            )
        except (StateChanged, AlreadyRecorded, Contended):
            report.changed_meanwhile.append(number)
            return
        report.found.append(Found(match.ubn, number, match.prize, amount))
        report.revised.append((before, after))

    def _withdraw(self, report: LoadReport, gone: WinnerRecord, actor: str, version: int) -> None:
        at = self._clock.now().isoformat()
        detail = {"prize": gone.prize.value, "amount": str(gone.prize_amount), "version": version}
        entry = HistoryEntry(at=at, event="prize_withdrawn", actor=actor, detail=detail)
        event = withdrawn_event(version)
        fields = {
            "period": report.period,
            "prize": gone.prize.value,
            "prize_amount": str(gone.prize_amount),
            "duty": gone.duty.value,
            "buyer_mailed": gone.buyer_mailed,
            "numbers_version": version,
        }
        try:
            self._ledger.commit(
                [
                    WithdrawWinner(gone.ubn, gone.period, gone.invoice_number, entry),
                    AppendHistory(gone.ubn, gone.invoice_number, entry),
                    PutOutboxItem(gone.ubn, gone.invoice_number, event, {"email": "pending"}, at, fields),
                ]
            )
        except (StateChanged, AlreadyRecorded, Contended):
            # Delivered (or withdrawn) meanwhile: a delivered proof is never taken back.
            report.changed_meanwhile.append(gone.invoice_number)
            return
        report.withdrawn.append(gone)

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

    def to_deliver(self, ubn: str) -> list[WinnerRecord]:
        """The merchant's winners whose proof is still to deliver, latest periods first (among its
        newest winners: the dashboard's reminder, read in one bounded query)."""
        return self._store.recent_to_deliver(ubn, RECENT_WINNERS)

    def proof_of(self, ubn: str, period: Period, number: str) -> tuple[WinnerRecord, InvoiceRecord]:
        """The winner and its invoice as it is now, for the winning proof (member carriers only)."""
        found = self.winner(ubn, period, number)
        _require_delivery(found)
        record = self._store.invoices(ubn, [number]).get(number)
        if record is None:  # pragma: no cover - a winner names a stored invoice
            raise not_found()
        return found, record


def _require_delivery(found: WinnerRecord) -> None:
    if found.status == WITHDRAWN:
        raise RuleViolation(
            "PRIZE_WITHDRAWN",
            "This invoice no longer wins: the period's winning numbers were corrected. Do not deliver a proof.",
            "此發票已不再中獎：本期中獎號碼已更正，請勿交付中獎證明聯。",
            "invoice_number",
        )
    if found.duty is not Duty.DELIVER_PROOF:
        zh, en = DUTY_TEXTS[found.duty]
        raise RuleViolation("NOTHING_TO_DELIVER", en, zh, "invoice_number")


def _keys(matches: Sequence[Match]) -> set[tuple[str, str]]:
    return {match.key for match in matches}


def _rows_by_seller(award: Award) -> dict[str, list[tuple[str, str, Decimal]]]:
    rows: dict[str, list[tuple[str, str, Decimal]]] = {}
    for row in award.details:
        rows.setdefault(row.seller.identifier, []).append((row.invoice_number, row.prize_type, row.prize_amount))
    return rows


def winner_view(record: WinnerRecord) -> dict[str, Any]:
    """A winner as the API and the console show it: prize, what to do, status, history."""
    zh, en = prize_name(record.prize)
    duty_zh, duty_en = DUTY_TEXTS[record.duty]
    if record.status == WITHDRAWN:
        duty_zh, duty_en = WITHDRAWN_TEXT
    base = f"/v1/lottery/{record.period}/{record.invoice_number}"
    links = {"invoice": f"/v1/invoices/{record.invoice_number}"}
    if record.duty is Duty.DELIVER_PROOF and record.status != WITHDRAWN:
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
        "withdrawn_at": record.withdrawn_at,
        "history": [entry.model_dump(mode="json") for entry in record.history],
        "links": links,
    }

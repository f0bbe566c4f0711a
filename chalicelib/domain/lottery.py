"""The invoice lottery (統一發票給獎): the prize table, which invoices take part, and what the seller
of a winning invoice has to do. Pure rules; services/lottery.py applies them to stored invoices.

Prize table of 統一發票給獎辦法 (every amount NT$, an invoice wins only its highest prize):

========== =========== ==================================================================
特別獎      10,000,000  all 8 digits equal the special number
特獎         2,000,000  all 8 digits equal the grand number
頭獎           200,000  all 8 digits equal a first-prize number
二獎            40,000  the last 7 digits equal those of a first-prize number
三獎            10,000  the last 6 digits …
四獎             4,000  the last 5 digits …
五獎             1,000  the last 4 digits …
六獎               200  the last 3 digits …
增開六獎            200  the last 3 digits equal an extra sixth-prize number (3 digits)
========== =========== ==================================================================

Who takes part: B2C invoices (no buyer UBN) of the period, i.e. dated in its two months, that are
issued (a cancelled invoice never wins; a voided and re-issued one takes part as its current
version). An invoice with the buyer's UBN does not take part: a business's purchase is evidence
for its input tax, not a lottery ticket (統一發票給獎辦法: 載有買受人統一編號者不給獎).

What the seller does, by how the invoice reached the buyer (our reading of 統一發票給獎辦法 and the
MOF's member-carrier rules, reference §5 and §6):

- a member carrier (會員載具) of the seller: the seller prints the winning invoice's proof
  (中獎發票證明聯) and delivers it to the winner, who redeems it; the MOF's E0504 list names these;
- a printed proof: the buyer holds it and redeems it; nothing to deliver;
- a public carrier (手機條碼, 自然人憑證, 悠遊卡, 一卡通): the MOF tells the winner and pays (deposit, or a
  print at a kiosk); nothing to deliver;
- a donation (捐贈): the prize goes to the charity (受捐贈機關或團體) through the MOF; nothing to
  deliver, and the buyer is not told (donated numbers are shown masked, reference §5).

A period has one set of drawn numbers (:class:`PeriodNumbers`). Correcting a wrong set replaces it
(:func:`plan_replacement`): winners that no longer win are withdrawn, the others keep what was done.
The rule that keeps it safe: a winner whose proof was delivered is never withdrawn nor given another
prize, because the proof in the winner's hands prints the prize (see docs/lottery.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.domain.carriers import CarrierKind, carrier_kind
from chalicelib.domain.errors import InvalidInput, RuleViolation
from chalicelib.domain.invoice_record import HistoryEntry, InvoiceRecord

SERIAL_DIGITS = 8
SIXTH_DIGITS = 3
MAX_FIRST_PRIZES = 3
MAX_EXTRA_SIXTH = 5


class Prize(StrEnum):
    SPECIAL = "special"
    GRAND = "grand"
    FIRST = "first"
    SECOND = "second"
    THIRD = "third"
    FOURTH = "fourth"
    FIFTH = "fifth"
    SIXTH = "sixth"
    EXTRA_SIXTH = "extra_sixth"
    #: A prize of the MOF's list that is not in the table above (e.g. the cloud-invoice prizes).
    OTHER = "other"


@dataclass(frozen=True)
class PrizeRule:
    prize: Prize
    amount: Decimal
    name_zh: str
    name_en: str


#: Highest first: the first rule an invoice meets is the one prize it wins.
PRIZE_TABLE: tuple[PrizeRule, ...] = (
    PrizeRule(Prize.SPECIAL, Decimal(10_000_000), "特別獎", "Special prize"),
    PrizeRule(Prize.GRAND, Decimal(2_000_000), "特獎", "Grand prize"),
    PrizeRule(Prize.FIRST, Decimal(200_000), "頭獎", "First prize"),
    PrizeRule(Prize.SECOND, Decimal(40_000), "二獎", "Second prize"),
    PrizeRule(Prize.THIRD, Decimal(10_000), "三獎", "Third prize"),
    PrizeRule(Prize.FOURTH, Decimal(4_000), "四獎", "Fourth prize"),
    PrizeRule(Prize.FIFTH, Decimal(1_000), "五獎", "Fifth prize"),
    PrizeRule(Prize.SIXTH, Decimal(200), "六獎", "Sixth prize"),
    PrizeRule(Prize.EXTRA_SIXTH, Decimal(200), "增開六獎", "Extra sixth prize"),
)
RULES = {rule.prize: rule for rule in PRIZE_TABLE}
#: How many trailing digits of a first-prize number the second to sixth prizes need.
_TRAILING = {Prize.SECOND: 7, Prize.THIRD: 6, Prize.FOURTH: 5, Prize.FIFTH: 4, Prize.SIXTH: 3}

_EIGHT = re.compile(r"[0-9]{8}")
_THREE = re.compile(r"[0-9]{3}")


def prize_name(prize: Prize) -> tuple[str, str]:
    """(zh-TW, English) name of a prize."""
    rule = RULES.get(prize)
    return (rule.name_zh, rule.name_en) if rule else ("其他獎項", "Other prize")


def _invalid(field: str, en: str, zh: str) -> InvalidInput:
    return InvalidInput("INVALID_WINNING_NUMBER", en, zh, field)


def _eight(value: object, field: str) -> str:
    if not isinstance(value, str) or not _EIGHT.fullmatch(value):
        raise _invalid(field, "A winning number has 8 digits (0-9).", "中獎號碼須為 8 位數字。")
    return value


@dataclass(frozen=True)
class WinningNumbers:
    """One period's drawn numbers (8 digits; the extra sixth prizes 3 digits)."""

    special: str
    grand: str
    first: tuple[str, ...]
    extra_sixth: tuple[str, ...] = ()

    @classmethod
    def parse(cls, special: object, grand: object, first: object, extra_sixth: object = ()) -> WinningNumbers:
        """Check the numbers; ``INVALID_WINNING_NUMBER`` names the one that is wrong (``first[1]``)."""
        if not isinstance(first, Sequence) or isinstance(first, str) or not 1 <= len(first) <= MAX_FIRST_PRIZES:
            raise _invalid("first", "Give 1 to 3 first-prize numbers.", "頭獎號碼須有 1 至 3 組。")
        if not isinstance(extra_sixth, Sequence) or isinstance(extra_sixth, str) or len(extra_sixth) > MAX_EXTRA_SIXTH:
            raise _invalid(
                "extra_sixth",
                f"Give at most {MAX_EXTRA_SIXTH} extra sixth-prize numbers.",
                f"增開六獎號碼最多 {MAX_EXTRA_SIXTH} 組。",
            )
        extras = []
        for index, value in enumerate(extra_sixth):
            if not isinstance(value, str) or not _THREE.fullmatch(value):
                raise _invalid(
                    f"extra_sixth[{index}]",
                    "An extra sixth-prize number has 3 digits (0-9).",
                    "增開六獎號碼須為 3 位數字。",
                )
            extras.append(value)
        return cls(
            special=_eight(special, "special"),
            grand=_eight(grand, "grand"),
            first=tuple(_eight(value, f"first[{index}]") for index, value in enumerate(first)),
            extra_sixth=tuple(extras),
        )

    def same_draw(self, other: WinningNumbers) -> bool:
        """The same numbers, whatever order the first and extra sixth prizes were given in."""
        return (self.special, self.grand, sorted(self.first), sorted(self.extra_sixth)) == (
            other.special,
            other.grand,
            sorted(other.first),
            sorted(other.extra_sixth),
        )

    def suffixes(self) -> frozenset[str]:
        """The 3-digit endings every prize below the first needs: no other serial can win them."""
        return frozenset({number[-SIXTH_DIGITS:] for number in self.first} | set(self.extra_sixth))

    def as_dict(self) -> dict[str, Any]:
        return {
            "special": self.special,
            "grand": self.grand,
            "first": list(self.first),
            "extra_sixth": list(self.extra_sixth),
        }


def prize_of(serial: str, numbers: WinningNumbers) -> Prize | None:
    """The highest prize an invoice with the 8-digit ``serial`` (its number without the track) wins."""
    if serial == numbers.special:
        return Prize.SPECIAL
    if serial == numbers.grand:
        return Prize.GRAND
    best: Prize | None = None
    for first in numbers.first:
        if serial == first:
            return Prize.FIRST
        for prize, digits in _TRAILING.items():
            if serial[-digits:] == first[-digits:]:
                if best is None or _rank(prize) < _rank(best):
                    best = prize
                break
    if best is None and serial[-SIXTH_DIGITS:] in numbers.extra_sixth:
        best = Prize.EXTRA_SIXTH
    return best


def _rank(prize: Prize) -> int:
    return [rule.prize for rule in PRIZE_TABLE].index(prize)


def candidates(begin: int, end: int, numbers: WinningNumbers) -> list[int]:
    """The serials in ``begin..end`` (inclusive) that can win anything, in order: the three exact
    numbers and every serial ending in one of :meth:`WinningNumbers.suffixes`. A period's invoices
    are then read by key (merchant, number), never listed."""
    found = {int(n) for n in (numbers.special, numbers.grand, *numbers.first) if begin <= int(n) <= end}
    for suffix in numbers.suffixes():
        ending = int(suffix)
        start = begin - begin % 1000 + ending
        if start < begin:
            start += 1000
        found.update(range(start, end + 1, 1000))
    return sorted(found)


def prize_for_amount(amount: Decimal) -> Prize:
    """The prize an E0504 row's PrizeAmount stands for (NT$200 is read as the sixth prize)."""
    for rule in PRIZE_TABLE:
        if rule.amount == amount:
            return rule.prize
    return Prize.OTHER


# --- who takes part, and what the seller does ----------------------------------------------------------


class Refusal(StrEnum):
    """Why a listed invoice is not recorded as the merchant's winner."""

    NOT_FOUND = "not_found"
    CANCELLED = "cancelled"
    NOT_ISSUED = "not_issued"
    B2B = "b2b"
    OTHER_PERIOD = "other_period"
    OTHER_MERCHANT = "other_merchant"


REFUSAL_TEXTS: dict[Refusal, tuple[str, str]] = {
    Refusal.NOT_FOUND: ("平台上查無此發票。", "The platform has no such invoice."),
    Refusal.CANCELLED: (
        "發票已作廢，作廢的發票不得兌獎。",
        "The invoice was cancelled: a cancelled invoice never wins.",
    ),
    Refusal.NOT_ISSUED: ("發票目前不是開立狀態。", "The invoice is not in force now."),
    Refusal.B2B: (
        "發票載有買受人統一編號（B2B），依統一發票給獎辦法不給獎。",
        "The invoice carries the buyer's UBN (B2B): such invoices do not take part in the lottery.",
    ),
    Refusal.OTHER_PERIOD: ("發票不屬於此期別。", "The invoice does not belong to this period."),
    Refusal.OTHER_MERCHANT: (
        "中獎發票的賣方不是清冊的總機構統一編號。",
        "The invoice's seller is not the list's head office (HeadBan).",
    ),
}


class Duty(StrEnum):
    """What the seller of a winning invoice has to do."""

    DELIVER_PROOF = "deliver_proof"
    BUYER_HOLDS_PROOF = "buyer_holds_proof"
    PUBLIC_CARRIER = "public_carrier"
    DONATED = "donated"


DUTY_TEXTS: dict[Duty, tuple[str, str]] = {
    Duty.DELIVER_PROOF: (
        "會員載具發票：請列印中獎發票證明聯並交付（或寄送）給中獎人，交付後標記為已交付。",
        "Member-carrier invoice: print the winning proof and deliver (or mail) it to the winner, then mark it "
        "delivered.",
    ),
    Duty.BUYER_HOLDS_PROOF: (
        "已列印證明聯：買受人持原證明聯兌獎，您無須交付。",
        "A proof was printed at the sale: the buyer redeems it; nothing to deliver.",
    ),
    Duty.PUBLIC_CARRIER: (
        "共通性載具發票：由財政部通知中獎人並匯款或由中獎人自行列印兌領，您無須交付。",
        "Public-carrier invoice: the MOF tells the winner, who is paid by deposit or prints it at a kiosk; "
        "nothing to deliver.",
    ),
    Duty.DONATED: (
        "已捐贈發票：獎金歸受捐贈機關或團體，由財政部處理；您無須交付，亦不得通知買受人。",
        "Donated invoice: the prize goes to the charity through the MOF; nothing to deliver, and the buyer is "
        "not told.",
    ),
}


def refusal(record: InvoiceRecord | None, period: str) -> Refusal | None:
    """Why ``record`` cannot be a winner of ``period``, or None when it takes part."""
    if record is None:
        return Refusal.NOT_FOUND
    if record.status == "cancelled":
        return Refusal.CANCELLED
    if record.status != "issued":
        return Refusal.NOT_ISSUED
    if record.is_b2b:
        return Refusal.B2B
    if record.period != period:
        return Refusal.OTHER_PERIOD
    return None


def duty(record: InvoiceRecord) -> Duty:
    """What the seller does for this winning invoice (see the module's reading)."""
    if record.donation_code:
        return Duty.DONATED
    carrier = record.carrier or {}
    kind = carrier_kind(str(carrier.get("type") or "")) if carrier else None
    if kind is CarrierKind.MEMBER:
        return Duty.DELIVER_PROOF
    if kind is not None:
        return Duty.PUBLIC_CARRIER
    return Duty.BUYER_HOLDS_PROOF


def buyer_email(record: InvoiceRecord) -> str | None:
    """Where the winner is mailed: the consumer's address, never for a donated invoice."""
    if record.donation_code or record.is_b2b:
        return None
    email = record.buyer.get("email")
    return str(email) if email else None


def prize_mark(prize: Prize, amount: Decimal) -> str:
    """What the winning proof prints under 中獎: ``六獎 NT$200``."""
    return f"{prize_name(prize)[0]} NT${amount:,.0f}"


def unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


# --- the record kept per winning invoice -----------------------------------------------------------------

TO_DELIVER = "to_deliver"
DELIVERED = "delivered"
NOTHING_TO_DELIVER = "nothing_to_deliver"
#: The numbers it won by were replaced by numbers it does not win by (a corrected load).
WITHDRAWN = "withdrawn"
#: What a replacement may still withdraw or re-prize: nothing was handed over yet.
UNDELIVERED = (TO_DELIVER, NOTHING_TO_DELIVER)


class WinnerRecord(BaseModel):
    """One winning invoice of one merchant and period: the prize, what to do and what was done."""

    model_config = ConfigDict(extra="ignore")

    ubn: str
    period: str
    invoice_number: str
    prize: Prize
    prize_amount: Decimal
    source: str  # "numbers" (winning numbers entered by staff) or "e0504" (the MOF's list)
    duty: Duty
    status: str  # TO_DELIVER, DELIVERED or NOTHING_TO_DELIVER
    buyer_mailed: bool = False  # whether the winner is mailed (an address was known)
    loaded_at: str
    loaded_by: str
    delivered_at: str | None = None
    delivered_by: str | None = None
    withdrawn_at: str | None = None
    withdrawn_by: str | None = None
    history: list[HistoryEntry] = Field(default_factory=list)


def winner(
    ubn: str, period: str, record: InvoiceRecord, prize: Prize, amount: Decimal, *, source: str, at: str, actor: str
) -> WinnerRecord:
    """The winner record of an invoice that takes part (``refusal`` is None)."""
    what = duty(record)
    return WinnerRecord(
        ubn=ubn,
        period=period,
        invoice_number=record.invoice_number,
        prize=prize,
        prize_amount=amount,
        source=source,
        duty=what,
        status=status_for(what),
        buyer_mailed=buyer_email(record) is not None,
        loaded_at=at,
        loaded_by=actor,
        history=[HistoryEntry(at=at, event="won", actor=actor, detail={"prize": prize.value, "source": source})],
    )


def status_for(what: Duty) -> str:
    return TO_DELIVER if what is Duty.DELIVER_PROOF else NOTHING_TO_DELIVER


def revised(
    stored: WinnerRecord, record: InvoiceRecord, prize: Prize, amount: Decimal, *, at: str, actor: str
) -> WinnerRecord:
    """``stored`` winning again, by replaced numbers, with ``prize`` (a new prize, or back from
    withdrawn). What to do is read again from the invoice as it is now (a re-issue may have moved it
    onto a member carrier); what was done before is cleared, for nothing was delivered."""
    what = duty(record)
    return stored.model_copy(
        update={
            "prize": prize,
            "prize_amount": amount,
            "source": "numbers",
            "duty": what,
            "status": status_for(what),
            "buyer_mailed": buyer_email(record) is not None,
            "withdrawn_at": None,
            "withdrawn_by": None,
            "loaded_at": at,
            "loaded_by": actor,
        }
    )


# --- the period's drawn numbers, and replacing them ------------------------------------------------------


class PeriodNumbers(BaseModel):
    """The numbers a period was loaded with; ``version`` counts the loads (1, then one per replacement).

    ``earlier`` keeps every set it replaced: a winner recorded by any of them is found again by key
    (among their candidates), even after a replacement that stopped halfway."""

    model_config = ConfigDict(extra="ignore")

    period: str
    special: str
    grand: str
    first: list[str]
    extra_sixth: list[str] = Field(default_factory=list)
    version: int
    loaded_at: str
    loaded_by: str
    earlier: list[dict[str, Any]] = Field(default_factory=list)

    @classmethod
    def of(cls, period: str, numbers: WinningNumbers, *, version: int, at: str, actor: str) -> PeriodNumbers:
        return cls(period=period, version=version, loaded_at=at, loaded_by=actor, **numbers.as_dict())

    def winning(self) -> WinningNumbers:
        return WinningNumbers(self.special, self.grand, tuple(self.first), tuple(self.extra_sixth))

    def replaced_by(self, numbers: WinningNumbers, *, at: str, actor: str) -> PeriodNumbers:
        replaced = {**self.winning().as_dict(), "version": self.version, "loaded_at": self.loaded_at}
        return PeriodNumbers(
            period=self.period,
            version=self.version + 1,
            loaded_at=at,
            loaded_by=actor,
            earlier=[*self.earlier, replaced],
            **numbers.as_dict(),
        )

    def every_draw(self) -> list[WinningNumbers]:
        """These numbers and every set they replaced."""
        older = [
            WinningNumbers(d["special"], d["grand"], tuple(d["first"]), tuple(d.get("extra_sixth") or ()))
            for d in self.earlier
        ]
        return [self.winning(), *older]


@dataclass(frozen=True)
class Match:
    """An invoice that takes part and that the numbers make win ``prize``."""

    ubn: str
    record: InvoiceRecord
    prize: Prize

    @property
    def key(self) -> tuple[str, str]:
        return self.ubn, self.record.invoice_number


@dataclass
class Replacement:
    """What replacing a period's numbers does to each winner already recorded there."""

    add: list[Match] = field(default_factory=list)  # wins now, never recorded
    reinstate: list[tuple[WinnerRecord, Match]] = field(default_factory=list)  # withdrawn before, wins again
    change: list[tuple[WinnerRecord, Match]] = field(default_factory=list)  # wins another prize now
    withdraw: list[WinnerRecord] = field(default_factory=list)  # no longer wins
    keep: list[WinnerRecord] = field(default_factory=list)  # same prize: delivered or not, left as it is
    listed: list[WinnerRecord] = field(default_factory=list)  # from the MOF's E0504: numbers never touch it
    #: Delivered winners the new numbers would withdraw (prize None) or give another prize: refused.
    blocked: list[tuple[WinnerRecord, Prize | None]] = field(default_factory=list)


def _key(winner: WinnerRecord) -> tuple[str, str]:
    return winner.ubn, winner.invoice_number


def plan_replacement(stored: Iterable[WinnerRecord], matches: Iterable[Match]) -> Replacement:
    """Compare the winners recorded in a period with what the replacing numbers make win.

    Only winners the drawn numbers recorded (``source == "numbers"``) move: an E0504 row is the MOF's
    own list and stays until the MOF corrects it. A delivered winner is ``blocked`` whenever the new
    numbers would withdraw it or give it another prize (its printed proof names the prize); the
    caller then refuses the whole replacement, so nothing is half-corrected."""
    plan = Replacement()
    winning = {match.key: match for match in matches}
    known = {_key(winner): winner for winner in stored}
    for key, match in sorted(winning.items()):
        if key not in known:
            plan.add.append(match)
    for key, winner in sorted(known.items()):
        found = winning.get(key)
        if winner.source != "numbers":
            plan.listed.append(winner)
        elif winner.status == WITHDRAWN:
            if found is not None:
                plan.reinstate.append((winner, found))
        elif found is not None and found.prize is winner.prize:
            plan.keep.append(winner)
        elif winner.status == DELIVERED:
            plan.blocked.append((winner, found.prize if found else None))
        elif found is not None:
            plan.change.append((winner, found))
        else:
            plan.withdraw.append(winner)
    return plan


# --- E0504 PrizeType ---------------------------------------------------------------------------------------


def prize_types(rows: Sequence[tuple[str, str, Decimal]]) -> dict[str, Prize]:
    """What each PrizeType code of one E0504 stands for, read from the rows' PrizeAmount; every row
    with the same code must agree (``PRIZE_TYPE_MISMATCH`` naming the row), else the file is refused.

    ``rows`` are (InvoiceNumber, PrizeType, PrizeAmount) in the file's order.

    ⚠️ unverified: neither the XSD (``xsd:string``, maxLength 1) nor the domain reference lists the
    PrizeType codes, and no source at hand does. So no code is given a meaning of its own: the amount
    is the truth (the prize table of 統一發票給獎辦法), and a code is taken to mean, within a file,
    the prize of the first row that uses it. Two rows giving one code two different amounts cannot
    both be right, so the whole list is refused rather than recording either guess. (The sixth and
    extra sixth prizes are both NT$200: a code for either reads as 六獎, the amount being the same.)"""
    seen: dict[str, tuple[int, str, Decimal]] = {}
    for index, (number, code, amount) in enumerate(rows):
        first = seen.setdefault(code, (index, number, amount))
        if first[2] != amount:
            where = f"Details.PrizeInvoice[{index}]"
            then = f"Details.PrizeInvoice[{first[0]}] ({first[1]})"
            raise RuleViolation(
                "PRIZE_TYPE_MISMATCH",
                f"{where} ({number}): PrizeType {code} stands for NT${first[2]:,.0f} in {then}, "
                f"but this row's PrizeAmount is NT${amount:,.0f}: one code cannot mean two prizes",
                f"{where}（{number}）：中獎獎別 PrizeType {code} 在 {then} 為 NT${first[2]:,.0f}，"
                f"此列的中獎金額 PrizeAmount 卻為 NT${amount:,.0f}；同一獎別代碼不得代表兩種獎項",
                f"{where}.PrizeType",
            )
    return {code: prize_for_amount(amount) for code, (_, _, amount) in seen.items()}

"""Outbox items of winning invoices (中獎, services/lottery.py): ``lottery_won`` under the invoice.

Written in the winner's own transaction, so a list loaded twice writes (and tells) nothing twice.
Before its step the item becomes the ``invoice.won`` event (webhooks, and the merchant's inbox via
services/notifications.py). Its one step, ``email``, mails the winner once (leased) where the
invoice has the buyer's address; a donated invoice's buyer is never told (reference §5).

A replacement of the period's numbers (version ``v``) writes ``lottery_revised#v`` (another prize, or
winning again: ``invoice.won`` again, and the winner mailed the corrected prize) or
``lottery_withdrawn#v`` (``invoice.win_withdrawn``; the buyer mailed the correction only where the
win itself was mailed). The version keeps each correction's item and event apart from the first.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from chalicelib.domain import events as types
from chalicelib.domain.events import Event, parse_time
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.domain.lottery import DUTY_TEXTS, Duty, Prize, buyer_email, prize_mark, prize_name
from chalicelib.domain.period import Period
from chalicelib.services.invoice_documents import mail_message, one_line, shown_number
from chalicelib.services.outbox_run import OutboxParts, Run

EVENT = "lottery_won"
REVISED = "lottery_revised#"
WITHDRAWN = "lottery_withdrawn#"
STEP_ORDER = ("email",)


def revised_event(version: int) -> str:
    return f"{REVISED}{version}"


def withdrawn_event(version: int) -> str:
    return f"{WITHDRAWN}{version}"


def won_event_data(item: dict[str, Any]) -> dict[str, Any]:
    """What ``invoice.won`` carries: the winner as the API lists it, with what to do."""
    prize = Prize(str(item["prize"]))
    what = Duty(str(item["duty"]))
    zh, en = prize_name(prize)
    duty_zh, duty_en = DUTY_TEXTS[what]
    return {
        "invoice_number": item["invoice_number"],
        "period": item["period"],
        "prize": prize.value,
        "prize_name_zh": zh,
        "prize_name_en": en,
        "prize_amount": str(item["prize_amount"]),
        "duty": what.value,
        "duty_zh": duty_zh,
        "duty_en": duty_en,
        "links": {"winners": f"/v1/lottery/{item['period']}"},
    }


def withdrawn_event_data(item: dict[str, Any]) -> dict[str, Any]:
    """What ``invoice.win_withdrawn`` carries: the prize the invoice no longer wins."""
    prize = Prize(str(item["prize"]))
    zh, en = prize_name(prize)
    return {
        "invoice_number": item["invoice_number"],
        "period": item["period"],
        "prize": prize.value,
        "prize_name_zh": zh,
        "prize_name_en": en,
        "prize_amount": str(item["prize_amount"]),
        "numbers_version": item.get("numbers_version"),
        "links": {"winners": f"/v1/lottery/{item['period']}"},
    }


def withdrawal_email(
    record: InvoiceRecord, *, prize: Prize, amount: Decimal, to: str, sender: str, sent_at: Any
) -> bytes:
    """The correction to a buyer who was told the invoice won: it does not, after all."""
    seller = one_line(str(record.seller["name"]))
    number = shown_number(record)
    period = Period.parse(record.period)
    zh_name, en_name = prize_name(prize)
    zh = [
        "您好：",
        "",
        f"先前通知您在{seller}取得的電子發票 {number}（{period.label_zh}）中{zh_name} NT${amount:,.0f}，",
        "因本期中獎號碼經稽徵機關更正，此發票並未中獎，先前的通知作廢。造成不便，敬請見諒。",
        "",
        "本信由電子發票平台自動寄出。",
    ]
    en = [
        "Hello,",
        "",
        f"We told you that your e-invoice {number} from {seller} (period {period.code}) won the",
        f"{en_name} (NT${amount:,.0f}). The period's winning numbers have since been corrected by the",
        "tax office: this invoice does not win, and the earlier notice no longer holds. We are sorry.",
        "",
        "This message was sent automatically by the e-invoice platform.",
    ]
    message = mail_message(
        f"{seller} 發票中獎更正通知 {number} / Correction: e-invoice {number} did not win",
        seller=seller,
        to=to,
        sender=sender,
        sent_at=sent_at,
        reply_to=None,
        text="\n".join([*zh, "", "—" * 20, "", *en]) + "\n",
    )
    return message.as_bytes()


def winner_email(
    record: InvoiceRecord,
    *,
    prize: Prize,
    amount: Decimal,
    what: Duty,
    to: str,
    sender: str,
    sent_at: Any,
    corrected: bool = False,
) -> bytes:
    """The winner's notice (zh-TW, then English): which invoice, which prize, how it is redeemed.
    ``corrected``: the period's numbers were corrected, and this is the prize it wins now."""
    seller = one_line(str(record.seller["name"]))
    number = shown_number(record)
    mark = prize_mark(prize, amount)
    _, name_en = prize_name(prize)
    how_zh = {
        Duty.DELIVER_PROOF: f"{seller}將列印中獎發票證明聯交付給您，請持證明聯兌領獎金。",
        Duty.BUYER_HOLDS_PROOF: "請持您的電子發票證明聯兌領獎金。",
        Duty.PUBLIC_CARRIER: "財政部將另行通知您兌領方式（匯款或自行列印兌領）。",
    }.get(what, "")
    how_en = {
        Duty.DELIVER_PROOF: f"{seller} will print the winning proof and deliver it to you; redeem the prize with it.",
        Duty.BUYER_HOLDS_PROOF: "Redeem the prize with the proof of e-invoice you were given.",
        Duty.PUBLIC_CARRIER: "The MOF will tell you how to redeem it (deposit, or a print at a kiosk).",
    }.get(what, "")
    period = Period.parse(record.period)
    zh = [
        "您好：",
        "",
        f"您在{seller}（統一編號 {record.seller['ubn']}）取得的電子發票中獎了。",
        "",
        f"發票號碼：{number}",
        f"發票期別：{period.label_zh}",
        f"中獎獎別：{mark}",
        *(["（本期中獎號碼經更正，以此通知為準。）"] if corrected else []),
        how_zh,
        "",
        "本信由電子發票平台自動寄出。",
    ]
    en = [
        "Hello,",
        "",
        f"Your e-invoice from {seller} (UBN {record.seller['ubn']}) won a prize.",
        "",
        f"Invoice number: {number}",
        f"Period:         {period.code}",
        f"Prize:          {name_en} NT${amount:,.0f}",
        *(
            ["(The period's winning numbers were corrected: this notice replaces any earlier one.)"]
            if corrected
            else []
        ),
        how_en,
        "",
        "This message was sent automatically by the e-invoice platform.",
    ]
    subject_zh, subject_en = ("中獎更正通知", "prize corrected") if corrected else ("中獎通知", "won a prize")
    message = mail_message(
        f"{seller} 發票{subject_zh} {number} / E-invoice {number} {subject_en}",
        seller=seller,
        to=to,
        sender=sender,
        sent_at=sent_at,
        reply_to=None,
        text="\n".join([*zh, "", "—" * 20, "", *en]) + "\n",
    )
    return message.as_bytes()


class WinnerRun(Run):
    def events(self) -> list[Event]:
        created = parse_time(str(self.item["created_at"]))
        source = f"invoice:{self.number}:won:{self.item['period']}"
        if self.event.startswith(WITHDRAWN):
            source = f"invoice:{self.number}:win_withdrawn:{self.item['period']}:v{self.item['numbers_version']}"
            return [Event(self.ubn, types.INVOICE_WIN_WITHDRAWN, source, created, withdrawn_event_data(self.item))]
        data = won_event_data(self.item)
        if self.event.startswith(REVISED):
            source += f":v{self.item['numbers_version']}"
            data |= {"corrected": True, "previous_prize": self.item.get("previous_prize")}
        return [Event(self.ubn, types.INVOICE_WON, source, created, data)]

    def do(self, step: str) -> bool:
        record = self.parts.invoices.get(self.ubn, self.number)
        to = buyer_email(record) if record is not None else None
        withdrawn = self.event.startswith(WITHDRAWN)
        if record is None or to is None or (withdrawn and not self.item.get("buyer_mailed")):
            self.skip("email", "no buyer address, donated (the buyer is not told), or the win was never mailed")
            return True
        prize, amount = Prize(str(self.item["prize"])), Decimal(str(self.item["prize_amount"]))
        if withdrawn:
            raw = withdrawal_email(
                record, prize=prize, amount=amount, to=to, sender=self.parts.mail_from, sent_at=self.now()
            )
            return self.send_mail("email", to, raw)
        raw = winner_email(
            record,
            prize=prize,
            amount=amount,
            what=Duty(str(self.item["duty"])),
            to=to,
            sender=self.parts.mail_from,
            sent_at=self.now(),
            corrected=self.event.startswith(REVISED),
        )
        return self.send_mail("email", to, raw)


class WinnerKind:
    def handles(self, event: str) -> bool:
        return event == EVENT or event.startswith((REVISED, WITHDRAWN))

    def order(self, event: str) -> tuple[str, ...]:
        return STEP_ORDER

    def start(self, parts: OutboxParts, ubn: str, number: str, event: str, item: dict[str, Any]) -> Run:
        return WinnerRun(parts, ubn, number, event, item)

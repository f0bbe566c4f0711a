"""Outbox items of winning invoices (中獎, services/lottery.py): ``lottery_won`` under the invoice.

Written in the winner's own transaction, so a list loaded twice writes (and tells) nothing twice.
Before its step the item becomes the ``invoice.won`` event (webhooks, and the merchant's inbox via
services/notifications.py). Its one step, ``email``, mails the winner once (leased) where the
invoice has the buyer's address; a donated invoice's buyer is never told (reference §5).
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
STEP_ORDER = ("email",)


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


def winner_email(
    record: InvoiceRecord, *, prize: Prize, amount: Decimal, what: Duty, to: str, sender: str, sent_at: Any
) -> bytes:
    """The winner's notice (zh-TW, then English): which invoice, which prize, how it is redeemed."""
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
        how_en,
        "",
        "This message was sent automatically by the e-invoice platform.",
    ]
    message = mail_message(
        f"{seller} 發票中獎通知 {number} / E-invoice {number} won a prize",
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
        return [Event(self.ubn, types.INVOICE_WON, source, created, won_event_data(self.item))]

    def do(self, step: str) -> bool:
        record = self.parts.invoices.get(self.ubn, self.number)
        to = buyer_email(record) if record is not None else None
        if record is None or to is None:
            self.skip("email", "no buyer address, or donated (the buyer is not told)")
            return True
        raw = winner_email(
            record,
            prize=Prize(str(self.item["prize"])),
            amount=Decimal(str(self.item["prize_amount"])),
            what=Duty(str(self.item["duty"])),
            to=to,
            sender=self.parts.mail_from,
            sent_at=self.now(),
        )
        return self.send_mail("email", to, raw)


class WinnerKind:
    def handles(self, event: str) -> bool:
        return event == EVENT

    def order(self, event: str) -> tuple[str, ...]:
        return STEP_ORDER

    def start(self, parts: OutboxParts, ubn: str, number: str, event: str, item: dict[str, Any]) -> Run:
        return WinnerRun(parts, ubn, number, event, item)

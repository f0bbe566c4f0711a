"""The merchant's notification inbox (通知): stored once per subject, and mailed or texted per kind.

Every notice goes to the inbox; mail and SMS follow the merchant's per-kind settings
(``MerchantSettings.notifications``). Some notices already have their own mail, sent with its own
once-only guard (the low-stock mail is a leased outbox step, the period notices are claimed per
period): those callers pass ``channels=("sms",)`` and the notifier leaves the mail to them.

A mail or SMS that fails is recorded on the notice (``channels``) and never loses the inbox entry.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.domain import events as types
from chalicelib.domain import notifications as kinds
from chalicelib.domain.clock import Clock
from chalicelib.domain.errors import InvalidInput, NotFound
from chalicelib.domain.events import Event
from chalicelib.domain.notifications import NOTICE_KINDS, Notice
from chalicelib.observability import logger
from chalicelib.services.merchant_profile import notice_settings
from chalicelib.services.notices import notice_address, notice_mobile
from chalicelib.services.ports import Mailer, SmsSender

ALL_CHANNELS = ("email", "sms")


class NoticeStore(Protocol):
    def add(self, notice: Notice, at: Any) -> str | None: ...
    def get(self, ubn: str, notice_id: str) -> dict[str, Any] | None: ...
    def set_channels(self, ubn: str, notice_id: str, channels: dict[str, Any]) -> None: ...
    def mark_read(self, ubn: str, notice_id: str, at: Any) -> bool: ...
    def unread(self, ubn: str) -> int: ...
    def page(
        self,
        ubn: str,
        *,
        limit: int,
        start: dict[str, Any] | None = None,
        unread_only: bool = False,
        kind: str | None = None,
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]: ...


class Profiles(Protocol):
    def get_profile(self, ubn: str) -> dict[str, Any] | None: ...


class Cursors(Protocol):
    def encode(self, owner: str, last_key: Mapping[str, Any] | None) -> str | None: ...
    def decode(self, owner: str, cursor: str | None) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class NoticePage:
    items: list[dict[str, Any]]
    next_cursor: str | None
    unread_count: int


def not_found() -> NotFound:
    return NotFound("NOTIFICATION_NOT_FOUND", "No such notification", "查無此通知")


def check_kind(kind: str | None) -> str | None:
    if kind is not None and kind not in NOTICE_KINDS:
        raise InvalidInput(
            "UNKNOWN_NOTICE_KIND",
            f"No notice kind {kind[:40]!r}; the kinds are: {', '.join(NOTICE_KINDS)}",
            f"無此通知類別 {kind[:40]!r}；可用類別：{'、'.join(NOTICE_KINDS)}",
            "kind",
        )
    return kind


class Notifier:
    def __init__(
        self, *, store: NoticeStore, profiles: Profiles, mailer: Mailer, sms: SmsSender, clock: Clock, cursors: Cursors
    ) -> None:
        self._store = store
        self._profiles = profiles
        self._mailer = mailer
        self._sms = sms
        self._clock = clock
        self._cursors = cursors

    # --- telling ------------------------------------------------------------------------------------

    def notify(self, notice: Notice, *, channels: Sequence[str] = ALL_CHANNELS) -> bool:
        """Store ``notice`` (once per key) and send it on ``channels`` as the settings ask; True if new."""
        notice_id = self._store.add(notice, self._clock.now())
        if notice_id is None:
            return False
        profile = self._profiles.get_profile(notice.ubn) or {}
        wanted = notice_settings(profile).channels(notice.kind)
        results: dict[str, Any] = {}
        for channel in ALL_CHANNELS:
            if channel not in channels:
                results[channel] = {"status": "elsewhere"}  # the caller's own mail, with its own guard
            elif not getattr(wanted, channel):
                results[channel] = {"status": "off"}
            else:
                results[channel] = self._send(notice, channel, profile)
        self._store.set_channels(notice.ubn, notice_id, results)
        return True

    def _send(self, notice: Notice, channel: str, profile: Mapping[str, Any]) -> dict[str, Any]:
        to = notice_address(profile) if channel == "email" else notice_mobile(profile)
        if not to:
            return {"status": "no_address"}
        try:
            if channel == "email":
                body = f"{notice.body_zh}\n\n{notice.body_en}\n"
                message_id = self._mailer.send(to, f"{notice.title_zh} / {notice.title_en}", body)
            else:
                message_id = self._sms.send(to, f"{notice.title_zh}：{notice.body_zh}"[:140])
        except Exception as error:  # the inbox entry stands; the failure is shown on it
            logger.warning("notice not sent", extra={"channel": channel, "kind": notice.kind, "error": str(error)})
            return {"status": "failed", "error": f"{type(error).__name__}"[:100]}
        return {"status": "sent", "to": to, "message_id": message_id}

    # --- reading ------------------------------------------------------------------------------------

    def page(
        self, ubn: str, *, limit: int, cursor: str | None, unread_only: bool = False, kind: str | None = None
    ) -> NoticePage:
        owner = f"MERCHANT#{ubn}"
        items, last = self._store.page(
            ubn,
            limit=limit,
            start=self._cursors.decode(owner, cursor),
            unread_only=unread_only,
            kind=check_kind(kind),
        )
        return NoticePage(items, self._cursors.encode(owner, last), self._store.unread(ubn))

    def unread(self, ubn: str) -> int:
        return self._store.unread(ubn)

    def get(self, ubn: str, notice_id: str) -> dict[str, Any]:
        item = self._store.get(ubn, notice_id) if notice_id.startswith("ntc_") and len(notice_id) < 64 else None
        if item is None:
            raise not_found()
        return item

    def mark_read(self, ubn: str, notice_id: str) -> dict[str, Any]:
        self.get(ubn, notice_id)  # 404 for an id of nobody's or another merchant's
        self._store.mark_read(ubn, notice_id, self._clock.now())
        return self.get(ubn, notice_id)

    def mark_all_read(self, ubn: str) -> int:
        """Mark every unread notice read; how many this call marked."""
        marked = 0
        start: dict[str, Any] | None = None
        while True:
            items, start = self._store.page(ubn, limit=100, start=start, unread_only=True)
            now = self._clock.now()
            marked += sum(self._store.mark_read(ubn, str(item["id"]), now) for item in items)
            if start is None:
                return marked


# --- events that are notices ------------------------------------------------------------------------


def _low_stock(event: Event) -> Notice:
    d = event.data
    return Notice(
        event.ubn,
        kinds.LOW_STOCK,
        event.id,
        "字軌號碼即將用完",
        "Invoice numbers running low",
        f"開立通路 {d.get('channel')} 在 {d.get('period')} 期僅剩 {d.get('remaining')} 個號碼，請取號並指派字軌本。",
        f"Channel {d.get('channel')} has {d.get('remaining')} numbers left for period {d.get('period')}: "
        "activate and assign more booklets.",
        "/console/tracks",
        dict(d),
    )


def _delivery_failed(event: Event) -> Notice:
    d = event.data
    number = d.get("invoice_number")
    to = ", ".join(d.get("recipients") or [])
    return Notice(
        event.ubn,
        kinds.DELIVERY_FAILED,
        event.id,
        f"發票 {number} 通知寄送失敗",
        f"Invoice {number} could not be delivered",
        f"寄給 {to} 的發票通知被退回（{d.get('reason')}）。請確認買受人信箱後重新寄送。",
        f"The invoice mail to {to} bounced ({d.get('reason')}). Check the buyer's address and send it again.",
        f"/console/invoices/{number}",
        dict(d),
    )


def _payment_recorded(event: Event) -> Notice:
    invoice = event.data.get("invoice") or {}
    number = invoice.get("invoice_number")
    order = event.data.get("order_id")
    total = (invoice.get("amounts") or {}).get("total_amount")
    return Notice(
        event.ubn,
        kinds.PAYMENT_RECORDED,
        event.id,
        f"訂單 {order} 已付款，發票 {number} 已開立",
        f"Order {order} paid: invoice {number} issued",
        f"訂單 {order} 收到付款，已自動開立發票 {number}（總計 {total} 元）。",
        f"Payment for order {order} was recorded and invoice {number} (NT${total}) was issued.",
        f"/console/invoices/{number}",
        {"order_id": order, "invoice_number": number, "pending_id": event.data.get("pending_id")},
    )


def _announcement(event: Event) -> Notice:
    d = event.data
    return Notice(
        event.ubn,
        kinds.ANNOUNCEMENT,
        event.id,
        f"系統公告：{d.get('title_zh')}",
        f"Announcement: {d.get('title_en')}",
        str(d.get("body_zh") or ""),
        str(d.get("body_en") or ""),
        f"/console/announcements/{d.get('id')}",
        {"announcement_id": d.get("id"), "kind": d.get("kind")},
    )


def _lottery_won(event: Event) -> Notice:
    d = event.data
    number, period = d.get("invoice_number"), d.get("period")
    return Notice(
        event.ubn,
        kinds.LOTTERY_WON,
        event.id,
        f"發票 {number} 中獎：{d.get('prize_name_zh')} NT${d.get('prize_amount')}",
        f"Invoice {number} won: {d.get('prize_name_en')} NT${d.get('prize_amount')}",
        str(d.get("duty_zh") or ""),
        str(d.get("duty_en") or ""),
        f"/console/lottery/{period}",
        {"invoice_number": number, "period": period, "prize": d.get("prize"), "duty": d.get("duty")},
    )


def _exchange(event: Event) -> Notice:
    """An exchange step the merchant's counterpart took (or, ``exchange.received``, an invoice sent to it)."""
    d = event.data
    number, ident = d.get("invoice_number"), d.get("id")
    desc_zh, desc_en = types.EVENT_DESCRIPTIONS[event.type]
    seller, buyer = d.get("seller") or {}, d.get("buyer") or {}
    told_buyer = event.ubn == buyer.get("ubn")  # then the seller took the step, else the buyer
    other, role_zh = (seller, "賣方") if told_buyer else (buyer, "買方")
    reason = d.get("reason")
    body_zh = f"{role_zh} {other.get('name')}（{other.get('ubn')}）：發票 {number}，金額 NT${d.get('total_amount')}。"
    body_en = f"{other.get('name')} ({other.get('ubn')}): invoice {number}, NT${d.get('total_amount')}."
    if reason:
        body_zh += f"原因：{reason}。"
        body_en += f" Reason: {reason}."
    if d.get("deadline") and event.type in _EXCHANGE_TO_ANSWER:
        body_zh += f"請於 {str(d['deadline'])[:10]} 前處理。"
        body_en += f" Answer by {str(d['deadline'])[:10]}."
    return Notice(
        event.ubn,
        kinds.EXCHANGE,
        event.id,
        f"{desc_zh}：{number}",
        f"{desc_en}: {number}",
        body_zh,
        body_en,
        f"/console/exchange/{ident}",
        {"exchange_id": ident, "invoice_number": number, "state": d.get("state")},
    )


# The events that ask the merchant told for an answer (the others only report one).
_EXCHANGE_TO_ANSWER = frozenset(
    {
        types.EXCHANGE_RECEIVED,
        types.EXCHANGE_REJECTED,
        types.EXCHANGE_CANCEL_REQUESTED,
        types.EXCHANGE_ALLOWANCE_RECEIVED,
        types.EXCHANGE_ALLOWANCE_CANCEL_REQUESTED,
    }
)


def _exchange_allowance(event: Event) -> Notice:
    """A step the other party of an exchanged allowance (交換折讓) took, or one it issued to you."""
    d = event.data
    number, ident = d.get("allowance_number"), d.get("id")
    desc_zh, desc_en = types.EVENT_DESCRIPTIONS[event.type]
    seller, buyer = d.get("seller") or {}, d.get("buyer") or {}
    told_buyer = event.ubn == buyer.get("ubn")
    other, role_zh = (seller, "賣方") if told_buyer else (buyer, "買方")
    invoice = d.get("invoice_number")
    body_zh = (
        f"{role_zh} {other.get('name')}（{other.get('ubn')}）：折讓證明單 {number}（發票 {invoice}），"
        f"金額 NT${d.get('total_amount')}。"
    )
    body_en = (
        f"{other.get('name')} ({other.get('ubn')}): allowance {number} on invoice {invoice}, "
        f"NT${d.get('total_amount')}."
    )
    if d.get("reason"):
        body_zh += f"原因：{d['reason']}。"
        body_en += f" Reason: {d['reason']}."
    if d.get("deadline") and event.type in _EXCHANGE_TO_ANSWER:
        body_zh += f"請於 {str(d['deadline'])[:10]} 前處理。"
        body_en += f" Answer by {str(d['deadline'])[:10]}."
    return Notice(
        event.ubn,
        kinds.EXCHANGE,
        event.id,
        f"{desc_zh}：{number}",
        f"{desc_en}: {number}",
        body_zh,
        body_en,
        f"/console/exchange/allowances/{ident}",
        {"exchange_allowance_id": ident, "allowance_number": number, "state": d.get("state")},
    )


def _win_withdrawn(event: Event) -> Notice:
    d = event.data
    number, period = d.get("invoice_number"), d.get("period")
    return Notice(
        event.ubn,
        kinds.LOTTERY_WON,
        event.id,
        f"發票 {number} 中獎已撤銷（中獎號碼更正）",
        f"Invoice {number}: win withdrawn (winning numbers corrected)",
        f"{period} 期中獎號碼經稽徵機關更正，發票 {number} 不再中{d.get('prize_name_zh')}；請勿交付中獎證明聯。",
        f"The winning numbers of period {period} were corrected: invoice {number} no longer wins the "
        f"{d.get('prize_name_en')}. Do not deliver a winning proof.",
        f"/console/lottery/{period}",
        {"invoice_number": number, "period": period, "prize": d.get("prize"), "withdrawn": True},
    )


_FROM_EVENTS = {
    types.TRACK_LOW_STOCK: (_low_stock, ("sms",)),  # the outbox's own step mails it
    types.DELIVERY_FAILED: (_delivery_failed, ALL_CHANNELS),
    types.PENDING_INVOICE_ISSUED: (_payment_recorded, ALL_CHANNELS),
    types.ANNOUNCEMENT_PUBLISHED: (_announcement, ALL_CHANNELS),
    types.INVOICE_WON: (_lottery_won, ALL_CHANNELS),
    **{
        event_type: (_exchange, ALL_CHANNELS)
        for event_type in (
            types.EXCHANGE_RECEIVED,
            types.EXCHANGE_CONFIRMED,
            types.EXCHANGE_REJECTED,
            types.EXCHANGE_REJECTION_CONFIRMED,
            types.EXCHANGE_CANCEL_REQUESTED,
            types.EXCHANGE_CANCELLED,
        )
    },
    types.INVOICE_WIN_WITHDRAWN: (_win_withdrawn, ALL_CHANNELS),
    **{
        event_type: (_exchange_allowance, ALL_CHANNELS)
        for event_type in (
            types.EXCHANGE_ALLOWANCE_RECEIVED,
            types.EXCHANGE_ALLOWANCE_CONFIRMED,
            types.EXCHANGE_ALLOWANCE_CANCEL_REQUESTED,
            types.EXCHANGE_ALLOWANCE_CANCELLED,
        )
    },
}


class NoticeSubscriber:
    """Turns the events a merchant should be told about into notices (the event id is the key)."""

    def __init__(self, notifier: Notifier) -> None:
        self._notifier = notifier

    def on_event(self, event: Event) -> None:
        found = _FROM_EVENTS.get(event.type)
        if found is not None:
            build, channels = found
            self._notifier.notify(build(event), channels=channels)

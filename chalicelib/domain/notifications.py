"""Notices to a merchant (通知): what its inbox holds, and which kinds may also go by mail or SMS.

Each notice has a ``key`` naming what it is about (the period and kind of a reminder, the event it
came from), so the second attempt to tell the merchant the same thing finds it and adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LOW_STOCK = "low_stock"
PERIOD_CLOSED = "period_closed"
FILING_REMINDER = "filing_reminder"
FILING_OVERDUE = "filing_overdue"
PAYMENT_RECORDED = "payment_recorded"
DELIVERY_FAILED = "delivery_failed"
WEBHOOK_DISABLED = "webhook_disabled"
ANNOUNCEMENT = "announcement"
LOTTERY_WON = "lottery_won"
EXCHANGE = "exchange"

#: Every kind, in the order the settings page lists them, with its label (zh-TW, English).
NOTICE_KINDS: dict[str, tuple[str, str]] = {
    LOW_STOCK: ("字軌號碼即將用完", "Invoice numbers running low"),
    PERIOD_CLOSED: ("期別結束、申報資料已備妥", "Period closed, return ready"),
    FILING_REMINDER: ("申報期限提醒", "Filing reminders"),
    FILING_OVERDUE: ("逾期未申報", "Filing overdue"),
    PAYMENT_RECORDED: ("收到付款、已開立發票", "Payment recorded"),
    DELIVERY_FAILED: ("發票寄送失敗", "Invoice delivery failed"),
    WEBHOOK_DISABLED: ("Webhook 端點已停用", "Webhook endpoint disabled"),
    ANNOUNCEMENT: ("系統公告", "Announcements"),
    LOTTERY_WON: ("發票中獎", "Winning invoices"),
    EXCHANGE: ("B2B 交換發票待辦", "B2B exchange to-dos"),
}


@dataclass(frozen=True)
class Notice:
    """One thing to tell one merchant, in both languages; ``link`` is a console path to act on it."""

    ubn: str
    kind: str
    key: str
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    link: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in NOTICE_KINDS:
            raise ValueError(f"unknown notice kind {self.kind!r}")

"""The low-stock warning: a channel is running out of invoice numbers for the period."""

from __future__ import annotations

from chalicelib.adapters.dynamo_merchants import DynamoMerchants
from chalicelib.services.notices import notice_address
from chalicelib.services.ports import AuditLog, Mailer
from chalicelib.services.principal import merchant_owner

_SUBJECT = "電子發票字軌號碼即將用罄 / Invoice numbers running low"
_BODY = (
    "您的開立通路 {channel} 在 {period} 期僅剩 {remaining} 個發票號碼。請於平台取號並指派字軌本，以免無法開立發票。\n"
    "Channel {channel} has {remaining} invoice numbers left for period {period}. "
    "Activate and assign more booklets so issuing does not stop.\n"
)


class LowStockMailer:
    """Mails the merchant's verified email receiver (or its contact email)."""

    def __init__(self, *, merchants: DynamoMerchants, mailer: Mailer, audit: AuditLog) -> None:
        self._merchants = merchants
        self._mailer = mailer
        self._audit = audit

    def __call__(self, ubn: str, period: str, channel: str, remaining: int) -> None:
        to = notice_address(self._merchants.get_profile(ubn) or {})
        if to:
            self._mailer.send(str(to), _SUBJECT, _BODY.format(channel=channel, period=period, remaining=remaining))
        self._audit.record(
            merchant_owner(ubn),
            "low_stock_warning",
            "system",
            {"channel": channel, "period": period, "remaining": remaining},
        )

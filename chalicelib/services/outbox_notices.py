"""Outbox items that belong to no invoice.

- ``low_stock`` (services/low_stock.py): the merchant's low-stock notice, named by the invoice whose
  issue queued it, with one leased ``email`` step to the merchant's notice address. Only after it
  was sent is the channel's counter marked notified; a notice made out of date by newly assigned
  booklets is skipped.
- ``event:<type>``: an item written only to carry an event, with the one step ``publish``.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.events import OUTBOX_EVENT_PREFIX, Event
from chalicelib.domain.notifications import LOW_STOCK
from chalicelib.domain.outbox_item import DONE, result_attribute
from chalicelib.services import low_stock
from chalicelib.services.event_sources import EVENT_STEP, low_stock_event, standalone_event
from chalicelib.services.low_stock import LowStockNotices
from chalicelib.services.merchant_profile import notice_settings
from chalicelib.services.notices import notice_address
from chalicelib.services.outbox_run import OutboxParts, Run, stamp


class LowStockRun(Run):
    def events(self) -> list[Event]:
        return [low_stock_event(self.item)]

    def do(self, step: str) -> bool:
        notices = self._notices()
        if not notices.current(self.item):
            self.skip("email", "more booklets were assigned since; a new notice follows if still low")
            return True
        profile = self.profile()
        if not notice_settings(profile).channels(LOW_STOCK).email:
            self.skip("email", "turned off in the merchant's notification settings")
            return True
        to = notice_address(profile)
        if not to:
            self.skip("email", "no address")
            return True
        raw = low_stock.notice_email(self.item, to=to, sender=self.parts.mail_from, sent_at=self.now())
        return self.send_mail("email", to, raw)

    def complete(self) -> None:
        """Mark the counter once the mail went out. Here, not in the step: if this fails, the item
        stays pending with its email done, and the retry marks the counter without mailing again.
        Nothing is shown elsewhere: the result stays on the item, which belongs to no invoice."""
        sent = (self.item.get(result_attribute("email")) or {}).get("status") == "sent"
        if self.state("email") == DONE and sent:
            self._notices().sent(self.item)

    def _notices(self) -> LowStockNotices:
        if self.parts.low_stock_notices is None:
            raise RuntimeError("this outbox processor is not wired for low-stock notices")
        return self.parts.low_stock_notices


class EventRun(Run):
    def events(self) -> list[Event]:
        return [standalone_event(self.item)]

    def do(self, step: str) -> bool:
        # Published before the steps; the step only records that it was.
        self.done(step, {"at": stamp(self.now())})
        return True


class LowStockKind:
    def handles(self, event: str) -> bool:
        return event == low_stock.EVENT

    def order(self, event: str) -> tuple[str, ...]:
        return low_stock.STEP_ORDER

    def start(self, parts: OutboxParts, ubn: str, number: str, event: str, item: dict[str, Any]) -> Run:
        return LowStockRun(parts, ubn, number, event, item)


class EventKind:
    def handles(self, event: str) -> bool:
        return event.startswith(OUTBOX_EVENT_PREFIX)

    def order(self, event: str) -> tuple[str, ...]:
        return (EVENT_STEP,)

    def start(self, parts: OutboxParts, ubn: str, number: str, event: str, item: dict[str, Any]) -> Run:
        return EventRun(parts, ubn, number, event, item)

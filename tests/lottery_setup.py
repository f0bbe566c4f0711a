"""A period of its own for each lottery test, and a merchant issuing in it.

A period has one set of winning numbers (a second, different load is refused), and every test run
shares one DynamoDB Local: tests that load numbers into the current period would refuse each other's.
So each test takes a period nobody else uses (far ahead, one after the other within a run), gives its
merchant a range there, and issues through the invoicing service with its clock set inside that
period, as the demo seed issues into the previous one (infra/seed_period.py). The API, the console
and the browser then work on that period like on any other."""

from __future__ import annotations

import itertools
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import pytest

from chalicelib.adapters.dynamo_tracks import DynamoTracks
from chalicelib.api import deps
from chalicelib.domain.invoice_number import TrackRange, range_id
from chalicelib.domain.invoice_type import InvoiceType
from chalicelib.domain.period import TAIWAN_TZ, Period
from tests.api.test_invoices import QR_KEY

# ROC years 300-899 (AD 2211-2810): no other test issues there. A random start keeps two runs against
# one long-lived database apart too; within a run the periods follow one another.
_PERIODS = itertools.count(secrets.randbelow(3000))
RANGE_SIZE = 300


def fresh_period() -> Period:
    n = next(_PERIODS) % 3600
    return Period(300 + n // 6, (n % 6 + 1) * 2)


@dataclass(frozen=True)
class FixedClock:
    at: datetime

    def now(self) -> datetime:
        return self.at


@dataclass
class Shop:
    """A merchant ready to issue in ``period`` (one range of RANGE_SIZE numbers on its online channel)."""

    ubn: str
    password: str
    headers: dict[str, str]
    period: Period
    track: str
    begin: int

    @property
    def moment(self) -> datetime:
        """When its invoices are issued: ten days into the period, Taiwan time."""
        return datetime.combine(self.period.first_day + timedelta(days=10), time(10, 30), tzinfo=TAIWAN_TZ)

    def issue(self, **body: Any) -> dict[str, Any]:
        """An invoice issued now in the period, as the API shows the record (``items`` default to a latte)."""
        payload = {
            "items": [{"description": "拿鐵咖啡", "quantity": "2", "unit": "杯", "unit_price": "65", "tax_type": "1"}],
            "prices_include_tax": True,
            "print": False,
            **body,
        }
        issued = deps.invoicing_service(moment=FixedClock(self.moment)).issue(
            self.ubn, payload, channel="online", actor="test"
        )
        return issued.record.model_dump(mode="json")

    def _within(self, change: Callable[[Any], Any]) -> Any:
        # Cancelling and voiding are judged by the rules clock: a minute after the issue, in the period.
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(deps, "rules_clock", lambda: FixedClock(self.moment + timedelta(minutes=1)))
            return change(deps.lifecycle_service())

    def cancel(self, number: str) -> None:
        self._within(lambda service: service.cancel(self.ubn, number, reason="退貨", actor="test"))

    def void(self, number: str, replacement: Mapping[str, Any]) -> None:
        self._within(
            lambda service: service.void(self.ubn, number, reason="改存會員載具", replacement=replacement, actor="test")
        )


def shop_in(period: Period, client: Any, new_merchant: Callable[..., Any]) -> Shop:
    """A new merchant with its QR key set and a range of ``period`` active on its online channel."""
    merchant = new_merchant()
    client.http.patch(
        "/v1/merchant",
        headers={"Content-Type": "application/json", **merchant.headers},
        body=json.dumps({"settings": {"qr_aes_key": QR_KEY}}),
    )
    track = secrets.choice("ABCDEFGHJK") + secrets.choice("LMNPQRSTUV")
    begin = secrets.randbelow(1_000_000 - 10) * 50
    shop = Shop(merchant.ubn, merchant.password, merchant.headers, period, track, begin)
    allocated = TrackRange.create(period, InvoiceType.GENERAL, track, f"{begin:08d}", f"{begin + RANGE_SIZE - 1:08d}")
    tracks = DynamoTracks()
    assert tracks.allocate(merchant.ubn, allocated, status="active", source="test", actor="test", at=shop.moment)
    booklets = [b for b in tracks.items(merchant.ubn, "BOOKLET", period.code) if b["range_id"] == range_id(allocated)]
    tracks.assign(merchant.ubn, period.code, "07", "online", booklets)
    return shop

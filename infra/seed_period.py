"""A finished previous period for the demo merchant, so `make run` shows a filing with real figures.

Written through the services, as a merchant would have written it, with a clock set back into that
period: three invoices (two to consumers, one to a business), an allowance on the business one, and
an invoice the demo merchant received from a seeded supplier. The period has ended, so it can be
submitted, paid and its return PDF downloaded at once.

Idempotent: the period is seeded only while the demo merchant has issued nothing in it, and every
write carries a fixed idempotency key, so a second `make run` (or one after a crash midway) adds
nothing that is already there.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import Any

from chalicelib.adapters.dynamo_invoices import DynamoInvoices
from chalicelib.adapters.dynamo_merchants import DynamoMerchants
from chalicelib.adapters.dynamo_tax_registry import DynamoTaxRegistry
from chalicelib.adapters.dynamo_tracks import DynamoTracks
from chalicelib.api import deps
from chalicelib.domain.invoice_number import TrackRange, range_id
from chalicelib.domain.invoice_type import InvoiceType
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.domain.tax_registry import RegistrationStatus, TaxRegistration
from chalicelib.security.passwords import hash_password

SUPPLIER_UBN = "88000005"  # fictitious, with a valid check digit
SUPPLIER_NAME = "示範供應商 Demo Supplier"
ADDRESS = "新北市板橋區中山路一段 161 號"
ACTOR = "seed"


class _PastClock:
    """The services' clock, set to one moment of the previous period."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


def _consumer(description: str, price: str, quantity: str = "1") -> dict[str, Any]:
    return {
        "buyer": {"ubn": None, "name": "消費者"},
        "carrier": {"type": "3J0002", "id": "/DEMO+01"},
        "donation_code": None,
        "print": False,
        "items": [{"description": description, "quantity": quantity, "unit_price": price, "tax_type": "1"}],
        "prices_include_tax": True,
    }


def _business(buyer_ubn: str, buyer_name: str, description: str, price: str) -> dict[str, Any]:
    return {
        "buyer": {"ubn": buyer_ubn, "name": buyer_name},
        "print": True,
        "items": [{"description": description, "quantity": "1", "unit_price": price, "tax_type": "1"}],
        "prices_include_tax": True,
    }


def registered_at(now: datetime) -> datetime:
    """When the demo merchant is recorded as registered: before the seeded period began."""
    return _moment(Period.from_date(now.astimezone(TAIWAN_TZ).date()).previous(), 0)


def _moment(period: Period, day: int) -> datetime:
    return datetime.combine(period.first_day + timedelta(days=day), time(10, 30), tzinfo=TAIWAN_TZ)


def _tracks(ubn: str, period: Period, track: str, at: datetime) -> None:
    """One booklet-sized range of the period, active, on the online channel (no-op when loaded)."""
    track_range = TrackRange.create(period, InvoiceType.GENERAL, track, "20000000", "20000049")
    tracks = DynamoTracks()
    if tracks.allocate(ubn, track_range, status="active", source=ACTOR, actor=ACTOR, at=at):
        booklets = [b for b in tracks.items(ubn, "BOOKLET", period.code) if b["range_id"] == range_id(track_range)]
        tracks.assign(ubn, period.code, "07", "online", booklets)


def _supplier(at: datetime) -> None:
    registry = DynamoTaxRegistry()
    if registry.get(SUPPLIER_UBN) is None:
        registry.put(
            TaxRegistration(ubn=SUPPLIER_UBN, name=SUPPLIER_NAME, address=ADDRESS, status=RegistrationStatus.ACTIVE),
            actor=ACTOR,
            at=at,
        )
    merchants = DynamoMerchants()
    if merchants.get_profile(SUPPLIER_UBN) is None:
        import secrets

        merchants.create_account(
            {
                "ubn": SUPPLIER_UBN,
                "name": SUPPLIER_NAME,
                "address": ADDRESS,
                "settings": {"email_buyer": False, "sms_buyer": False, "qr_aes_key": secrets.token_hex(16).upper()},
                "signup_method": "tax_office",
                "status": "active",
                "created_at": at.isoformat(),
            },
            # Nobody signs in as the supplier: it only issued the demo merchant's purchase.
            password_hash=hash_password(secrets.token_urlsafe(24)),
            must_change_password=False,
            at=at,
        )


def _issue(ubn: str, body: dict[str, Any], at: datetime, key: str) -> str:
    service = deps.invoicing_service(moment=_PastClock(at))
    issued = service.issue(ubn, body, channel="online", actor=ACTOR, idempotency_key=key)
    return str(issued.record.invoice_number)


def seed_previous_period(demo_ubn: str, demo_name: str, now: datetime) -> Iterator[str]:
    period = Period.from_date(now.astimezone(TAIWAN_TZ).date()).previous()
    totals = DynamoInvoices().totals(demo_ubn, period.code, "07") or {}
    if int(totals.get("invoice_count") or 0) > 0:
        yield f"  Filing     period {period.code} already has the demo's invoices: submit it at /console/filings"
        return
    start = _moment(period, 0)
    _supplier(start)
    _tracks(demo_ubn, period, "AA", start)
    _tracks(SUPPLIER_UBN, period, "AC", start)
    _issue(demo_ubn, _consumer("拿鐵咖啡", "65", "2"), _moment(period, 4), "seed-prev-1")
    _issue(demo_ubn, _consumer("手沖咖啡豆 半磅", "450"), _moment(period, 11), "seed-prev-2")
    b2b = _issue(
        demo_ubn,
        _business(SUPPLIER_UBN, SUPPLIER_NAME, "辦公室咖啡機租賃", "12600"),
        _moment(period, 18),
        "seed-prev-3",
    )
    # The purchase: the supplier's invoice to the demo merchant (進項, on the return's boxes 32/33).
    _issue(SUPPLIER_UBN, _business(demo_ubn, demo_name, "咖啡生豆 20 公斤", "8400"), _moment(period, 20), "seed-prev-4")
    allowance_at = _moment(period, 30)
    allowances = deps.allowance_service(moment=_PastClock(allowance_at))
    item = {
        "original_invoice_number": b2b,
        "description": "機器故障停用三日折讓",
        "quantity": "1",
        "unit_price": "1050",
        "tax_type": "1",
    }
    allowances.issue(demo_ubn, {"items": [item]}, actor=ACTOR, idempotency_key="seed-prev-allowance")
    yield (
        f"  Filing     period {period.code} ({period.label_zh}) has ended with 3 invoices, 1 allowance and "
        "1 received invoice: submit, pay and download its return at /console/filings"
    )

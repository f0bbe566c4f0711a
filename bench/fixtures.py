"""A merchant ready to issue, built straight through the adapters (benchmarks measure issuing, not set-up)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from chalicelib.adapters.dynamo_merchants import DynamoMerchants
from chalicelib.adapters.dynamo_tax_registry import DynamoTaxRegistry
from chalicelib.adapters.dynamo_tracks import DynamoTracks, range_id
from chalicelib.domain.invoice_number import TrackRange
from chalicelib.domain.invoice_type import InvoiceType
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.domain.tax_registry import RegistrationStatus, TaxRegistration
from chalicelib.domain.ubn import is_valid_ubn
from chalicelib.security.passwords import hash_password
from chalicelib.security.tokens import Role

QR_KEY = "FE05F029154F6AA67A78B338ED2F6601"


def new_ubn() -> str:
    while True:
        stem = f"{secrets.randbelow(10**7):07d}"
        for last in "0123456789":
            if is_valid_ubn(stem + last):
                return stem + last


def ready_merchant(booklets: int) -> tuple[str, str]:
    """(ubn, bearer token) of a merchant with ``booklets`` booklets on the online channel."""
    from chalicelib.api import deps

    ubn, now = new_ubn(), datetime.now(UTC)
    DynamoTaxRegistry().put(
        TaxRegistration(ubn=ubn, name="效能測試商行", address="臺北市", status=RegistrationStatus.ACTIVE),
        actor="bench",
        at=now,
    )
    DynamoMerchants().create_account(
        {
            "ubn": ubn,
            "name": "效能測試商行",
            "address": "臺北市中正區",
            "receivers": {},
            "signup_method": "bench",
            "status": "active",
            "settings": {"qr_aes_key": QR_KEY, "email_buyer": False, "low_stock_threshold": 0},
        },
        password_hash=hash_password("Bench-password-123"),
        must_change_password=False,
        at=now,
    )
    period = Period.from_date(datetime.now(TAIWAN_TZ).date())
    begin = secrets.randbelow(1_000_000 - booklets) * 50
    track = secrets.choice("ABCDEFGHJK") + secrets.choice("LMNPQRSTUV")
    track_range = TrackRange.create(
        period, InvoiceType.GENERAL, track, f"{begin:08d}", f"{begin + booklets * 50 - 1:08d}"
    )
    tracks = DynamoTracks()
    tracks.allocate(ubn, track_range, status="active", source="bench", actor="bench", at=now)
    items = [b for b in tracks.items(ubn, "BOOKLET", period.code) if b["range_id"] == range_id(track_range)]
    tracks.assign(ubn, period.code, "07", "online", sorted(items, key=lambda b: int(b["begin"])))
    pair = deps.auth_service().start_session(Role.MERCHANT, ubn, scopes=frozenset())
    return ubn, pair.access_token

"""Demo data for `make run`, so a newcomer can sign in and work at once.

Idempotent: what exists is kept, so `make run` again finds the same accounts. Generated secrets
live under .data/ (git-ignored) and are printed at start-up.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from chalicelib.adapters.clock import SystemClock
from chalicelib.adapters.dynamo_accounts import DynamoCredentials
from chalicelib.adapters.dynamo_merchants import DynamoMerchants
from chalicelib.adapters.dynamo_tax_registry import DynamoTaxRegistry
from chalicelib.adapters.dynamo_tracks import DynamoTracks
from chalicelib.domain.errors import Conflict
from chalicelib.domain.invoice_number import TrackRange, range_id
from chalicelib.domain.invoice_type import InvoiceType
from chalicelib.domain.merchant import DEFAULT_LOW_STOCK_THRESHOLD
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.domain.tax_registry import RegistrationStatus, TaxRegistration
from chalicelib.security.passwords import hash_password
from chalicelib.services.staff import create_staff
from infra.demo_cert import DEMO_CERT_NAME, DEMO_CERT_UBN, ensure_demo_certificate
from infra.local import LocalStack
from infra.seed_period import registered_at, seed_previous_period

DEMO_UBN = "12345675"
DEMO_NAME = "示範商行 Demo Shop"
DEMO_EMAIL = "demo-merchant@example.com"
STAFF_USERNAME = "staff"


def remembered_secret(path: Path, length: int = 18) -> str:
    """A generated secret, kept under .data/ so restarts keep working logins."""
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = "Demo-" + secrets.token_urlsafe(length)
    path.write_text(value, encoding="ascii")
    path.chmod(0o600)
    return value


def seed_demo(stack: LocalStack, data_dir: Path) -> Iterator[str]:
    del stack  # the environment already points every adapter at it
    clock = SystemClock()
    credentials = DynamoCredentials()

    staff_password = remembered_secret(data_dir / "staff-password")
    with contextlib.suppress(Conflict):  # created by an earlier run
        create_staff(STAFF_USERNAME, staff_password, credentials=credentials, clock=clock)
    yield (
        f"  Staff      username {STAFF_USERNAME!r}, password {staff_password!r}"
        "  (console /staff/login, API /v1/auth/staff/login)"
    )

    registry = DynamoTaxRegistry()
    if registry.get(DEMO_UBN) is None:
        registry.put(
            TaxRegistration(
                ubn=DEMO_UBN,
                name=DEMO_NAME,
                address="臺北市中正區重慶南路一段 2 號",
                status=RegistrationStatus.ACTIVE,
            ),
            actor="seed",
            at=clock.now(),
        )
    merchant_password = remembered_secret(data_dir / "demo-merchant-password")
    merchants = DynamoMerchants()
    if merchants.get_profile(DEMO_UBN) is None:
        now = clock.now()
        merchants.create_account(
            {
                "ubn": DEMO_UBN,
                "name": DEMO_NAME,
                "address": "臺北市中正區重慶南路一段 2 號",
                "person_in_charge": "王大明",
                "phone": "02-2345-6789",
                "email": DEMO_EMAIL,
                "receivers": {"email": {"address": DEMO_EMAIL, "verified": True, "verified_at": now.isoformat()}},
                "settings": {
                    "email_buyer": True,
                    "sms_buyer": False,
                    "low_stock_threshold": DEFAULT_LOW_STOCK_THRESHOLD,
                    "qr_aes_key": "FE05F029154F6AA67A78B338ED2F6601",
                },
                "signup_method": "tax_office",
                "status": "active",
                # Registered before the previous period, which is seeded as finished (seed_period.py).
                "created_at": registered_at(now).isoformat(),
            },
            password_hash=hash_password(merchant_password),
            must_change_password=False,
            at=now,
        )
    yield f"  Merchant   UBN {DEMO_UBN!r}, password {merchant_password!r}  (console /login, API POST /v1/auth/login)"
    yield from _seed_certificate_demo(registry, merchants, data_dir, clock.now())
    yield from _seed_tracks(clock.now())
    yield from seed_previous_period(DEMO_UBN, DEMO_NAME, clock.now())


def _seed_certificate_demo(
    registry: DynamoTaxRegistry, merchants: DynamoMerchants, data_dir: Path, now: datetime
) -> Iterator[str]:
    """A second registered business, without an account, that signs up with the demo 工商憑證."""
    if registry.get(DEMO_CERT_UBN) is None:
        registry.put(
            TaxRegistration(
                ubn=DEMO_CERT_UBN,
                name=DEMO_CERT_NAME,
                address="臺北市大安區信義路三段 100 號",
                status=RegistrationStatus.ACTIVE,
            ),
            actor="seed",
            at=now,
        )
    demo = ensure_demo_certificate(data_dir)
    if merchants.get_profile(DEMO_CERT_UBN) is not None:
        yield f"  Cert demo  UBN {DEMO_CERT_UBN!r} signed up with the demo certificate: sign in with its password"
        return
    root = data_dir.parent
    yield (
        f"  Cert demo  UBN {DEMO_CERT_UBN!r} (no account yet): sign up at /signup/certificate with "
        f"{demo.certificate.relative_to(root)} and key {demo.key.relative_to(root)}"
    )
    yield f"             (choose the key in the page, or sign the challenge: {demo.sign_command(root)})"


def _seed_tracks(now: datetime) -> Iterator[str]:
    """An active range for the current period, half for the online and half for the api channel."""
    period = Period.from_date(now.astimezone(TAIWAN_TZ).date())
    track_range = TrackRange.create(period, InvoiceType.GENERAL, "AB", "10000000", "10000999")
    tracks = DynamoTracks()
    if tracks.allocate(DEMO_UBN, track_range, status="active", source="seed", actor="seed", at=now):
        booklets = sorted(tracks.items(DEMO_UBN, "BOOKLET", period.code), key=lambda b: int(b["begin"]))
        booklets = [b for b in booklets if b["range_id"] == range_id(track_range)]
        tracks.assign(DEMO_UBN, period.code, "07", "online", booklets[:10])
        tracks.assign(DEMO_UBN, period.code, "07", "api", booklets[10:])
    yield f"  Tracks     period {period.code}: AB10000000-AB10000999, online and api channels ready"

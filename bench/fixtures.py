"""Merchants ready to issue, built straight through the adapters (benchmarks measure issuing, not set-up)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chalicelib.adapters.dynamo import dynamodb
from chalicelib.adapters.dynamo_merchants import DynamoMerchants
from chalicelib.adapters.dynamo_tax_registry import DynamoTaxRegistry
from chalicelib.adapters.dynamo_tracks import DynamoTracks
from chalicelib.domain.invoice_number import BOOKLET_SIZE, TrackRange, range_id
from chalicelib.domain.invoice_type import InvoiceType
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.domain.tax_registry import RegistrationStatus, TaxRegistration
from chalicelib.domain.ubn import is_valid_ubn
from chalicelib.security.passwords import hash_password
from chalicelib.security.tokens import Role
from chalicelib.settings import get_settings

QR_KEY = "FE05F029154F6AA67A78B338ED2F6601"
BENCH_PASSWORD = "Bench-password-123"  # noqa: S105 - the benchmark merchants' sign-in, local only

# The body the issuing benchmarks send: a B2C invoice on a mobile barcode carrier, one item, no
# e-mail, so the transaction holds exactly four items (counter, invoice, totals, outbox).
B2C_BODY: dict[str, Any] = {
    "buyer": {"name": "消費者"},
    "carrier": {"type": "3J0002", "id": "/ABC+123"},
    "print": False,
    "items": [{"description": "拿鐵咖啡", "quantity": "2", "unit": "杯", "unit_price": "65", "tax_type": "1"}],
    "prices_include_tax": True,
}


def new_ubn() -> str:
    while True:
        stem = f"{secrets.randbelow(10**7):07d}"
        for last in "0123456789":
            if is_valid_ubn(stem + last):
                return stem + last


@dataclass(frozen=True)
class Fleet:
    """A merchant whose channels each hold their own booklets of one active track range."""

    ubn: str
    period: str
    track: str
    booklets: dict[str, list[int]]  # channel -> first numbers of its booklets, in the order assigned


def issuing_merchant(channels: Mapping[str, int]) -> Fleet:
    """A registered, active merchant (address and QR key set, so it may issue) with one active
    range whose booklets are split between ``channels`` (channel -> number of booklets), in order."""
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
        password_hash=hash_password(BENCH_PASSWORD),
        must_change_password=False,
        at=now,
    )
    period = Period.from_date(datetime.now(TAIWAN_TZ).date())
    total = sum(channels.values())
    begin = secrets.randbelow(1_000_000 - total) * BOOKLET_SIZE
    track = secrets.choice("ABCDEFGHJK") + secrets.choice("LMNPQRSTUV")
    track_range = TrackRange.create(
        period, InvoiceType.GENERAL, track, f"{begin:08d}", f"{begin + total * BOOKLET_SIZE - 1:08d}"
    )
    tracks = DynamoTracks()
    tracks.allocate(ubn, track_range, status="active", source="bench", actor="bench", at=now)
    items = [b for b in tracks.items(ubn, "BOOKLET", period.code) if b["range_id"] == range_id(track_range)]
    items.sort(key=lambda b: int(b["begin"]))
    assigned: dict[str, list[int]] = {}
    start = 0
    for channel, count in channels.items():
        chosen = items[start : start + count]
        tracks.assign(ubn, period.code, InvoiceType.GENERAL.value, channel, chosen)
        assigned[channel] = [int(b["begin"]) for b in chosen]
        start += count
    return Fleet(ubn=ubn, period=period.code, track=track, booklets=assigned)


def ready_merchant(booklets: int) -> tuple[str, str]:
    """(ubn, bearer token) of a merchant with ``booklets`` booklets on the online channel."""
    from chalicelib.api import deps

    fleet = issuing_merchant({"online": booklets})
    pair = deps.auth_service().start_session(Role.MERCHANT, fleet.ubn, scopes=frozenset())
    return fleet.ubn, pair.access_token


def bare_issue(ubn: str, number: str) -> Callable[[int], None]:
    """The floor of issuing: one bare TransactWriteItems of the four items the service writes per
    invoice (counter update, invoice put, totals update, outbox put), copied from the stored invoice
    ``number`` under fresh keys, with no reads, validation or retries. Call it with 0, 1, 2, …"""
    settings = get_settings()
    owner = {"S": f"MERCHANT#{ubn}"}
    invoice = dynamodb().get_item(
        TableName=settings.invoices_table, Key={"pk": owner, "sk": {"S": f"INV#{number}"}}, ConsistentRead=True
    )["Item"]
    outbox = dynamodb().get_item(
        TableName=settings.invoices_table,
        Key={"pk": owner, "sk": {"S": f"OUTBOX#{number}#issued"}},
        ConsistentRead=True,
    )["Item"]
    tag = secrets.token_hex(4)  # keys of their own, so two floors on one merchant never collide

    def write(index: int) -> None:
        dynamodb().transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": settings.tracks_table,
                        "Key": {"pk": owner, "sk": {"S": f"FLOOR#{tag}#counter"}},
                        "UpdateExpression": "SET next_no = :n",
                        "ExpressionAttributeValues": {":n": {"N": str(index)}},
                    }
                },
                {
                    "Put": {
                        "TableName": settings.invoices_table,
                        "Item": {**invoice, "sk": {"S": f"FLOOR#{tag}#{index}"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {
                    "Update": {
                        "TableName": settings.invoices_table,
                        "Key": {"pk": owner, "sk": {"S": f"FLOOR#{tag}#totals"}},
                        "UpdateExpression": "ADD invoices :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
                {
                    "Put": {
                        "TableName": settings.invoices_table,
                        "Item": {**outbox, "sk": {"S": f"FLOORBOX#{tag}#{index}"}},
                    }
                },
            ]
        )

    return write

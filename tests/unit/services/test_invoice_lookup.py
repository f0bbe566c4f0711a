"""The look-up's rules on fakes, in milliseconds: masking, the proof link's signature and expiry,
and that every comparison of what the buyer typed goes through ``hmac.compare_digest``, whether
or not the invoice exists (so the two cases do the same work)."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.errors import NotFound
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.domain.public_invoice import mask_carrier_id, mask_email, mask_name
from chalicelib.services import invoice_lookup
from chalicelib.services.invoice_lookup import InvoiceLookupService
from tests.fakes.records import b2b_invoice

KEY = b"k" * 32
SELLER = "24634102"


class Finder:
    def __init__(self, *records: InvoiceRecord, orders: dict[tuple[str, str], str] | None = None) -> None:
        self.records = {r.invoice_number: r for r in records}
        self.orders = orders or {}

    def by_number(self, number: str) -> InvoiceRecord | None:
        return self.records.get(number)

    def by_order(self, seller_ubn: str, order_id: str) -> InvoiceRecord | None:
        number = self.orders.get((seller_ubn, order_id))
        return self.records.get(number) if number else None


class Links:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def invoice(self, record, ubn, kind, *, download=False) -> str:
        self.asked.append((ubn, record.invoice_number))
        return f"https://s3.example/{ubn}/{record.invoice_number}.pdf"


class Clock:
    def __init__(self) -> None:
        self.moment = datetime(2026, 3, 14, 2, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment


def _service(*records: InvoiceRecord, **kwargs) -> tuple[InvoiceLookupService, Links, Clock]:
    links, clock = Links(), Clock()
    return InvoiceLookupService(finder=Finder(*records, **kwargs), links=links, clock=clock, key=KEY), links, clock


def _token(service: InvoiceLookupService, record: InvoiceRecord) -> str:
    """The proof token a successful look-up of ``record`` links to."""
    return service.by_number(record.invoice_number, "1234", record.invoice_date).proof_url.split("token=")[1]


def _record(**changes) -> InvoiceRecord:
    record = b2b_invoice(SELLER, "22099131")
    return record.model_copy(update=changes)


@pytest.mark.parametrize(
    ("given", "shown"),
    [("王小明", "王*明"), ("陳明", "陳*"), ("Jane Doe", "J******e"), ("王", "*"), ("", "")],
)
def test_names_keep_their_first_and_last_character(given, shown):
    assert mask_name(given) == shown


def test_addresses_and_carriers_are_masked():
    assert mask_email("chen.xiaoming@example.com") == "ch***@example.com"
    assert mask_carrier_id("/ABC+123") == "/A*****3"
    assert mask_carrier_id("AB") == "**"


def test_every_comparison_is_constant_time_with_or_without_an_invoice(monkeypatch):
    compared: list[tuple[int, int]] = []
    real = hmac.compare_digest

    def recording(a, b):
        compared.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(invoice_lookup.hmac, "compare_digest", recording)
    record = _record()
    service, _, _ = _service(record, orders={(SELLER, "SO-1"): record.invoice_number})
    with pytest.raises(NotFound) as missing:
        service.by_number("ZZ00000000", "1234", record.invoice_date)
    with pytest.raises(NotFound) as wrong:
        service.by_number(record.invoice_number, "4321", record.invoice_date)
    with pytest.raises(NotFound) as wrong_day:
        service.by_number(record.invoice_number, "1234", record.invoice_date + timedelta(days=1))
    with pytest.raises(NotFound) as no_order:
        service.by_order(SELLER, "SO-2", "a@example.com")
    # One comparison each, of equal-length values, and the very same refusal.
    assert compared == [(32, 32)] * 4
    refusals = {(e.value.code, e.value.message, e.value.message_zh, e.value.field) for e in (missing, wrong, wrong_day)}
    assert refusals == {(no_order.value.code, no_order.value.message, no_order.value.message_zh, None)}


def test_a_proof_link_works_for_its_version_for_ten_minutes():
    record = _record()
    service, links, clock = _service(record)
    token = _token(service, record)
    assert service.proof(token) == f"https://s3.example/{SELLER}/{record.invoice_number}.pdf"
    assert links.asked == [(SELLER, record.invoice_number)]

    clock.moment += timedelta(minutes=10)
    with pytest.raises(NotFound):
        service.proof(token)


def test_a_reissued_version_ends_the_earlier_links():
    record = _record()
    service, _, _ = _service(record)
    token = _token(service, record)
    reissued, _, _ = _service(_record(invoice_number=record.invoice_number, random_number="9876", void_count=1))
    with pytest.raises(NotFound):
        reissued.proof(token)


def test_a_link_signed_with_another_key_is_refused():
    record = _record()
    service, _, _ = _service(record)
    token = _token(service, record)
    other = InvoiceLookupService(finder=Finder(record), links=Links(), clock=Clock(), key=b"x" * 32)
    with pytest.raises(NotFound):
        other.proof(token)

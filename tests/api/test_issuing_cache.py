"""Issuing from what a container remembers (services/issuing_cache.py), on DynamoDB Local.

Two services with caches of their own stand for two Lambda containers serving one merchant. What
one remembers goes stale when the other issues or the merchant changes its profile; the
transaction's conditions must turn that into a retry, never a duplicate, a gap or an invoice
built from an old profile.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from chalicelib.adapters.clock import SystemClock
from chalicelib.adapters.dynamo_issuing import DynamoIssuingReads
from chalicelib.adapters.dynamo_ledger import DynamoLedger
from chalicelib.api import deps
from chalicelib.domain.errors import RuleViolation
from chalicelib.domain.writes import Intent, NumberTaken, RequireProfile, StateChanged
from chalicelib.services.invoicing import InvoicingService
from chalicelib.services.issuing_cache import IssuingCache
from tests.api.conftest import body_of
from tests.api.test_invoices import B2C_CARRIER, Issuer, issuer  # noqa: F401 - the fixture is shared


@dataclass
class CountingLedger:
    """The real ledger, counting what it was handed and what it refused."""

    inner: DynamoLedger = field(default_factory=DynamoLedger)
    commits: list[list[Intent]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)

    def commit(self, intents: Sequence[Intent]) -> None:
        self.commits.append(list(intents))
        try:
            self.inner.commit(intents)
        except (NumberTaken, StateChanged) as refused:
            self.refusals.append(type(refused).__name__)
            raise


@dataclass
class Container:
    """One Lambda container: its own cache, the real adapters, reads counted."""

    cache: IssuingCache = field(default_factory=IssuingCache)
    ledger: CountingLedger = field(default_factory=CountingLedger)
    reads: int = 0

    def issue(self, ubn: str, body: dict | None = None, **kwargs):
        container = self

        class CountedReads(DynamoIssuingReads):
            def read(self, *args, **kw):
                container.reads += 1
                return super().read(*args, **kw)

        service = InvoicingService(
            invoices=deps.invoices(),
            reads=CountedReads(),
            ledger=self.ledger,
            numbering=deps.numbering_service(),
            clock=SystemClock(),
            cache=self.cache,
        )
        return service.issue(ubn, body or B2C_CARRIER, channel=kwargs.pop("channel", "online"), actor="test", **kwargs)


def _number(who: Issuer, offset: int) -> str:
    return f"{who.track}{who.begin + offset:08d}"


def test_a_warm_container_issues_with_one_transaction_and_no_read(issuer: Issuer) -> None:  # noqa: F811
    one = Container()
    first = one.issue(issuer.ubn)
    assert one.reads == 1  # a cold container reads the profile and the counter once
    second = one.issue(issuer.ubn)
    third = one.issue(issuer.ubn)
    assert one.reads == 1
    assert [i.record.invoice_number for i in (first, second, third)] == [_number(issuer, n) for n in range(3)]
    assert one.ledger.refusals == []
    # A remembered profile is checked in the transaction itself.
    assert [any(isinstance(i, RequireProfile) for i in c) for c in one.ledger.commits] == [False, True, True]


def test_a_counter_another_container_moved_costs_one_retry_never_a_duplicate_or_a_gap(issuer: Issuer) -> None:  # noqa: F811
    a, b = Container(), Container()
    numbers = [a.issue(issuer.ubn).record.invoice_number]  # a remembers the counter at 1
    numbers += [b.issue(issuer.ubn).record.invoice_number for _ in range(3)]  # b moves it to 4
    numbers.append(a.issue(issuer.ubn).record.invoice_number)  # a's counter is 3 numbers behind

    assert numbers == [_number(issuer, n) for n in range(5)]
    assert a.ledger.refusals == ["NumberTaken"]  # the stale counter was refused once...
    assert a.reads == 1  # ...and the refusal handed back the counter: no read to recover
    assert a.issue(issuer.ubn).record.invoice_number == _number(issuer, 5)
    assert a.ledger.refusals == ["NumberTaken"]


def test_many_interleaved_containers_leave_every_number_used_once_in_order(issuer: Issuer, client) -> None:  # noqa: F811
    containers = [Container() for _ in range(3)]
    order = [0, 1, 2, 2, 0, 1, 0, 0, 2, 1, 1, 2]
    numbers = [containers[i].issue(issuer.ubn).record.invoice_number for i in order]

    assert numbers == [_number(issuer, n) for n in range(len(order))]
    listed = body_of(client.http.get("/v1/invoices?limit=100", headers=issuer.headers))["items"]
    assert sorted(i["invoice_number"] for i in listed) == numbers


def test_a_changed_profile_is_never_issued_from(issuer: Issuer, client) -> None:  # noqa: F811
    a = Container()
    a.issue(issuer.ubn)
    changed = client.http.patch(
        "/v1/merchant",
        headers={"Content-Type": "application/json", **issuer.headers},
        body=json.dumps({"address": "臺中市西屯區台灣大道三段 99 號"}),
    )
    assert changed.status_code == 200, changed.body

    second = a.issue(issuer.ubn)

    assert second.record.seller["address"] == "臺中市西屯區台灣大道三段 99 號"
    assert a.ledger.refusals == ["StateChanged"]  # refused once, then read again
    assert a.reads == 2
    assert second.record.invoice_number == _number(issuer, 1)


def test_a_profile_that_lost_what_issuing_needs_refuses_at_once(issuer: Issuer, client) -> None:  # noqa: F811
    a = Container()
    a.issue(issuer.ubn)
    client.http.patch(
        "/v1/merchant",
        headers={"Content-Type": "application/json", **issuer.headers},
        body=json.dumps({"settings": {"qr_aes_key": None}}),
    )
    with pytest.raises(RuleViolation) as refused:
        a.issue(issuer.ubn)
    assert refused.value.code == "QR_KEY_MISSING"
    listed = body_of(client.http.get("/v1/invoices?limit=100", headers=issuer.headers))["items"]
    assert len(listed) == 1


def test_a_remembered_used_up_booklet_is_read_again_not_refused(issuer: Issuer, client) -> None:  # noqa: F811
    a = Container()
    # pos:till-1 has one booklet of 50: a uses it up and remembers a counter with nothing left.
    numbers = [a.issue(issuer.ubn, channel="pos:till-1").record.invoice_number for _ in range(50)]
    assert len(set(numbers)) == 50
    tracks = body_of(client.http.get("/v1/tracks", headers=issuer.headers))
    track_id = tracks["items"][0]["track_id"]
    moved = client.http.put(
        f"/v1/tracks/{track_id}/channels",
        headers={"Content-Type": "application/json", **issuer.headers},
        body=json.dumps({"assignments": [{"channel": "pos:till-1", "booklets": 1}]}),
    )
    assert moved.status_code == 200, moved.body

    after = a.issue(issuer.ubn, channel="pos:till-1").record.invoice_number

    # Booklets 0-1 went to online, 2-3 to api, 4 to till-1: the new one is booklet 5, from its start.
    assert numbers == [_number(issuer, 200 + n) for n in range(50)]
    assert after == _number(issuer, 250)


def test_a_repeated_idempotency_key_on_a_warm_container_answers_the_first_invoice(issuer: Issuer) -> None:  # noqa: F811
    a = Container()
    a.issue(issuer.ubn)
    first = a.issue(issuer.ubn, idempotency_key="order-42")
    again = a.issue(issuer.ubn, idempotency_key="order-42")

    assert again.replayed and again.record.invoice_number == first.record.invoice_number
    assert a.issue(issuer.ubn).record.invoice_number == _number(issuer, 2)  # no number was used up

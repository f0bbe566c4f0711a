"""Issuing from what a container remembers (services/issuing_cache.py), on DynamoDB Local.

Two services with caches of their own stand for two Lambda containers serving one merchant. What
one remembers goes stale when the other issues or the merchant changes its profile: a stale
counter must cost a retry, never a duplicate or a gap, and a changed profile reaches the next
invoice at once in the container that changed it, and within the profile's time to live elsewhere.
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
from chalicelib.domain.issuing_state import CounterKey
from chalicelib.domain.writes import Intent, NumberTaken, StateChanged
from chalicelib.services.invoicing import InvoicingService
from chalicelib.services.issuing_cache import PROFILE_TTL_S, IssuingCache
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
class Clock:
    now: float = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Container:
    """One Lambda container: its own cache (on a clock the test moves), the real adapters, reads
    counted."""

    clock: Clock = field(default_factory=Clock)
    ledger: CountingLedger = field(default_factory=CountingLedger)
    reads: int = 0

    def __post_init__(self) -> None:
        self.cache = IssuingCache(monotonic=self.clock)

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
    # The transaction is the same whether the profile was read or remembered.
    assert [len(c) for c in one.ledger.commits] == [len(one.ledger.commits[0])] * 3


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


def _patch(client, who: Issuer, changes: dict) -> None:
    changed = client.http.patch(
        "/v1/merchant", headers={"Content-Type": "application/json", **who.headers}, body=json.dumps(changes)
    )
    assert changed.status_code == 200, changed.body


NEW_ADDRESS = "臺中市西屯區台灣大道三段 99 號"


def test_a_profile_changed_in_this_container_reaches_the_next_invoice(issuer: Issuer, client) -> None:  # noqa: F811
    # The test client's requests run in this process: the API's cache is this container's.
    from chalicelib.api.deps import _ISSUING_CACHE

    first = deps.invoicing_service().issue(issuer.ubn, B2C_CARRIER, channel="online", actor="test")
    where = CounterKey(first.record.period, "07", "online")
    assert _ISSUING_CACHE.get(issuer.ubn, where) is not None  # warm: the next issue would read nothing
    _patch(client, issuer, {"address": NEW_ADDRESS})
    assert _ISSUING_CACHE.get(issuer.ubn, where) is None  # the change made here forgot the profile
    second = deps.invoicing_service().issue(issuer.ubn, B2C_CARRIER, channel="online", actor="test")
    assert second.record.seller["address"] == NEW_ADDRESS


def test_another_container_sees_a_changed_profile_within_its_time_to_live(issuer: Issuer, client) -> None:  # noqa: F811
    other = Container()
    first = other.issue(issuer.ubn)
    _patch(client, issuer, {"address": NEW_ADDRESS})  # changed elsewhere: `other` was not told

    other.clock.now += PROFILE_TTL_S / 2
    within = other.issue(issuer.ubn)
    other.clock.now += PROFILE_TTL_S
    after = other.issue(issuer.ubn)

    assert within.record.seller["address"] == first.record.seller["address"] != NEW_ADDRESS
    assert after.record.seller["address"] == NEW_ADDRESS
    assert other.reads == 2  # once cold, once when the profile aged out
    assert [i.record.invoice_number for i in (first, within, after)] == [_number(issuer, n) for n in range(3)]


def test_a_profile_that_lost_what_issuing_needs_refuses_once_read_again(issuer: Issuer, client) -> None:  # noqa: F811
    other = Container()
    other.issue(issuer.ubn)
    _patch(client, issuer, {"settings": {"qr_aes_key": None}})
    other.clock.now += PROFILE_TTL_S + 1
    with pytest.raises(RuleViolation) as refused:
        other.issue(issuer.ubn)
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

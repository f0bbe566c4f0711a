"""The rate-limit store's contract, run against the in-memory fake and against DynamoDB Local (as
the Chalice workshop runs one storage test class against both): what one limiter's leases rely on,
and concurrent containers never granted more than the burst between them."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.adapters.dynamo import dynamodb, from_item, key
from chalicelib.adapters.dynamo_rate_limits import DynamoRateLimits
from chalicelib.domain.rate_limits import MICROS, Policy, Refused, Taken
from chalicelib.settings import get_settings
from tests.fakes.rate_store import MemoryRateStore

NOW = 1_800_000_000 * MICROS
POLICY = Policy("contract", burst=5, per_minute=60)  # one a second


@pytest.fixture(params=["memory", "dynamodb"])
def store(request):
    return MemoryRateStore() if request.param == "memory" else DynamoRateLimits()


@pytest.fixture
def subject() -> str:
    return f"test:{secrets.token_hex(6)}"


def test_a_new_subject_gets_the_burst_then_is_refused(store, subject):
    results = [store.take(POLICY, subject, NOW, 1, busy=False) for _ in range(6)]
    assert [type(r) for r in results] == [Taken] * 5 + [Refused]
    assert [r.tat for r in results[:5]] == [NOW + (i + 1) * MICROS for i in range(5)]
    assert results[5].tat == NOW + 5 * MICROS  # a refusal reports the arrival time it found


def test_a_lease_of_several_is_granted_whole_or_not_at_all(store, subject):
    assert isinstance(store.take(POLICY, subject, NOW, 3, busy=False), Taken)
    refused = store.take(POLICY, subject, NOW, 3, busy=True)
    assert isinstance(refused, Refused)
    assert refused.tat == NOW + 3 * MICROS  # the refused lease took nothing
    assert store.take(POLICY, subject, NOW, 2, busy=True) == Taken(NOW + 5 * MICROS)


def test_the_bucket_refills_at_the_rate_whichever_form_is_tried_first(store, subject):
    store.take(POLICY, subject, NOW, 5, busy=False)
    assert isinstance(store.take(POLICY, subject, NOW + MICROS // 2, 1, busy=False), Refused)
    assert store.take(POLICY, subject, NOW + MICROS, 1, busy=False) == Taken(NOW + 6 * MICROS)
    # Long idle: full again, counted from now rather than from the old arrival time.
    assert store.take(POLICY, subject, NOW + 60 * MICROS, 1, busy=True) == Taken(NOW + 61 * MICROS)


def test_concurrent_containers_are_granted_exactly_the_burst_between_them(store, subject):
    policy = Policy("contract-race", burst=40, per_minute=1)
    sizes = [1 + i % 3 for i in range(80)]  # leases of 1, 2 and 3, 160 asked for in all
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda i: store.take(policy, subject, NOW, sizes[i], busy=i % 2 == 0), range(80)))
    granted = sum(n for n, result in zip(sizes, results, strict=True) if isinstance(result, Taken))
    assert granted <= 40
    # Whatever was left over is still there to take, one at a time: nothing was lost to the races.
    while isinstance(store.take(policy, subject, NOW, 1, busy=True), Taken):
        granted += 1
    assert granted == 40


def test_the_item_is_the_merchant_s_and_expires_once_the_bucket_is_full():
    subject = f"MERCHANT#{secrets.randbelow(10**8):08d}#key:k1"
    DynamoRateLimits().take(POLICY, subject, NOW, 2, busy=False)
    item = dynamodb().get_item(
        TableName=get_settings().merchants_table, Key=key(f"RATE#{subject}", f"GCRA#{POLICY.name}"), ConsistentRead=True
    )
    stored = from_item(item["Item"])
    assert stored["pk"].startswith("RATE#MERCHANT#")
    assert stored["tat"] == NOW + 2 * MICROS
    # DynamoDB may delete it a little after the burst's worth of time: by then it is full.
    assert (NOW + POLICY.capacity) // MICROS < stored["ttl"] <= (NOW + POLICY.capacity) // MICROS + 120

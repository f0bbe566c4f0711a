"""Rate-limit rules (domain/rate_limits.py) and the leasing limiter (services/rate_limiter.py) on an
in-memory store: a burst granted at once, the sustained rate after it, the waits told to clients,
and two limiters sharing one store never granting more than the policy allows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.rate_limits import MICROS, Policy, Refused, Taken, remaining, reset_seconds, retry_after, take
from chalicelib.services.rate_limiter import RateLimiter
from tests.fakes.rate_store import MemoryRateStore

START = 1_800_000_000 * MICROS  # 2027-01-15, a whole second

policies = st.builds(
    Policy, name=st.just("p"), burst=st.integers(min_value=1, max_value=300), per_minute=st.integers(1, 100_000)
)


def drain(policy: Policy, tat: int | None, now: int, limit: int = 10_000) -> tuple[int, int | None]:
    granted = 0
    while granted < limit:
        result = take(policy, tat, now)
        if isinstance(result, Refused):
            break
        tat, granted = result.tat, granted + 1
    return granted, tat


@given(policies)
def test_a_full_bucket_grants_exactly_the_burst_at_once(policy):
    granted, tat = drain(policy, None, START)
    assert granted == policy.burst
    assert tat is not None
    assert remaining(policy, tat, START) == 0


@given(policies, st.lists(st.integers(min_value=0, max_value=5 * MICROS), min_size=1, max_size=200))
@settings(max_examples=60)
def test_no_minute_ever_gets_more_than_the_burst_plus_the_rate(policy, gaps):
    """Whatever the timing, requests granted within any 60 s ≤ burst + per_minute (the refill)."""
    now, tat, granted_at = START, None, []
    for gap in gaps:
        now += gap
        result = take(policy, tat, now)
        if isinstance(result, Taken):
            tat = result.tat
            granted_at.append(now)
    for index, first in enumerate(granted_at):
        within = sum(1 for t in granted_at[index:] if t < first + 60 * MICROS)
        assert within <= policy.burst + policy.per_minute


@given(policies, st.integers(min_value=0, max_value=120 * MICROS))
def test_retry_after_is_enough_and_not_a_second_more(policy, later):
    _, tat = drain(policy, None, START)
    assert tat is not None
    now = START + later
    if isinstance(take(policy, tat, now), Taken):
        return
    wait = retry_after(policy, tat, now)
    assert isinstance(take(policy, tat, now + wait * MICROS), Taken)
    if wait > 1:
        assert isinstance(take(policy, tat, now + (wait - 1) * MICROS), Refused)


def test_an_emptied_bucket_refills_at_the_rate_and_is_full_again_at_reset():
    policy = Policy("p", burst=10, per_minute=60)  # one a second
    _, tat = drain(policy, None, START)
    assert tat is not None
    assert reset_seconds(tat, START) == 10
    assert retry_after(policy, tat, START) == 1
    assert remaining(policy, tat, START + 3 * MICROS) == 3
    assert remaining(policy, tat, START + 10 * MICROS) == 10
    assert drain(policy, tat, START + 60 * MICROS)[0] == 10  # never more than the burst, however idle


def test_scaling_keeps_each_limit_at_least_one():
    assert Policy("p", burst=5, per_minute=10).scaled(0.01) == Policy("p", 1, 1)
    assert Policy("p", burst=5, per_minute=10).scaled(1000) == Policy("p", 5000, 10000)


# --- the limiter: leases over a shared store ---------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.moment = datetime.fromtimestamp(START / MICROS, UTC)

    def now(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


def test_two_containers_sharing_a_store_are_granted_exactly_the_burst_between_them():
    store, clock = MemoryRateStore(), Clock()
    policy = Policy("api-key", burst=7, per_minute=1)
    first, second = RateLimiter(store=store, clock=clock), RateLimiter(store=store, clock=clock)
    answers = [(first if i % 2 else second).check(policy, "MERCHANT#1#key:a") for i in range(12)]
    assert [a.allowed for a in answers] == [True] * 7 + [False] * 5
    assert [a.remaining for a in answers[:7]] == [6, 5, 4, 3, 2, 1, 0]
    assert answers[7].retry_after == 60
    clock.advance(60)
    assert first.check(policy, "MERCHANT#1#key:a").allowed
    assert not second.check(policy, "MERCHANT#1#key:a").allowed


def test_a_busy_subject_is_served_from_leases_and_never_past_its_limit():
    store, clock = MemoryRateStore(), Clock()
    policy = Policy("issue", burst=1000, per_minute=30_000)  # leases of up to 50, one refill per 2 ms
    limiter = RateLimiter(store=store, clock=clock)

    def send(count: int) -> int:
        granted = 0
        for _ in range(count):
            granted += limiter.check(policy, "till").allowed
            clock.advance(0.0001)
        return granted

    assert send(1000) == 1000  # the burst, within 0.1 s
    assert store.calls < 1000 / 10  # most requests cost no call to the store
    calls = store.calls
    later = send(2000)  # hammering for 0.2 s more: only what refilled over the 0.3 s
    assert 1000 + later <= 1000 + 0.3 * 30_000 / 60
    # Refused requests are refused from memory until something can have refilled: a client
    # hammering its limit costs at most two calls per request it is granted.
    assert store.calls - calls <= 2 * later + 2


def test_a_lease_left_unused_shrinks_and_near_the_limit_requests_go_one_by_one():
    store, clock = MemoryRateStore(), Clock()
    policy = Policy("issue", burst=100, per_minute=60)  # leases of up to 5
    busy, quiet = RateLimiter(store=store, clock=clock), RateLimiter(store=store, clock=clock)
    for _ in range(20):
        busy.check(policy, "key")
    # ``busy`` holds at most 4 unused; ``quiet`` still gets all the rest, one at a time at the end.
    granted = 20 + sum(quiet.check(policy, "key").allowed for _ in range(100))
    assert 96 <= granted <= 100
    assert not quiet.check(policy, "key").allowed

"""The issuing cache's own rules: what it hands back, for how long, and what it forgets."""

from __future__ import annotations

from chalicelib.domain.counter import Counter
from chalicelib.domain.issuing_state import CounterKey
from chalicelib.domain.merchant import MerchantProfile, MerchantSettings
from chalicelib.services.issuing_cache import IssuingCache

WHERE = CounterKey("11512", "07", "online")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _profile(ubn: str, name: str = "好好商行") -> MerchantProfile:
    return MerchantProfile(ubn=ubn, name=name, settings=MerchantSettings())


def _counter(next_no: int, period: str = "11512") -> Counter:
    return Counter(period, "07", "online", "AB", 0, 49, next_no, (), 50 - next_no, "", 1, False)


def test_the_profile_ages_out_and_the_counter_does_not() -> None:
    clock = Clock()
    cache = IssuingCache(monotonic=clock, profile_ttl_s=5)
    cache.remember("24634102", _profile("24634102"), WHERE, _counter(1), fresh=True)
    clock.now += 5
    assert cache.get("24634102", WHERE) is not None
    # Issuing from the remembered profile moves the counter but not the profile's age.
    cache.remember("24634102", _profile("24634102"), WHERE, _counter(2), fresh=False)
    clock.now += 0.5
    assert cache.get("24634102", WHERE) is None
    cache.remember("24634102", _profile("24634102", "新名稱"), WHERE, _counter(3), fresh=True)
    profile, counter = cache.get("24634102", WHERE) or (None, None)
    assert profile is not None and profile.name == "新名稱" and counter == _counter(3)


def test_forgetting_a_profile_keeps_nothing_usable_until_it_is_read_again() -> None:
    cache = IssuingCache(monotonic=Clock())
    cache.remember("24634102", _profile("24634102"), WHERE, _counter(1), fresh=True)
    cache.forget("24634102")
    assert cache.get("24634102", WHERE) is None


def test_a_channel_keeps_only_its_latest_period_and_another_channel_is_apart() -> None:
    cache = IssuingCache(monotonic=Clock())
    cache.remember("24634102", _profile("24634102"), WHERE, _counter(7), fresh=True)
    later = CounterKey("11602", "07", "online")
    cache.remember("24634102", _profile("24634102"), later, _counter(1, "11602"), fresh=True)
    assert cache.get("24634102", WHERE) is None
    assert cache.get("24634102", later) is not None
    assert cache.get("24634102", CounterKey("11602", "07", "api")) is None


def test_the_oldest_merchant_is_forgotten_first() -> None:
    cache = IssuingCache(max_merchants=2, monotonic=Clock())
    for ubn in ("00000001", "00000002"):
        cache.remember(ubn, _profile(ubn), WHERE, _counter(1), fresh=True)
    assert cache.get("00000001", WHERE) is not None  # used: now the newest
    cache.remember("00000003", _profile("00000003"), WHERE, _counter(1), fresh=True)
    assert cache.get("00000002", WHERE) is None
    assert cache.get("00000001", WHERE) is not None and cache.get("00000003", WHERE) is not None

"""The rules of outgoing webhooks: which URLs may receive events (no SSRF), the retry schedule,
when an endpoint is given up on, and the signature header's shape."""

from __future__ import annotations

import hashlib
import hmac
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.webhooks import check_url, next_attempt, should_disable, signature_header

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "url",
    [
        "https://erp.example.com.tw/einvoice/events",
        "https://erp.example.com.tw:8443/hooks?source=einvoice",
        "https://8.8.8.8/hook",
    ],
)
def test_public_https_urls_are_taken_on_every_stage(url):
    assert check_url(url, local_stage=False) == url
    assert check_url(url, local_stage=True) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://erp.example.com.tw/hook",  # plain http outside this machine
        "https://10.0.0.5/hook",  # the platform's own network
        "https://192.168.1.10/hook",
        "https://169.254.169.254/latest/meta-data/",  # the cloud metadata service
        "https://127.0.0.1/hook",
        "https://[::1]/hook",
        "https://localhost/hook",
        "https://[fd00::1]/hook",
        "https://user:secret@erp.example.com.tw/hook",
        "https://erp.example.com.tw/hook#part",
        "https://erp.example.com.tw:notaport/hook",
        "ftp://erp.example.com.tw/hook",
        "erp.example.com.tw/hook",
        "https://" + "a" * 2000 + ".tw/",
    ],
)
def test_urls_that_could_reach_inside_or_leak_are_refused_outside_the_local_stage(url):
    with pytest.raises(InvalidInput) as refused:
        check_url(url, local_stage=False)
    assert refused.value.field == "url" and refused.value.message_zh


def test_plain_http_is_for_this_machine_on_the_local_stage_only():
    assert check_url("http://127.0.0.1:9000/hook", local_stage=True)
    assert check_url("http://localhost:9000/hook", local_stage=True)
    with pytest.raises(InvalidInput):
        check_url("http://example.com/hook", local_stage=True)
    with pytest.raises(InvalidInput):
        check_url("http://127.0.0.1:9000/hook", local_stage=False)


@given(st.integers(min_value=1, max_value=200), st.integers(min_value=0, max_value=2**32))
def test_each_retry_waits_30_s_doubling_to_an_hour_give_or_take_half(failures, seed):
    base = min(30 * 2 ** (failures - 1), 3600)
    wait = (next_attempt(failures, NOW, random.Random(seed)) - NOW).total_seconds()
    assert base * 0.5 <= wait <= base * 1.5


def test_retries_go_on_for_more_than_a_day_before_an_endpoint_is_disabled():
    rng = random.Random(7)
    moment, failures = NOW, 0
    while not should_disable(NOW, moment):
        failures += 1
        moment = next_attempt(failures, moment, rng)
    assert moment - NOW >= timedelta(hours=24)
    assert 20 <= failures <= 60  # hourly once capped, not a flood and not a handful


def test_an_endpoint_that_never_failed_is_never_disabled():
    assert not should_disable(None, NOW + timedelta(days=30))
    assert not should_disable(NOW, NOW + timedelta(hours=23, minutes=59))
    assert should_disable(NOW, NOW + timedelta(hours=24))


@given(st.text(min_size=1, max_size=200), st.integers(min_value=0, max_value=2**40))
def test_the_header_carries_the_time_and_one_hmac_per_secret(body, stamp):
    header = signature_header(["whsec_new", "whsec_old"], stamp, body)
    fields = [part.split("=", 1) for part in header.split(",")]
    assert fields[0] == ["t", str(stamp)]
    message = f"{stamp}.{body}".encode()
    assert [value for name, value in fields[1:]] == [
        hmac.new(b"whsec_new", message, hashlib.sha256).hexdigest(),
        hmac.new(b"whsec_old", message, hashlib.sha256).hexdigest(),
    ]

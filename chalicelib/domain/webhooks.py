"""Signed outgoing webhooks: the signature, the retry schedule, when an endpoint is given up on,
and which URLs may receive events.

Signature (Stripe's scheme, which receivers already know how to check):
``Einvoice-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``; during a
secret rotation's overlap a second ``v1=`` signs with the previous secret, so a receiver that still
holds the old one keeps accepting. ``t`` is the time of the attempt (a receiver refuses stale ones,
e.g. older than 5 minutes, against replays); the body is the same bytes on every attempt.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from chalicelib.domain.errors import InvalidInput

SIGNATURE_HEADER = "Einvoice-Signature"
EVENT_ID_HEADER = "Einvoice-Event-Id"
EVENT_TYPE_HEADER = "Einvoice-Event-Type"

#: First retry after about 30 s, doubling to at most an hour, each ±50 % (so receivers that came
#: back are not hit by every sender at once); retries go on for 3 days.
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(days=3)
#: An endpoint that has failed every attempt for this long is disabled and its merchant told.
DISABLE_AFTER = timedelta(hours=24)
MAX_OVERLAP = timedelta(days=7)
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
MAX_URL = 2000


def sign(secret: str, timestamp: int, body: str) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()


def signature_header(secrets: Sequence[str], timestamp: int, body: str) -> str:
    """The header value: the time, then one ``v1`` per secret in force (the newest first)."""
    return ",".join([f"t={timestamp}", *(f"v1={sign(secret, timestamp, body)}" for secret in secrets)])


def next_attempt(failures: int, now: datetime, rng: random.Random | None = None) -> datetime:
    """When to try again after the ``failures``-th failed attempt (1 for the first)."""
    doublings = min(max(0, failures - 1), 16)  # past the cap already; keeps timedelta in range
    base = min(FIRST_RETRY * 2**doublings, MAX_RETRY)
    jitter = float((rng or random.SystemRandom()).uniform(0.5, 1.5))
    later: datetime = now + base * jitter
    return later


def should_disable(failing_since: datetime | None, now: datetime) -> bool:
    return failing_since is not None and now - failing_since >= DISABLE_AFTER


def _invalid(message: str, message_zh: str) -> InvalidInput:
    return InvalidInput("INVALID_WEBHOOK_URL", message, message_zh, "url")


def _literal_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def is_private_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Addresses no event may be sent to outside the local stage: the platform's own network, the
    cloud metadata service (169.254.169.254), loopback (SSRF)."""
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def check_url(url: str, *, local_stage: bool) -> str:
    """``url`` if events may be sent there: HTTPS; plain HTTP only to this machine on the local stage."""
    if len(url) > MAX_URL:
        raise _invalid(f"The URL is longer than {MAX_URL} characters", f"網址超過 {MAX_URL} 個字元")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        raise _invalid("This is not a URL", "這不是有效的網址") from None
    host = (parts.hostname or "").lower()
    if not host or parts.username or parts.password or parts.fragment:
        raise _invalid(
            "The URL needs a host, and no user name, password or #fragment",
            "網址須有主機名稱，且不可含帳號、密碼或 # 片段",
        )
    loopback = host in LOOPBACK_HOSTS
    if parts.scheme == "http" and not (loopback and local_stage):
        raise _invalid(
            "Events are sent over HTTPS only (http:// only to localhost on the local stage)",
            "事件僅以 HTTPS 傳送（本機環境才可使用 http://localhost）",
        )
    if parts.scheme not in ("https", "http"):
        raise _invalid("The URL must start with https://", "網址須以 https:// 開頭")
    address = _literal_ip(host)
    if not local_stage and (loopback or (address is not None and is_private_address(address))):
        raise _invalid(
            "Events cannot be sent to a private, loopback or link-local address",
            "事件不可傳送至私有、迴路或鏈路本地位址",
        )
    return url

"""Sign-in throttling: how many attempts each party gets, in which window (OWASP Authentication
Cheat Sheet, "Account lockout" and "Login throttling").

A hard lock per account lets anyone who reads a UBN off a printed invoice lock its merchant out,
and answering "locked" only for real accounts tells them apart from unknown UBNs. So the limits are:

- per source (client IP): failed sign-ins across all accounts; stops one machine spraying guesses.
- per (source, subject): failed sign-ins of one account from one address; stops one machine
  hammering one account even with solved CAPTCHAs.
- per subject (UBN or staff username, whether or not the account exists): after a few failures
  from anywhere, signing in needs a solved CAPTCHA. The right password with a valid CAPTCHA is
  never refused because of this count, so an attacker can make the owner solve a CAPTCHA, never
  keep the owner out: from a fresh source the owner always gets in.

Going over the first two answers 429 with ``Retry-After``; the third answers ``CAPTCHA_REQUIRED``.
None of them depends on whether the account exists, so the answers cannot enumerate accounts.

Counts live in fixed windows aligned to the epoch (00:00, 00:15, ... for a 15-minute window): one
counter per window, so a window's count never needs resetting and an old window is simply never
read again. A caller claims an attempt slot *before* verifying anything (one conditional increment,
see adapters.dynamo_throttles), so N concurrent guesses can never get more than ``attempts``
verified, and gives the slot back when the attempt succeeds: the counts are of failures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from chalicelib.security._time import require_aware

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Limit:
    """At most ``attempts`` per ``window``; ``scope`` names the counter family (part of its key)."""

    scope: str
    attempts: int
    window: timedelta

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.window <= timedelta(0):
            raise ValueError("a limit needs at least one attempt and a positive window")

    def window_start(self, now: datetime) -> datetime:
        """The start of the fixed window ``now`` falls in."""
        elapsed = require_aware(now, "now") - _EPOCH
        return _EPOCH + self.window * (elapsed // self.window)

    def window_end(self, now: datetime) -> datetime:
        return self.window_start(now) + self.window

    def retry_after(self, now: datetime) -> int:
        """Whole seconds until the window ends, rounded up and at least 1: a client honouring
        ``Retry-After`` never arrives a fraction of a second early and gets refused again."""
        return max(1, math.ceil((self.window_end(now) - now).total_seconds()))


WINDOW = timedelta(minutes=15)

#: Failed sign-ins from one client IP, over all accounts. Generous, because an office or a mobile
#: carrier puts many people behind one address.
PER_SOURCE = Limit("source", 50, WINDOW)
#: Failed sign-ins of one account from one client IP.
PER_SOURCE_AND_SUBJECT = Limit("source-subject", 10, WINDOW)
#: Failed sign-ins of one account from anywhere before a CAPTCHA is required: covers typos and a
#: caps-lock key, then makes every further guess cost a solved CAPTCHA.
PER_SUBJECT_BEFORE_CAPTCHA = Limit("subject", 5, WINDOW)
#: CAPTCHA challenges handed to one client IP: each one writes an item, so they are rationed too.
CAPTCHAS_PER_SOURCE = Limit("captcha-source", 60, WINDOW)


def source_of(source: Mapping[str, Any]) -> str:
    """The client IP a request came from (``request_source``'s ``ip``), as counters name it."""
    return str(source.get("ip") or "") or "unknown"


@dataclass(frozen=True)
class Claim:
    """One attempt slot taken in one window; the store's ``release`` gives it back (opaque to callers)."""

    pk: str
    sk: str

"""Who may try a password now: the throttles and the CAPTCHA gate of security.throttling.

Before a password is verified the guard claims a slot, each one conditional increment, in:

1. the client IP's window (PER_SOURCE), else 429 ``TOO_MANY_SIGN_IN_ATTEMPTS``;
2. the (client IP, account) window (PER_SOURCE_AND_SUBJECT), else the same 429;
3. with a CAPTCHA in the request: the CAPTCHA is redeemed (single-use) instead, else 401
   ``CAPTCHA_INVALID``; without one: the account's window (PER_SUBJECT_BEFORE_CAPTCHA), else 401
   ``CAPTCHA_REQUIRED``, and the console shows a challenge from ``POST /v1/auth/captcha``.

The slots are taken before any check, so however many requests race, no more than each limit get a
password verified. A successful sign-in gives its slots back (the counts are of failures); a
refusal before anything was checked gives back what it took; a failure keeps them, and a failure
that came with a CAPTCHA is added to the account's count, so the gate stays up while guessing
goes on. The account is keyed by its owner string whether or not it exists, so known and unknown
accounts get the same answers in the same order; no step here reads the account.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chalicelib.domain.clock import Clock
from chalicelib.domain.errors import RateLimited, Unauthenticated
from chalicelib.security.throttling import (
    PER_SOURCE,
    PER_SOURCE_AND_SUBJECT,
    PER_SUBJECT_BEFORE_CAPTCHA,
    Claim,
    source_of,
)
from chalicelib.services.captcha import CaptchaAnswer, CaptchaService
from chalicelib.services.ports import ThrottleStore


def _throttled(wait: int) -> RateLimited:
    return RateLimited(
        "TOO_MANY_SIGN_IN_ATTEMPTS",
        f"Too many failed sign-ins from this address; try again in {wait} seconds",
        f"此網路位址登入失敗次數過多，請於 {wait} 秒後再試",
        retry_after=wait,
    )


def captcha_required() -> Unauthenticated:
    return Unauthenticated(
        "CAPTCHA_REQUIRED",
        "Solve a CAPTCHA to sign in: get one from POST /v1/auth/captcha, send captcha_id and captcha_answer",
        "請完成驗證圖後再登入：以 POST /v1/auth/captcha 取得驗證圖，並送出 captcha_id 與 captcha_answer",
        "captcha_answer",
    )


def captcha_invalid() -> Unauthenticated:
    return Unauthenticated(
        "CAPTCHA_INVALID",
        "The CAPTCHA answer is wrong, or the challenge expired or was used; get a new one",
        "驗證圖答案錯誤、已過期或已使用，請重新取得",
        "captcha_answer",
    )


class Admission:
    """Leave to verify one password; report how it went."""

    def __init__(
        self, throttles: ThrottleStore, claims: list[Claim], owner: str, now: datetime, *, with_captcha: bool
    ) -> None:
        self._throttles = throttles
        self._claims = claims
        self._owner = owner
        self._now = now
        self._with_captcha = with_captcha

    def failed(self) -> None:
        if self._with_captcha:
            self._throttles.count(PER_SUBJECT_BEFORE_CAPTCHA, self._owner, self._now)

    def succeeded(self) -> None:
        for claim in self._claims:
            self._throttles.release(claim)


class SignInGuard:
    def __init__(self, *, throttles: ThrottleStore, captchas: CaptchaService, clock: Clock) -> None:
        self._throttles = throttles
        self._captchas = captchas
        self._clock = clock

    def admit(self, owner: str, source: Mapping[str, Any], captcha: CaptchaAnswer | None) -> Admission:
        """An ``Admission``, or the refusal (429 or 401, see the module) when the password may not be tried."""
        now = self._clock.now()
        ip = source_of(source)
        claims: list[Claim] = []
        for limit, subject in ((PER_SOURCE, ip), (PER_SOURCE_AND_SUBJECT, f"{ip}|{owner}")):
            claim = self._throttles.claim(limit, subject, now)
            if claim is None:
                self._give_back(claims)
                raise _throttled(limit.retry_after(now))
            claims.append(claim)
        if captcha is not None:
            if not self._captchas.redeem(captcha):
                raise captcha_invalid()  # a failed attempt: the source keeps it on its count
            return Admission(self._throttles, claims, owner, now, with_captcha=True)
        claim = self._throttles.claim(PER_SUBJECT_BEFORE_CAPTCHA, owner, now)
        if claim is None:
            self._give_back(claims)
            raise captcha_required()
        return Admission(self._throttles, [*claims, claim], owner, now, with_captcha=False)

    def _give_back(self, claims: list[Claim]) -> None:
        for claim in claims:
            self._throttles.release(claim)

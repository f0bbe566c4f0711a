"""CAPTCHA challenges for sign-in: hand one out, and redeem one with what a person read off it.

A challenge is single-use and answers one attempt, right or wrong (the store deletes it when it
is taken), expires after security.captcha.TTL, and is handed out at most
security.throttling.CAPTCHAS_PER_SOURCE times per window to one client IP.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.clock import Clock
from chalicelib.domain.errors import RateLimited
from chalicelib.security import captcha
from chalicelib.security.throttling import CAPTCHAS_PER_SOURCE, source_of
from chalicelib.services.ports import CaptchaStore, ThrottleStore

_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")


@dataclass(frozen=True)
class Challenge:
    captcha_id: str
    image: str  # a data: URL of the PNG
    expires_in: int


@dataclass(frozen=True)
class CaptchaAnswer:
    captcha_id: str
    answer: str


class CaptchaService:
    def __init__(
        self,
        *,
        store: CaptchaStore,
        throttles: ThrottleStore,
        clock: Clock,
        key: bytes,
        new_answer: Callable[[], str] = captcha.new_answer,
    ) -> None:
        self._store = store
        self._throttles = throttles
        self._clock = clock
        self._key = key
        # A seam: tests choose the answer instead of reading the picture.
        self._new_answer = new_answer

    def issue(self, *, source: Mapping[str, Any]) -> Challenge:
        now = self._clock.now()
        if self._throttles.claim(CAPTCHAS_PER_SOURCE, source_of(source), now) is None:
            raise RateLimited(
                "TOO_MANY_REQUESTS",
                "Too many CAPTCHA challenges from this address; try again later",
                "此網路位址索取驗證圖過於頻繁，請稍後再試",
                retry_after=CAPTCHAS_PER_SOURCE.retry_after(now),
            )
        captcha_id = secrets.token_urlsafe(18)
        answer = self._new_answer()
        answer_hash = captcha.hash_answer(answer, key=self._key, captcha_id=captcha_id)
        self._store.put(captcha_id, answer_hash, now + captcha.TTL)
        return Challenge(
            captcha_id=captcha_id,
            image=captcha.data_url(captcha.render_png(answer)),
            expires_in=int(captcha.TTL.total_seconds()),
        )

    def redeem(self, submitted: CaptchaAnswer) -> bool:
        """Whether the challenge existed, had not expired and was answered right; it is used up either way."""
        if not _ID.fullmatch(submitted.captcha_id):
            return False
        taken = self._store.take(submitted.captcha_id)
        if taken is None:
            return False
        answer_hash, expires_at = taken
        if self._clock.now() >= expires_at:
            return False
        return captcha.answer_matches(submitted.answer, answer_hash, key=self._key, captcha_id=submitted.captcha_id)

"""The picture code (圖形驗證碼) of the sign-in forms, with a spoken alternative.

The challenge itself is the platform's own (services.captcha): an HMAC of the answer bound to a
single-use id, redeemed once by the sign-in guard, whatever the outcome. This module adds what a
person who cannot read the picture needs, as WCAG 1.1.1 asks of a CAPTCHA: the same five characters
read out, from the PyPI ``captcha`` package's ``AudioCaptcha`` (BSD; its recorded English letters
and digits ship inside the package, so nothing is fetched at run time; Pillow, its only dependency,
is already here for fpdf2). The voice reads letters in English, which is said next to the player.

How the audio knows the answer without weakening the challenge:

- The answer is drawn here (``security.captcha.new_answer``) and handed to the ``CaptchaService``,
  which stores only its HMAC, exactly as for the JSON API.
- The audio URL carries the answer sealed (AES-256-GCM under a key of its own, bound to the
  challenge id and with the challenge's expiry inside), so only this server can turn it into sound,
  and the page source never contains the answer. Hearing it is worth what seeing the picture is.
- Redeeming still goes through the store: the sealed copy never answers a sign-in, so a challenge
  stays single-use and server-checked. The audio is refused after the challenge's expiry, and
  rationed per client IP (each one costs a quarter-second of CPU, and a stream of differently
  noised readings of one answer should not be free).

The audio is served from this origin, not as a ``data:`` URL: the pages' CSP allows ``data:`` for
images only, and media falls under ``default-src 'self'``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from chalicelib.adapters.dynamo_throttles import DynamoThrottles
from chalicelib.adapters.keys import derived_key
from chalicelib.api import deps
from chalicelib.domain.errors import RateLimited
from chalicelib.security import captcha
from chalicelib.security.sealing import Sealer
from chalicelib.security.throttling import WINDOW, Limit, source_of

if TYPE_CHECKING:
    from captcha.audio import AudioCaptcha

#: Spoken codes one client IP may fetch per window (each challenge's audio may be replayed a few times).
AUDIO_PER_SOURCE = Limit("captcha-audio-source", 60, WINDOW)
_AUDIO_KEY_PURPOSE = "captcha-audio"


@dataclass(frozen=True)
class PictureCode:
    """What a sign-in form shows: the challenge id, its picture and where its audio is."""

    captcha_id: str
    image: str
    audio_path: str
    expires_in: int


def _sealer() -> Sealer:
    return Sealer(derived_key(_AUDIO_KEY_PURPOSE))


def _owner(captcha_id: str) -> str:
    return f"captcha-audio:{captcha_id}"


def issue(source: dict[str, Any]) -> PictureCode:
    """A new challenge (``RateLimited`` past security.throttling.CAPTCHAS_PER_SOURCE)."""
    drawn: list[str] = []

    def remembered_answer() -> str:
        # Looked up at call time, so tests can choose the answer as they do for the JSON API.
        answer = captcha.new_answer()
        drawn.append(answer)
        return answer

    service = deps.captcha_service(new_answer=remembered_answer)
    challenge = service.issue(source=source)
    expires_at = int(deps.clock.now().timestamp()) + challenge.expires_in
    token = _sealer().seal(f"{drawn[0]}|{expires_at}".encode(), _owner(challenge.captcha_id))
    return PictureCode(
        captcha_id=challenge.captcha_id,
        image=challenge.image,
        audio_path=f"/captcha/audio/{challenge.captcha_id}?t={quote(token, safe='')}",
        expires_in=challenge.expires_in,
    )


def spoken_answer(captcha_id: str, token: str, source: dict[str, Any]) -> bytes | None:
    """The WAV reading out the challenge's answer; None for a token that is not this challenge's,
    was tampered with or has expired. ``RateLimited`` past AUDIO_PER_SOURCE."""
    opened = _sealer().open(token, _owner(captcha_id))
    if opened is None:
        return None
    answer, _, expires_at = opened.decode("ascii", "replace").partition("|")
    now = deps.clock.now()
    if not expires_at.isdigit() or int(expires_at) <= now.timestamp():
        return None
    if DynamoThrottles().claim(AUDIO_PER_SOURCE, source_of(source), now) is None:
        raise RateLimited(
            "TOO_MANY_REQUESTS",
            "Too many spoken codes from this address; try again later",
            "此網路位址索取語音驗證碼過於頻繁，請稍後再試",
            retry_after=AUDIO_PER_SOURCE.retry_after(now),
        )
    return bytes(_voice().generate(answer))


@functools.lru_cache(maxsize=1)
def _voice() -> AudioCaptcha:
    from captcha.audio import AudioCaptcha  # loaded by the few requests that play a code

    voice = AudioCaptcha()
    voice.load()
    return voice

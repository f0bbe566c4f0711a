"""The CAPTCHA (圖形驗證碼): five distorted characters in a picture, drawn by the maintained
``captcha`` package (its ``ImageCaptcha``, with its own bundled font; the same package speaks the
answer for the audio alternative, see ``chalicelib.web.auth_captcha``). No outside service.

It only has to make each guess of a password cost a person's attention (see security.throttling),
not to beat a determined machine-vision attack: the throttles are the real bound.

- The alphabet leaves out look-alikes (0/O/D/Q, 1/I, 2/Z, 5/S, 6/G, 8/B), and the answer is read
  case-insensitively, after NFKC (a full-width ``Ａ`` typed on a phone is ``A``).
- The answer is drawn with ``secrets``; only the picture's distortion uses the library's own
  (non-cryptographic) randomness, which says nothing about the answer.
- The answer is stored as an HMAC bound to the challenge id under a server-side key: with 25^5 ≈ 10^7
  answers a plain hash would be reversed at once by whoever reads the table.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import unicodedata
from datetime import timedelta
from functools import lru_cache
from io import BytesIO
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from captcha.image import ImageCaptcha

ALPHABET = "2345679ACEFHJKLMNPRTUVWXY"
LENGTH = 5
TTL = timedelta(minutes=5)
WIDTH, HEIGHT = 280, 90
_MIN_KEY_BYTES = 32


def new_answer() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(submitted: object) -> str:
    """What a person typed, in the form answers are compared: NFKC, upper case, no spaces."""
    if not isinstance(submitted, str):
        return ""
    return "".join(unicodedata.normalize("NFKC", submitted).upper().split())


def hash_answer(answer: str, *, key: bytes, captcha_id: str) -> str:
    if len(key) < _MIN_KEY_BYTES:
        raise ValueError(f"the CAPTCHA key must be at least {_MIN_KEY_BYTES} bytes")
    message = f"captcha\x00{captcha_id}\x00{normalise(answer)}".encode("utf-8", "surrogatepass")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def answer_matches(submitted: object, stored_hash: str, *, key: bytes, captcha_id: str) -> bool:
    candidate = normalise(submitted)
    if len(candidate) != LENGTH:
        return False
    expected = hash_answer(candidate, key=key, captcha_id=captcha_id)
    return stored_hash.isascii() and hmac.compare_digest(expected, stored_hash)


@lru_cache(maxsize=1)
def _drawer() -> ImageCaptcha:
    # Imported on the first challenge: Pillow and the font are not needed by any other request.
    from captcha.image import ImageCaptcha

    return ImageCaptcha(width=WIDTH, height=HEIGHT)


def render_png(answer: str) -> bytes:
    """``answer`` drawn distorted, with noise, as a PNG; every drawing of it differs."""
    picture: BytesIO = _drawer().generate(answer, format="png")
    return picture.getvalue()


def data_url(png: bytes) -> str:
    """The picture as a ``data:`` URL an ``<img src>`` shows directly (the console's CSP allows data: images)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")

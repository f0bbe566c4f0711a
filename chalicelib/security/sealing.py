"""Secrets the platform must read back (not hash), encrypted at rest: AES-256-GCM under a key
derived from the root secret, a random 96-bit nonce per value, stored as Base64(nonce ‖ ciphertext).

The associated data names the value's owner, so a sealed value copied to another owner's item
does not open there.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12


class Sealer:
    def __init__(self, key: bytes) -> None:
        # cryptography loads here, for the requests that need a secret, not on every cold start.
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead: AESGCM = AESGCM(key)

    def seal(self, plaintext: bytes, owner: str) -> str:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return base64.b64encode(nonce + self._aead.encrypt(nonce, plaintext, owner.encode())).decode("ascii")

    def open(self, sealed: object, owner: str) -> bytes | None:
        """The plaintext; None when ``sealed`` is malformed, tampered with, another owner's, or was
        sealed under another key (the root secret was rotated)."""
        from cryptography.exceptions import InvalidTag

        if not isinstance(sealed, str):
            return None
        try:
            raw = base64.b64decode(sealed, validate=True)
            return self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], owner.encode())
        except (InvalidTag, binascii.Error, ValueError):
            return None

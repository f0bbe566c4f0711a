"""Secrets sealed at rest (AES-256-GCM, bound to their owner)."""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.security.sealing import Sealer

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


def test_a_sealed_value_opens_for_its_owner_and_hides_the_plaintext() -> None:
    sealer = Sealer(KEY)
    sealed = sealer.seal(b"FE05F029154F6AA67A78B338ED2F6601", "24634102")
    assert b"FE05F029" not in base64.b64decode(sealed) and "FE05F029" not in sealed
    assert sealer.open(sealed, "24634102") == b"FE05F029154F6AA67A78B338ED2F6601"


def test_sealing_the_same_value_twice_gives_different_texts() -> None:
    sealer = Sealer(KEY)
    assert sealer.seal(b"secret", "24634102") != sealer.seal(b"secret", "24634102")


def test_a_value_does_not_open_for_another_owner_or_under_another_key() -> None:
    sealed = Sealer(KEY).seal(b"secret", "24634102")
    assert Sealer(KEY).open(sealed, "12345675") is None
    assert Sealer(OTHER_KEY).open(sealed, "24634102") is None


def test_a_value_sealed_before_the_helper_existed_still_opens() -> None:
    # How webhook secrets were stored: Base64(nonce ‖ AES-GCM(secret, associated data = UBN)).
    nonce = b"\x07" * 12
    stored = base64.b64encode(nonce + AESGCM(KEY).encrypt(nonce, b"whsec_abc", b"24634102")).decode()
    assert Sealer(KEY).open(stored, "24634102") == b"whsec_abc"


def test_tampered_or_malformed_values_do_not_open() -> None:
    sealer = Sealer(KEY)
    raw = bytearray(base64.b64decode(sealer.seal(b"secret", "24634102")))
    raw[-1] ^= 1
    assert sealer.open(base64.b64encode(bytes(raw)).decode(), "24634102") is None
    for malformed in ("", "not base64!", base64.b64encode(b"short").decode(), None, 42, b"bytes"):
        assert sealer.open(malformed, "24634102") is None


@given(st.text(max_size=120))
def test_arbitrary_text_never_raises(text: str) -> None:
    assert Sealer(KEY).open(text, "24634102") is None

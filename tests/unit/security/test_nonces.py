"""Challenge nonces: shape, uniqueness and the five-minute life."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.security.nonces import is_nonce_expired, is_well_formed_nonce, new_nonce, nonce_expires_at

ISSUED = datetime(2025, 11, 20, 9, 0, tzinfo=UTC)


def test_a_nonce_is_32_random_bytes_url_safe() -> None:
    nonce = new_nonce()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", nonce)  # ceil(32 * 4 / 3) characters, unpadded
    assert is_well_formed_nonce(nonce)
    assert len({new_nonce() for _ in range(1000)}) == 1000


def test_a_nonce_lives_five_minutes() -> None:
    assert nonce_expires_at(ISSUED) == ISSUED + timedelta(minutes=5)
    assert not is_nonce_expired(ISSUED, ISSUED + timedelta(minutes=4, seconds=59))
    assert is_nonce_expired(ISSUED, ISSUED + timedelta(minutes=5))


@given(st.one_of(st.text(), st.none(), st.integers(), st.binary()))
def test_only_nonce_shaped_strings_are_well_formed(value: object) -> None:
    expected = isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_-]{43}", value) is not None
    assert is_well_formed_nonce(value) is expected

"""Random number (隨機碼): the 4 digits printed on every invoice and used in its barcodes.

It takes part in the QR verification code and in claiming carrier prizes, so a guessable value would
let others claim a consumer's invoice: it must come from a cryptographic source, never ``random``.
"""

from __future__ import annotations

import re
import secrets
from typing import Protocol

_SPACE = 10_000
_PATTERN = re.compile(r"[0-9]{4}")


class RandomSource(Protocol):
    """The part of the :mod:`secrets` module we use, so tests can pass a deterministic stand-in."""

    def randbelow(self, exclusive_upper_bound: int, /) -> int: ...


def new_random_number(source: RandomSource | None = None) -> str:
    """A fresh 4-digit random number, ``0000``-``9999``, zero-padded."""
    value = (source or _SECRETS).randbelow(_SPACE)
    if not 0 <= value < _SPACE:
        raise ValueError(f"random source returned {value}, outside 0..{_SPACE - 1}")
    return f"{value:04d}"


def is_valid_random_number(value: str) -> bool:
    return _PATTERN.fullmatch(value) is not None


class _SecretsSource:
    def randbelow(self, exclusive_upper_bound: int, /) -> int:
        return secrets.randbelow(exclusive_upper_bound)


_SECRETS = _SecretsSource()

"""Unified business number (統一編號, UBN): the 8-digit identifier of a business.

The check rule changed in 2023: the weighted digit sum must now be divisible by 5 instead of 10
(MOF notice, in force for systems from 2023-04-01). Every number valid under the old rule stays valid,
so only the new rule is implemented.
"""

from __future__ import annotations

import re

from chalicelib.domain.errors import InvalidInput

#: Buyer identifier (Buyer.Identifier / BuyerId) the MIG uses for a consumer, i.e. a B2C invoice.
CONSUMER_BUYER_ID = "0000000000"

#: The same consumer marker inside the left QR code, which only has room for 8 characters.
QR_CONSUMER_BUYER_ID = "00000000"

_WEIGHTS = (1, 2, 1, 2, 1, 2, 4, 1)
# ``[0-9]`` rather than ``\d``: ``\d`` also matches full-width and other Unicode digits.
_UBN_PATTERN = re.compile(r"[0-9]{8}")
# The 7th digit weighs 4; 7 x 4 = 28 gives a digit sum of 10, which the MOF lets count as 1 or 0.
_AMBIGUOUS_POSITION = 6


def _digit_sum(product: int) -> int:
    return product // 10 + product % 10


def is_valid_ubn(value: str) -> bool:
    """Whether ``value`` is a well-formed UBN with a correct check digit.

    Syntax is not existence: a number can pass and still not be registered (see the MOF
    ``qryBanUnitTp`` look-up). ``00000000`` is refused although its sum is 0, because the QR code
    uses it as the consumer marker, so it can never identify a business.
    """
    if not _UBN_PATTERN.fullmatch(value) or value == QR_CONSUMER_BUYER_ID:
        return False
    total = sum(_digit_sum(int(digit) * weight) for digit, weight in zip(value, _WEIGHTS, strict=True))
    if total % 5 == 0:
        return True
    return value[_AMBIGUOUS_POSITION] == "7" and (total + 1) % 5 == 0


def validate_ubn(value: object, field: str) -> str:
    """Return ``value`` if it is a valid UBN, else raise ``InvalidInput`` (``INVALID_UBN``) on ``field``."""
    if isinstance(value, str) and is_valid_ubn(value):
        return value
    raise InvalidInput(
        "INVALID_UBN",
        "A unified business number (UBN) is 8 digits with a valid check digit.",
        "統一編號須為 8 位數字且檢查碼正確。",
        field,
    )

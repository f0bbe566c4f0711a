"""Donation code (捐贈碼, formerly 愛心碼): the charity an invoice is donated to (MIG ``NPOBAN``)."""

from __future__ import annotations

import re

from chalicelib.domain.errors import InvalidInput

# 3-7 digits in practice; the MIG field itself is a string of up to 10 since 4.0.
_PATTERN = re.compile(r"[0-9]{3,7}")


def is_valid_donation_code(value: str) -> bool:
    """Format check only; whether the code exists needs the MOF look-up (``preserveCodeCheck``)."""
    return _PATTERN.fullmatch(value) is not None


def validate_donation_code(value: object, field: str = "donation_code") -> str:
    if isinstance(value, str) and is_valid_donation_code(value):
        return value
    raise InvalidInput(
        "INVALID_DONATION_CODE",
        "A donation code is 3 to 7 digits.",
        "捐贈碼須為 3 至 7 位數字。",
        field,
    )

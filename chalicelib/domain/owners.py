"""Who owns a record: the merchant (by UBN) or the tax-office staff member it belongs to.

The owner string is part of every key of a merchant's data, so the merchant can only come from
the verified credential (services/principal.py) and never from the request.
"""

from __future__ import annotations


def merchant_owner(ubn: str) -> str:
    return f"MERCHANT#{ubn}"


def staff_owner(username: str) -> str:
    return f"STAFF#{username}"

"""Where a merchant's notices go (low stock, period close, reminders): one rule for all of them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def notice_address(profile: Mapping[str, Any]) -> str | None:
    """The verified email receiver, else the contact email given at sign-up."""
    receiver = (profile.get("receivers") or {}).get("email") or {}
    address = receiver.get("address") if receiver.get("verified") else profile.get("email")
    return str(address) if address else None


def notice_mobile(profile: Mapping[str, Any]) -> str | None:
    """The verified mobile receiver: texts go only to a number the merchant proved it holds."""
    receiver = (profile.get("receivers") or {}).get("mobile") or {}
    number = receiver.get("address") if receiver.get("verified") else None
    return str(number) if number else None

"""Invoice type (發票類別): which tax computation the track was allocated for."""

from __future__ import annotations

from enum import StrEnum


class InvoiceType(StrEnum):
    """MIG ``InvoiceType``; e-invoices use only these two of the legacy codes 01-08."""

    GENERAL = "07"
    """一般稅額計算之電子發票: general tax computation (5 % VAT)."""
    SPECIAL = "08"
    """特種稅額計算之電子發票: special tax computation (banks, special food and beverage, ...)."""

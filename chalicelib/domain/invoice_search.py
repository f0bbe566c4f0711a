"""What an invoice list may be narrowed by, whichever side (seller or buyer) reads it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InvoiceFilter:
    status: str | None = None
    buyer_ubn: str | None = None
    seller_ubn: str | None = None
    carrier_id: str | None = None
    order_id: str | None = None
    has_allowances: bool | None = None  # allowances in force, or none
    voided: bool | None = None  # voided and re-issued at least once, or never
    min_total: int | None = None
    max_total: int | None = None

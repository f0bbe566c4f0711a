"""The form either party issues an allowance by exchange (交換折讓, B0101) with, on the exchanged
invoice's page: one line (an allowance of more lines goes by the API or MIG)."""

from __future__ import annotations

FORM_FIELDS = (
    "items[0].description",
    "items[0].quantity",
    "items[0].unit_price",
    "items[0].tax_type",
    "prices_include_tax",
    "allowance_number",
    "remark",
)


def blank_form() -> dict[str, str]:
    return {name: "" for name in FORM_FIELDS} | {"items[0].quantity": "1", "items[0].tax_type": "1"}

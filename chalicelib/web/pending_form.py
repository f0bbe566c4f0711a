"""The pending-invoice (待開立發票) form: browser fields to the body ``POST /v1/pending-invoices`` takes.

Inputs are named as the API names its fields (``buyer.ubn``, ``items[0].quantity``), so an error a
service reports for a field lands next to that input. Item rows left blank are skipped; the rows
after them move up in the body, so errors about ``items[n]`` are mapped back to the row shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from chalicelib.web.forms import Form

DEFAULT_ROWS = 3
MAX_ROWS = 100  # the API's own item limit is lower; this only bounds the parsing
ITEM_FIELDS = ("description", "quantity", "unit", "unit_price", "tax_type")
PLAIN_FIELDS = (
    "order_id",
    "channel",
    "buyer.ubn",
    "buyer.name",
    "buyer.email",
    "carrier.type",
    "carrier.id",
    "donation_code",
    "print",
    "prices_include_tax",
)
_ITEM_ERROR = re.compile(r"^(?:invoice\.)?items\[(\d+)\](.*)$")


@dataclass
class PendingForm:
    order_id: str
    channel: str
    invoice: dict[str, Any]
    values: dict[str, str]
    rows: int
    #: index in the body's items -> index of the row on the page
    row_of_item: dict[int, int] = field(default_factory=dict)

    def field_of(self, error_field: str | None) -> str:
        """The input an error names (``invoice.items[1].quantity`` -> the page row's input), or ``_``
        for an error about something the form has no input for (the merchant's address, ``items``)."""
        if not error_field:
            return "_"
        name = error_field.removeprefix("invoice.")
        match = _ITEM_ERROR.match(error_field)
        if match:
            row = self.row_of_item.get(int(match.group(1)), int(match.group(1)))
            name = f"items[{row}]{match.group(2)}"
            return name if match.group(2).lstrip(".") in ITEM_FIELDS else f"items[{row}].description"
        if name == "items":
            return "items[0].description"
        if name == "buyer":
            return "buyer.name"
        if name == "carrier":
            return "carrier.type"
        return name if name in PLAIN_FIELDS else "_"


def blank_values() -> dict[str, str]:
    return {"channel": "api", "prices_include_tax": "1", "print": ""}


def row_count(form: Form) -> int:
    """How many item rows the submitted form had (the script may have added some)."""
    highest = -1
    for name in form.fields:
        match = re.match(r"^items\[(\d+)\]\.", name)
        if match:
            highest = max(highest, int(match.group(1)))
    return min(max(highest + 1, DEFAULT_ROWS), MAX_ROWS)


def _text(value: str) -> str | None:
    value = value.strip()
    return value or None


def parse(form: Form) -> PendingForm:
    values = {name: form.get(name) for name in PLAIN_FIELDS}
    rows = row_count(form)
    items: list[dict[str, Any]] = []
    row_of_item: dict[int, int] = {}
    for row in range(rows):
        line = {name: form.get(f"items[{row}].{name}").strip() for name in ITEM_FIELDS}
        for name, value in line.items():
            values[f"items[{row}].{name}"] = value
        # A row with only the default tax type chosen is an unused row.
        if not any(line[name] for name in ITEM_FIELDS if name != "tax_type"):
            continue
        row_of_item[len(items)] = row
        items.append({k: v for k, v in line.items() if v or k in ("description", "quantity", "unit_price")})
    buyer = {
        "ubn": _text(values["buyer.ubn"]),
        "name": _text(values["buyer.name"]),
        "email": _text(values["buyer.email"]),
    }
    invoice: dict[str, Any] = {
        "buyer": {k: v for k, v in buyer.items() if v is not None},
        "print": values["print"] == "1",
        "prices_include_tax": values["prices_include_tax"] != "0",
        "items": items,
        "channel": _text(values["channel"]) or "api",
    }
    carrier_type = _text(values["carrier.type"])
    if carrier_type:
        invoice["carrier"] = {"type": carrier_type, "id": values["carrier.id"].strip()}
    donation = _text(values["donation_code"])
    if donation:
        invoice["donation_code"] = donation
    return PendingForm(
        order_id=values["order_id"].strip(),
        channel=invoice["channel"],
        invoice=invoice,
        values=values,
        rows=rows,
        row_of_item=row_of_item,
    )

"""Which events an outbox item stands for: the one table from the outbox's words to the event types.

The outbox item was written by the change's own transaction, so it is the change's durable record;
its ``created_at`` never changes, so it is part of each event's source and a second void of the same
invoice (which replaces the first one's finished item) is a new event, not a repeat of the first.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from chalicelib.domain import events as types
from chalicelib.domain.events import OUTBOX_EVENT_PREFIX as EVENT_PREFIX
from chalicelib.domain.events import Event, parse_time

#: The one step of an ``event:<type>`` item (domain/events.py ``outbox_event_name``).
EVENT_STEP = "publish"

_INVOICE_EVENTS = {
    "issued": (types.INVOICE_ISSUED,),
    "cancelled": (types.INVOICE_CANCELLED,),
    # A void (註銷) and the re-issue under the same number are one change here (one transaction).
    "voided": (types.INVOICE_VOIDED, types.INVOICE_REISSUED),
}
_ALLOWANCE_EVENTS = {
    "allowance_issued": (types.ALLOWANCE_ISSUED,),
    "allowance_cancelled": (types.ALLOWANCE_CANCELLED,),
    # As an invoice's: the void (G0701) and the re-issue under the same number are one transaction.
    "allowance_voided": (types.ALLOWANCE_VOIDED, types.ALLOWANCE_REISSUED),
}


def _created(item: Mapping[str, Any]) -> datetime:
    return parse_time(str(item["created_at"]))


def _source(item: Mapping[str, Any], kind: str, what: str) -> str:
    return f"{kind}:{item['invoice_number']}:{what}:{item['created_at']}"


def invoice_events(item: Mapping[str, Any], invoice: Mapping[str, Any]) -> list[Event]:
    """The events of an invoice's outbox item; ``invoice`` is the invoice as the API shows it."""
    ubn, name = str(item["ubn"]), str(item["event"])
    found = [
        Event(ubn, event_type, _source(item, "invoice", event_type), _created(item), dict(invoice))
        for event_type in _INVOICE_EVENTS.get(name, ())
    ]
    origin = str(item.get("origin") or "")
    if name == "issued" and origin.startswith("pending:"):
        data = {
            "pending_id": origin.removeprefix("pending:"),
            "order_id": invoice.get("order_id"),
            "invoice": dict(invoice),
        }
        found.append(Event(ubn, types.PENDING_INVOICE_ISSUED, _source(item, "pending", "issued"), _created(item), data))
    return found


def allowance_events(item: Mapping[str, Any], allowance: Mapping[str, Any]) -> list[Event]:
    return [
        Event(str(item["ubn"]), event_type, _source(item, "allowance", event_type), _created(item), dict(allowance))
        for event_type in _ALLOWANCE_EVENTS.get(str(item["event"]), ())
    ]


def low_stock_event(item: Mapping[str, Any]) -> Event:
    data = {
        "channel": item["channel"],
        "period": item["period"],
        "invoice_type": item["invoice_type"],
        "remaining": int(item["remaining"]),
        "threshold": int(item["threshold"]),
    }
    return Event(str(item["ubn"]), types.TRACK_LOW_STOCK, _source(item, "track", "low_stock"), _created(item), data)


def standalone_event(item: Mapping[str, Any]) -> Event:
    """The event of an ``event:<type>`` item."""
    event_type = str(item["event"]).removeprefix(EVENT_PREFIX)
    return Event(
        str(item["ubn"]),
        event_type,
        _source(item, "event", event_type),
        _created(item),
        dict(item.get("payload") or {}),
    )

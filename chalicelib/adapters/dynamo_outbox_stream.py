"""Which records of the invoices table's stream wake the outbox: new work, read off the stream.

Every change that needs work after it (documents, mail, events) commits an outbox item
(``sk=OUTBOX#<number>#<event>``, dynamo_invoices.py) in its own transaction. The table's stream
then carries that item to the outbox function, so no request waits on a queue after its commit,
and no commit can happen without its wake-up. Only an item that starts work is one: a new item,
or one put again over an old one (a void and re-issue replaces its ``voided`` item). The
processor's own step updates are changes to a pending item too; they are passed over here (and by
the event source mapping's filter, where one is deployed: ``STREAM_FILTER``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.adapters.dynamo_invoices import OUTBOX_PREFIX

# The Lambda event source mapping's filter (infra/template.py): outbox items that are pending.
# The handler checks the same and more, so a mapping without the filter costs invocations only.
STREAM_FILTER: dict[str, Any] = {
    "eventName": ["INSERT", "MODIFY"],
    "dynamodb": {
        "Keys": {"sk": {"S": [{"prefix": OUTBOX_PREFIX}]}},
        "NewImage": {"status": {"S": ["pending"]}},
    },
}


@dataclass(frozen=True)
class WakeUp:
    ubn: str
    number: str
    event: str


def _text(image: Mapping[str, Any], name: str) -> str | None:
    value = image.get(name)
    return value.get("S") if isinstance(value, Mapping) else None


def wake_up(record: Mapping[str, Any]) -> WakeUp | None:
    """The outbox item one stream record (Lambda's shape) starts, or None if it starts nothing."""
    change = record.get("dynamodb")
    if not isinstance(change, Mapping):
        return None
    new = change.get("NewImage") or {}
    sort_key = _text(change.get("Keys") or {}, "sk") or ""
    if not sort_key.startswith(OUTBOX_PREFIX) or _text(new, "status") != "pending":
        return None
    name = record.get("eventName")
    if name == "MODIFY":
        old = change.get("OldImage") or {}
        # A step moved on an item already at work: not new work. A put over it starts anew.
        if _text(old, "created_at") == _text(new, "created_at") and _text(old, "status") == "pending":
            return None
    elif name != "INSERT":
        return None
    ubn, number, event = _text(new, "ubn"), _text(new, "invoice_number"), _text(new, "event")
    if not (ubn and number and event):
        return None
    return WakeUp(ubn, number, event)


def wake_ups(records: Iterable[Mapping[str, Any]]) -> list[WakeUp]:
    """The distinct outbox items a batch of stream records starts, in stream order."""
    seen: dict[WakeUp, None] = {}
    for record in records:
        found = wake_up(record)
        if found is not None:
            seen.setdefault(found, None)
    return list(seen)

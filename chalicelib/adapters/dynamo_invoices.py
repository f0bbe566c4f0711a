"""Invoices, their outbox entries and per-period totals in the invoices table.

- ``pk=MERCHANT#<ubn>, sk=INV#<number>``: the invoice. gsi1 (``MERCHANT#<ubn>`` /
  ``<date>T<time>#<number>``) serves every list and date query; gsi2 (``BUYER#<buyer ubn>`` /
  ``<date>T<time>#<seller>#<number>``) serves the buyer's received invoices.
- ``pk=MERCHANT#<ubn>, sk=ORDER#<order_id>``: the merchant's order id, unique per merchant.
- ``pk=MERCHANT#<ubn>, sk=TOTALS#<period>#<group>#<shard>``: running totals the 401 return reads
  (adapters/dynamo_totals.py).
- ``pk=MERCHANT#<ubn>, sk=OUTBOX#<number>#<event>``: work to do after an invoice changed
  (documents, delivery); while pending it is in gsi1 under ``OUTBOX#PENDING`` for the sweeper.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import cancellation_reasons, dynamodb, from_item, get, key, to_item
from chalicelib.domain.events import outbox_event_name
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.settings import get_settings

OUTBOX_PENDING = "OUTBOX#PENDING"
OUTBOX_PREFIX = "OUTBOX#"


def invoices_table() -> str:
    return get_settings().invoices_table


def owner(ubn: str) -> str:
    return f"MERCHANT#{ubn}"


def invoice_sort_key(number: str) -> str:
    return f"INV#{number}"


def outbox_sort_key(number: str, event: str) -> str:
    return f"{OUTBOX_PREFIX}{number}#{event}"


def invoice_item(record: InvoiceRecord, seller_ubn: str) -> dict[str, Any]:
    stamp = f"{record.invoice_date.isoformat()}T{record.invoice_time}"
    item: dict[str, Any] = {
        "pk": owner(seller_ubn),
        "sk": invoice_sort_key(record.invoice_number),
        "gsi1pk": owner(seller_ubn),
        "gsi1sk": f"{stamp}#{record.invoice_number}",
        **record.model_dump(mode="json"),
    }
    if record.buyer.get("ubn"):
        item["gsi2pk"] = f"BUYER#{record.buyer['ubn']}"
        item["gsi2sk"] = f"{stamp}#{seller_ubn}#{record.invoice_number}"
    return item


def outbox_item(ubn: str, number: str, event: str, steps: dict[str, str], created: str, **extra: Any) -> dict[str, Any]:
    """A new outbox entry, pending (so in the sweeper's index) until every step is done or skipped."""
    return {
        "pk": owner(ubn),
        "sk": outbox_sort_key(number, event),
        "ubn": ubn,
        "invoice_number": number,
        "event": event,
        "created_at": created,
        "steps": steps,
        "attempts": 0,
        "status": "pending",
        "gsi1pk": OUTBOX_PENDING,
        "gsi1sk": f"{created}#{ubn}#{number}",
        **extra,
    }


def event_outbox_put(
    ubn: str, subject: str, event_type: str, payload: Mapping[str, Any], created: str
) -> dict[str, Any]:
    """A Put, for the change's own transaction, of an outbox item that carries only the event
    ``event_type`` about ``subject`` (services/event_sources.py turns it into the event)."""
    item = outbox_item(ubn, subject, outbox_event_name(event_type), {"publish": "pending"}, created, payload=payload)
    return {
        "Put": {"TableName": invoices_table(), "Item": to_item(item), "ConditionExpression": "attribute_not_exists(pk)"}
    }


def merge_fields(
    sort_key: str, ubn: str, maps: Mapping[str, Mapping[str, Any]], fields: Mapping[str, Any] | None = None
) -> None:
    """Set single keys of map fields (``artifacts.<step>``, ``delivery.<step>``) and top-level
    ``fields`` of an existing item, never rewriting a whole map: two workers publishing different
    keys at once both keep theirs. Two updates, since one cannot create a map and set a key in it."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {":empty": {}}
    ensure = []
    for i, name in enumerate(maps):
        names[f"#m{i}"] = name
        ensure.append(f"#m{i} = if_not_exists(#m{i}, :empty)")
    table, item_key = invoices_table(), key(owner(ubn), sort_key)
    if ensure:
        dynamodb().update_item(
            TableName=table,
            Key=item_key,
            UpdateExpression="SET " + ", ".join(ensure),
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_item(values),
        )
    sets: list[str] = []
    names, values = {}, {}
    for i, (name, entries) in enumerate(maps.items()):
        for j, (entry, value) in enumerate(entries.items()):
            names[f"#m{i}"], names[f"#k{i}_{j}"], values[f":v{i}_{j}"] = name, str(entry), value
            sets.append(f"#m{i}.#k{i}_{j} = :v{i}_{j}")
    for i, (name, value) in enumerate((fields or {}).items()):
        names[f"#f{i}"], values[f":f{i}"] = name, value
        sets.append(f"#f{i} = :f{i}")
    if not sets:
        return
    dynamodb().update_item(
        TableName=table,
        Key=item_key,
        UpdateExpression="SET " + ", ".join(sets),
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=to_item(values),
    )


class DynamoInvoices:
    def get(self, ubn: str, number: str) -> InvoiceRecord | None:
        item = get(invoices_table(), owner(ubn), invoice_sort_key(number))
        return InvoiceRecord.model_validate(item) if item else None

    def get_raw(self, ubn: str, number: str) -> dict[str, Any] | None:
        return get(invoices_table(), owner(ubn), invoice_sort_key(number))

    def order(self, ubn: str, order_id: str) -> dict[str, Any] | None:
        return get(invoices_table(), owner(ubn), f"ORDER#{order_id}")

    def order_key(self, ubn: str, order_id: str) -> tuple[str, dict[str, Any]]:
        """``(table, key)`` of an order-id record, for a read batched with others (``dynamo.get_many``)."""
        return invoices_table(), key(owner(ubn), f"ORDER#{order_id}")

    def outbox(self, ubn: str, number: str, event: str) -> dict[str, Any] | None:
        return get(invoices_table(), owner(ubn), outbox_sort_key(number, event))

    def totals(self, ubn: str, period: str, invoice_type: str) -> dict[str, Any] | None:
        """The period's running totals of one invoice type, summed over their shards (None: none yet)."""
        from chalicelib.adapters.dynamo_totals import read

        return read(ubn, period).groups.get(invoice_type)

    def set_fields(self, ubn: str, number: str, fields: dict[str, Any]) -> None:
        """Set top-level fields of an invoice (artifacts, delivery) without touching the rest."""
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        values = {f":v{i}": value for i, value in enumerate(fields.values())}
        dynamodb().update_item(
            TableName=invoices_table(),
            Key=key(owner(ubn), invoice_sort_key(number)),
            UpdateExpression="SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields))),
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_item(values),
        )

    def merge_fields(
        self, ubn: str, number: str, maps: Mapping[str, Mapping[str, Any]], fields: Mapping[str, Any] | None = None
    ) -> None:
        """Set keys inside the invoice's maps (artifacts, delivery) one by one; see :func:`merge_fields`."""
        merge_fields(invoice_sort_key(number), ubn, maps, fields)

    def transact(self, actions: list[dict[str, Any]]) -> bool:
        """Commit ``actions`` together; False when a condition failed (someone changed the invoice
        first), so the caller can answer 409 instead of guessing."""
        try:
            dynamodb().transact_write_items(TransactItems=actions)
        except ClientError as error:
            reasons = cancellation_reasons(error)
            if reasons and "ConditionalCheckFailed" in reasons:
                return False
            raise
        return True

    def pending_outbox(self, limit: int = 100) -> list[dict[str, Any]]:
        """Outbox entries not yet done, oldest first (the sweeper's work list)."""
        response = dynamodb().query(
            TableName=invoices_table(),
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :p",
            ExpressionAttributeValues={":p": {"S": OUTBOX_PENDING}},
            Limit=limit,
        )
        return [from_item(item) for item in response.get("Items", [])]

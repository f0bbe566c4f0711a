"""Winning invoices (中獎) in the invoices table, next to the invoices they name.

- ``pk=MERCHANT#<ubn>, sk=WIN#<period>#<number>``: one winner of one period. A period's winners are
  one Query on the merchant's partition (``begins_with(sk, "WIN#<period>#")``), never a scan.

Matching a period reads invoices by key only (``MERCHANT#<ubn>`` / ``INV#<number>``, BatchGetItem):
the candidates are computed from the allocated ranges (domain/lottery.py ``candidates``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chalicelib.adapters.dynamo import get, get_many, key, query_all, to_item
from chalicelib.adapters.dynamo_invoices import invoice_sort_key, invoices_table, owner
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.domain.lottery import DELIVERED, TO_DELIVER, WinnerRecord
from chalicelib.domain.writes import MarkPrizeDelivered, PutWinner

_BATCH = 100  # BatchGetItem reads at most 100 keys


def winner_sort_key(period: str, number: str) -> str:
    return f"WIN#{period}#{number}"


def put_winner(intent: PutWinner) -> dict[str, Any]:
    record = intent.record
    item = {
        "pk": owner(record.ubn),
        "sk": winner_sort_key(record.period, record.invoice_number),
        "kind": "winner",
        **record.model_dump(mode="json"),
    }
    return {
        "Put": {
            "TableName": invoices_table(),
            "Item": to_item(item),
            "ConditionExpression": "attribute_not_exists(pk)",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def mark_delivered(intent: MarkPrizeDelivered) -> dict[str, Any]:
    entry = intent.entry.model_dump(mode="json")
    return {
        "Update": {
            "TableName": invoices_table(),
            "Key": key(owner(intent.ubn), winner_sort_key(intent.period, intent.invoice_number)),
            "UpdateExpression": "SET #status = :delivered, delivered_at = :at, delivered_by = :by, "
            "history = list_append(history, :h)",
            "ConditionExpression": "#status = :to_deliver",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": to_item(
                {
                    ":delivered": DELIVERED,
                    ":to_deliver": TO_DELIVER,
                    ":at": entry["at"],
                    ":by": entry["actor"],
                    ":h": [entry],
                }
            ),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


class DynamoWinners:
    def winners(self, ubn: str, period: str) -> list[WinnerRecord]:
        items = query_all(
            TableName=invoices_table(),
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=to_item({":pk": owner(ubn), ":prefix": f"WIN#{period}#"}),
            ConsistentRead=True,
        )
        return [WinnerRecord.model_validate(item) for item in items]

    def winner(self, ubn: str, period: str, number: str) -> WinnerRecord | None:
        item = get(invoices_table(), owner(ubn), winner_sort_key(period, number))
        return WinnerRecord.model_validate(item) if item else None

    def invoices(self, ubn: str, numbers: Sequence[str]) -> dict[str, InvoiceRecord]:
        """The stored invoices among ``numbers`` of merchant ``ubn``, by number (read by key)."""
        found: dict[str, InvoiceRecord] = {}
        wanted = list(dict.fromkeys(numbers))
        for start in range(0, len(wanted), _BATCH):
            chunk = wanted[start : start + _BATCH]
            keys = [(invoices_table(), key(owner(ubn), invoice_sort_key(number))) for number in chunk]
            for item in get_many(keys):
                if item is not None:
                    record = InvoiceRecord.model_validate(item)
                    found[record.invoice_number] = record
        return found

"""Winning invoices (中獎) in the invoices table, next to the invoices they name.

- ``pk=MERCHANT#<ubn>, sk=WIN#<period>#<number>``: one winner of one period. A period's winners are
  one Query on the merchant's partition (``begins_with(sk, "WIN#<period>#")``), never a scan.
- ``pk=LOTTERY#<period>, sk=NUMBERS``: the period's drawn numbers and their version, the tax
  office's record (no merchant's): replacing them is conditional on the version read.

Replacing a period's numbers finds the winners it may change by key too: every winner the old
numbers recorded is one of the old numbers' candidates, read with the new ones' (BatchGetItem).

Matching a period reads invoices by key only (``MERCHANT#<ubn>`` / ``INV#<number>``, BatchGetItem):
the candidates are computed from the allocated ranges (domain/lottery.py ``candidates``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chalicelib.adapters.dynamo import dynamodb, from_item, get, get_many, key, query_all, to_item
from chalicelib.adapters.dynamo_invoices import invoice_sort_key, invoices_table, owner
from chalicelib.domain.invoice_record import InvoiceRecord
from chalicelib.domain.lottery import (
    DELIVERED,
    NOTHING_TO_DELIVER,
    TO_DELIVER,
    WITHDRAWN,
    PeriodNumbers,
    WinnerRecord,
)
from chalicelib.domain.writes import MarkPrizeDelivered, PutWinner, PutWinningNumbers, ReviseWinner, WithdrawWinner

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


def withdraw_winner(intent: WithdrawWinner) -> dict[str, Any]:
    entry = intent.entry.model_dump(mode="json")
    return {
        "Update": {
            "TableName": invoices_table(),
            "Key": key(owner(intent.ubn), winner_sort_key(intent.period, intent.invoice_number)),
            "UpdateExpression": "SET #status = :withdrawn, withdrawn_at = :at, withdrawn_by = :by, "
            "history = list_append(history, :h)",
            "ConditionExpression": "#status IN (:to_deliver, :nothing)",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": to_item(
                {
                    ":withdrawn": WITHDRAWN,
                    ":to_deliver": TO_DELIVER,
                    ":nothing": NOTHING_TO_DELIVER,
                    ":at": entry["at"],
                    ":by": entry["actor"],
                    ":h": [entry],
                }
            ),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


_REVISED = ("prize", "prize_amount", "source", "duty", "status", "buyer_mailed", "loaded_at", "loaded_by")


def revise_winner(intent: ReviseWinner) -> dict[str, Any]:
    record = intent.record.model_dump(mode="json")
    names = {f"#{name}": name for name in _REVISED}
    values: dict[str, Any] = {f":{name}": record[name] for name in _REVISED}
    values |= {":h": [intent.entry.model_dump(mode="json")], ":delivered": DELIVERED}
    sets = ", ".join(f"#{name} = :{name}" for name in _REVISED)
    return {
        "Update": {
            "TableName": invoices_table(),
            "Key": key(owner(intent.record.ubn), winner_sort_key(intent.record.period, intent.record.invoice_number)),
            "UpdateExpression": f"SET {sets}, history = list_append(history, :h) REMOVE withdrawn_at, withdrawn_by",
            "ConditionExpression": "attribute_exists(pk) AND #status <> :delivered",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_item(values),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def _numbers_pk(period: str) -> str:
    return f"LOTTERY#{period}"


def put_numbers(intent: PutWinningNumbers) -> dict[str, Any]:
    numbers = intent.numbers
    put: dict[str, Any] = {
        "TableName": invoices_table(),
        "Item": to_item({"pk": _numbers_pk(numbers.period), "sk": "NUMBERS", **numbers.model_dump(mode="json")}),
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    if numbers.version == 1:
        put["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        put["ConditionExpression"] = "version = :previous"
        put["ExpressionAttributeValues"] = to_item({":previous": numbers.version - 1})
    return {"Put": put}


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

    def winners_at(self, ubn: str, period: str, numbers: Sequence[str]) -> dict[str, WinnerRecord]:
        """The winners of ``period`` among ``numbers`` of merchant ``ubn`` (read by key)."""
        wanted = list(dict.fromkeys(numbers))
        found: dict[str, WinnerRecord] = {}
        for start in range(0, len(wanted), _BATCH):
            chunk = wanted[start : start + _BATCH]
            keys = [(invoices_table(), key(owner(ubn), winner_sort_key(period, number))) for number in chunk]
            for item in get_many(keys):
                if item is not None:
                    record = WinnerRecord.model_validate(item)
                    found[record.invoice_number] = record
        return found

    def numbers(self, period: str) -> PeriodNumbers | None:
        item = get(invoices_table(), _numbers_pk(period), "NUMBERS")
        return PeriodNumbers.model_validate(item) if item else None

    def recent_to_deliver(self, ubn: str, limit: int) -> list[WinnerRecord]:
        """Winners still to deliver among the merchant's ``limit`` newest (latest periods first):
        one bounded Query, however many periods the merchant has won in."""
        response = dynamodb().query(
            TableName=invoices_table(),
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            FilterExpression="#status = :to_deliver",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_item({":pk": owner(ubn), ":prefix": "WIN#", ":to_deliver": TO_DELIVER}),
            ScanIndexForward=False,
            Limit=limit,
            ConsistentRead=True,
        )
        return [WinnerRecord.model_validate(from_item(item)) for item in response.get("Items", [])]

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

"""B2B exchange (交換) in the invoices table, for the write seam (adapters/dynamo_ledger.py) and the
to-do lists (待辦事項).

- The exchanged invoice stays where every invoice is (``MERCHANT#<seller>`` / ``INV#<number>``);
  its ``exchange`` map holds the state, the deadline and the messages. A step is one conditional
  update on ``exchange.state`` as it was read.
- ``pk=MERCHANT#<party>, sk=XCHG#<seller UBN>-<number>``: one to-do entry per party (seller and
  buyer) while the exchange is open, written and removed in the same transaction as the step.
  A party's to-do list is then one Query on its own partition (``begins_with(sk, "XCHG#")``),
  never a scan nor a read of another merchant's partition.
"""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamo import key, query_all, to_item
from chalicelib.adapters.dynamo_invoices import invoice_sort_key, invoices_table, owner
from chalicelib.domain.exchange import ExchangeTask
from chalicelib.domain.writes import ChangeExchange, DropExchangeTask, PutExchangeTask

TASK_PREFIX = "XCHG#"


def task_sort_key(task_id: str) -> str:
    return f"{TASK_PREFIX}{task_id}"


def change_exchange(intent: ChangeExchange) -> dict[str, Any]:
    sets = ["#x = :x", "history = list_append(history, :h)"]
    names = {"#x": "exchange", "#state": "state"}
    values: dict[str, Any] = {
        ":x": intent.exchange.model_dump(mode="json"),
        ":h": [intent.history.model_dump(mode="json")],
        ":expected": intent.expected,
    }
    if intent.status is not None:
        sets.append("#status = :status")
        names["#status"] = "status"
        values[":status"] = intent.status
    if intent.cancellation is not None:
        sets.append("cancellation = :c")
        values[":c"] = dict(intent.cancellation)
    condition = "#x.#state = :expected"
    if intent.allowance_free:
        condition += " AND (attribute_not_exists(allowance_count) OR allowance_count = :zero)"
        values[":zero"] = 0
    return {
        "Update": {
            "TableName": invoices_table(),
            "Key": key(owner(intent.ubn), invoice_sort_key(intent.invoice_number)),
            "UpdateExpression": "SET " + ", ".join(sets),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_item(values),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def put_task(intent: PutExchangeTask) -> dict[str, Any]:
    item = {"pk": owner(intent.ubn), "sk": task_sort_key(intent.task.id), **intent.task.model_dump(mode="json")}
    return {"Put": {"TableName": invoices_table(), "Item": to_item(item)}}


def drop_task(intent: DropExchangeTask) -> dict[str, Any]:
    return {"Delete": {"TableName": invoices_table(), "Key": key(owner(intent.ubn), task_sort_key(intent.task_id))}}


class DynamoExchangeTasks:
    """A merchant's open exchanges, as both parties' to-do entries hold them."""

    def open_tasks(self, ubn: str) -> list[ExchangeTask]:
        items = query_all(
            TableName=invoices_table(),
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=to_item({":pk": owner(ubn), ":prefix": TASK_PREFIX}),
            ConsistentRead=True,
        )
        return [ExchangeTask.model_validate(item) for item in items]

"""Exchanged allowances (交換折讓, B0101…B0202) in the invoices table, for the write seam
(adapters/dynamo_ledger.py).

- The allowance is an allowance like any (``MERCHANT#<seller>`` / ``ALW#<number>``, in gsi1 and
  gsi2, adapters/dynamo_allowances.py), whoever issued it: the seller's books hold it, the
  reconciliation counts it once it is ``issued`` (confirmed). Its ``exchange`` map holds the
  state, the issuer and the messages; a step is one conditional update on ``exchange.state``.
- Its amount is reserved on the invoice in the same transaction as the allowance is put, only
  while the invoice's own exchange is ``confirmed``.
- Both parties' to-do entries are the exchange's (adapters/dynamo_exchange.py), under the
  allowance's id.
"""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamo import key, to_item
from chalicelib.adapters.dynamo_allowances import allowance_sort_key
from chalicelib.adapters.dynamo_invoices import invoice_sort_key, invoices_table, owner
from chalicelib.domain.exchange import ExchangeState
from chalicelib.domain.writes import ChangeExchangeAllowance, ReserveAllowable


def reserve_invoice(intent: ReserveAllowable) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": invoices_table(),
            "Key": key(owner(intent.ubn), invoice_sort_key(intent.invoice_number)),
            "UpdateExpression": (
                "SET allowance_remaining = if_not_exists(allowance_remaining, :total) - :amount, "
                "history = list_append(if_not_exists(history, :empty), :history) ADD allowance_count :one"
            ),
            "ConditionExpression": (
                "#status = :issued AND #x.#state = :confirmed "
                "AND (attribute_not_exists(allowance_remaining) OR allowance_remaining >= :amount)"
            ),
            "ExpressionAttributeNames": {"#status": "status", "#x": "exchange", "#state": "state"},
            "ExpressionAttributeValues": to_item(
                {
                    ":total": intent.invoice_total,
                    ":amount": intent.amount,
                    ":one": 1,
                    ":issued": "issued",
                    ":confirmed": ExchangeState.CONFIRMED.value,
                    ":history": [intent.history.model_dump(mode="json")],
                    ":empty": [],
                }
            ),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def change_allowance(intent: ChangeExchangeAllowance) -> dict[str, Any]:
    sets = ["#x = :x", "history = list_append(if_not_exists(history, :empty), :h)"]
    names = {"#x": "exchange", "#state": "state"}
    values: dict[str, Any] = {
        ":x": intent.exchange.model_dump(mode="json"),
        ":h": [intent.history.model_dump(mode="json")],
        ":empty": [],
        ":expected": intent.expected,
    }
    for index, (name, value) in enumerate(intent.fields.items()):
        sets.append(f"#f{index} = :f{index}")
        names[f"#f{index}"] = name
        values[f":f{index}"] = value
    return {
        "Update": {
            "TableName": invoices_table(),
            "Key": key(owner(intent.ubn), allowance_sort_key(intent.allowance_number)),
            "UpdateExpression": "SET " + ", ".join(sets),
            "ConditionExpression": "#x.#state = :expected",
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_item(values),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }

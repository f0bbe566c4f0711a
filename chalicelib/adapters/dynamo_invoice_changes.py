"""The transaction actions that change an issued invoice (cancel, void and re-issue, a history
entry), for the write seam (adapters/dynamo_ledger.py). Each is conditional on the state the
change was decided on, so that of two concurrent changes only one wins."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.adapters.dynamo import key, to_item
from chalicelib.adapters.dynamo_invoices import invoice_item, invoice_sort_key, invoices_table, owner
from chalicelib.domain.invoice_record import HistoryEntry, InvoiceRecord

ISSUED, CANCELLED = "issued", "cancelled"
# Allowances keep ``allowance_count`` on the invoice; none may be in force for a cancel or void.
_NO_ALLOWANCES = "(attribute_not_exists(allowance_count) OR allowance_count <= :zero)"
_KEYS = ("pk", "sk")


def cancel_invoice(ubn: str, number: str, cancellation: Mapping[str, Any], history: HistoryEntry) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": invoices_table(),
            "Key": key(owner(ubn), invoice_sort_key(number)),
            "UpdateExpression": "SET #status = :cancelled, cancellation = :c, history = list_append(history, :h)",
            "ConditionExpression": f"#status = :issued AND {_NO_ALLOWANCES}",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": to_item(
                {
                    ":cancelled": CANCELLED,
                    ":issued": ISSUED,
                    ":c": dict(cancellation),
                    ":h": [history.model_dump(mode="json")],
                    ":zero": 0,
                }
            ),
        }
    }


def replace_invoice(
    ubn: str, record: InvoiceRecord, expected_random_number: str, reset_allowable: bool
) -> dict[str, Any]:
    """Every field of the corrected invoice set on the stored item (what the record does not hold,
    such as the allowance counters, stays); a consumer invoice leaves the buyer's index."""
    item = invoice_item(record, ubn)
    fields = {name: value for name, value in item.items() if name not in _KEYS}
    if reset_allowable:  # no allowance is in force (the condition), so all of the new total remains
        fields["allowance_remaining"] = record.amounts.total_amount
    # An empty field is not stored (to_item): the corrected invoice's empty fields are removed, and
    # so is the buyer's index when it is a consumer invoice now.
    kept = {name: value for name, value in fields.items() if value is not None}
    removed = [name for name, value in fields.items() if value is None]
    names = {f"#f{i}": name for i, name in enumerate(kept)}
    names |= {f"#r{i}": name for i, name in enumerate(removed)}
    values = {f":v{i}": value for i, value in enumerate(kept.values())}
    expression = "SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(kept)))
    gone = [f"#r{i}" for i in range(len(removed))] + ([] if "gsi2pk" in item else ["gsi2pk", "gsi2sk"])
    if gone:
        expression += " REMOVE " + ", ".join(gone)
    return {
        "Update": {
            "TableName": invoices_table(),
            "Key": key(owner(ubn), invoice_sort_key(record.invoice_number)),
            "UpdateExpression": expression,
            # Exactly the version read: a concurrent void or cancel makes this one fail.
            "ConditionExpression": f"#status = :issued AND random_number = :old AND {_NO_ALLOWANCES}",
            "ExpressionAttributeNames": {**names, "#status": "status"},
            "ExpressionAttributeValues": to_item(
                {**values, ":issued": ISSUED, ":old": expected_random_number, ":zero": 0}
            ),
        }
    }


def append_history(ubn: str, number: str, entry: HistoryEntry) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": invoices_table(),
            "Key": key(owner(ubn), invoice_sort_key(number)),
            "UpdateExpression": "SET history = list_append(history, :h)",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": to_item({":h": [entry.model_dump(mode="json")]}),
        }
    }

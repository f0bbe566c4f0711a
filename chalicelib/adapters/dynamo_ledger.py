"""The write seam (unit of work): a use case's intents (domain/writes.py) as one DynamoDB transaction.

Only here do intents become keys, condition expressions and ``TransactItems``, and only here is a
cancelled transaction read: a refused condition becomes ``NumberTaken`` (the counter moved; the
cancellation hands back the counter as it is now, which saves a read per lost race) or
``AlreadyRecorded`` (naming the intent and what is stored), so that no service has to know the
order of the actions. All or nothing: a failure of any intent leaves every item as it was, so a
number is never used without its invoice, nor an invoice stored without its totals and outbox item.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import cancellation_reasons, dynamodb, from_item, to_item
from chalicelib.adapters.dynamo_invoices import invoice_item, invoices_table, outbox_item, owner
from chalicelib.adapters.dynamo_totals import PURCHASES, adding
from chalicelib.adapters.dynamo_tracks import as_counter, take_number_action
from chalicelib.domain.writes import (
    AddToPurchases,
    AddToTotals,
    AlreadyRecorded,
    Intent,
    NumberTaken,
    PutInvoice,
    PutOutboxItem,
    RecordIdempotencyKey,
    RecordOrderId,
    TakeNumber,
)
from chalicelib.settings import get_settings

_NEW = "attribute_not_exists(pk)"


def _take_number(intent: TakeNumber) -> dict[str, Any]:
    return take_number_action(intent.ubn, intent.counter, intent.issued_at, intent.low_stock_notice)


def _put_invoice(intent: PutInvoice) -> dict[str, Any]:
    return _put(invoices_table(), invoice_item(intent.record, intent.ubn))


def _add_to_totals(intent: AddToTotals) -> dict[str, Any]:
    return adding(intent.ubn, intent.period, intent.invoice_type, intent.changes)


def _add_to_purchases(intent: AddToPurchases) -> dict[str, Any]:
    return adding(intent.buyer_ubn, intent.period, PURCHASES, intent.changes)


def _put_outbox_item(intent: PutOutboxItem) -> dict[str, Any]:
    item = outbox_item(intent.ubn, intent.subject, intent.event, dict(intent.steps), intent.created_at, **intent.fields)
    return _put(invoices_table(), item)


def _record_idempotency_key(intent: RecordIdempotencyKey) -> dict[str, Any]:
    item = {
        "id": intent.key_id,
        "invoice_number": intent.invoice_number,
        "validation": intent.fingerprint,
        "status": "COMPLETED",
        "expiration": intent.expires_at,
    }
    put = _put(get_settings().idempotency_table, item, "attribute_not_exists(id) OR expiration < :now")
    put["Put"]["ExpressionAttributeValues"] = {":now": {"N": str(intent.now)}}
    return put


def _record_order_id(intent: RecordOrderId) -> dict[str, Any]:
    item = {
        "pk": owner(intent.ubn),
        "sk": f"ORDER#{intent.order_id}",
        "invoice_number": intent.invoice_number,
        "validation": intent.fingerprint,
    }
    return _put(invoices_table(), item)


_ACTIONS: dict[type, Callable[[Any], dict[str, Any]]] = {
    TakeNumber: _take_number,
    PutInvoice: _put_invoice,
    AddToTotals: _add_to_totals,
    AddToPurchases: _add_to_purchases,
    PutOutboxItem: _put_outbox_item,
    RecordIdempotencyKey: _record_idempotency_key,
    RecordOrderId: _record_order_id,
}


def action(intent: Intent) -> dict[str, Any]:
    """The transaction action of one intent."""
    return _ACTIONS[type(intent)](intent)


def _put(table: str, item: dict[str, Any], condition: str = _NEW) -> dict[str, Any]:
    return {
        "Put": {
            "TableName": table,
            "Item": to_item(item),
            "ConditionExpression": condition,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


class DynamoLedger:
    """``UnitOfWork`` over DynamoDB: ``commit`` writes every intent in one TransactWriteItems."""

    def commit(self, intents: Sequence[Intent]) -> None:
        if not intents:
            return
        if len(intents) > 100:
            raise ValueError("a transaction holds at most 100 intents")
        actions = [action(intent) for intent in intents]
        try:
            dynamodb().transact_write_items(TransactItems=actions, ClientRequestToken=secrets.token_hex(16))
        except ClientError as exc:
            refusal = _refusal(exc, intents)
            if refusal is None:
                raise
            raise refusal from exc


def _refusal(exc: ClientError, intents: Sequence[Intent]) -> NumberTaken | AlreadyRecorded | None:
    """What a cancelled transaction means, about which intent; None when it is none of them."""
    reasons = cancellation_reasons(exc)
    stored = [r.get("Item") for r in exc.response.get("CancellationReasons", [])]
    numbered = [i for i, intent in enumerate(intents) if isinstance(intent, TakeNumber)]
    for index in numbered:
        if index < len(reasons) and reasons[index] == "ConditionalCheckFailed":
            item = stored[index]
            return NumberTaken(as_counter(from_item(item)) if item else None)
    code = exc.response.get("Error", {}).get("Code")
    if numbered and (code == "TransactionConflictException" or "TransactionConflict" in reasons):
        return NumberTaken(None)
    if "ConditionalCheckFailed" in reasons:
        index = reasons.index("ConditionalCheckFailed")
        item = stored[index] if index < len(stored) else None
        return AlreadyRecorded(intents[index], from_item(item) if item else None)
    return None

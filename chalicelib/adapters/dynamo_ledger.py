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
from chalicelib.adapters.dynamo_allowances import (
    adjust_invoice,
    allowance_item,
    mark_cancelled,
    reduce_invoice,
    replace_allowance,
    restore_invoice,
)
from chalicelib.adapters.dynamo_exchange import change_exchange, drop_task, put_task
from chalicelib.adapters.dynamo_exchange_allowances import change_allowance, reserve_invoice
from chalicelib.adapters.dynamo_filings import unfiled_check
from chalicelib.adapters.dynamo_idempotency import record_item
from chalicelib.adapters.dynamo_invoice_changes import append_history, cancel_invoice, replace_invoice
from chalicelib.adapters.dynamo_invoices import invoice_item, invoices_table, outbox_item, owner
from chalicelib.adapters.dynamo_lottery import mark_delivered, put_numbers, put_winner, revise_winner, withdraw_winner
from chalicelib.adapters.dynamo_totals import adding
from chalicelib.adapters.dynamo_tracks import as_counter, take_number_action
from chalicelib.domain.period_totals import PURCHASES
from chalicelib.domain.writes import (
    AddToPurchases,
    AddToTotals,
    AdjustAllowable,
    AlreadyRecorded,
    AppendHistory,
    CancelAllowance,
    CancelInvoice,
    ChangeExchange,
    ChangeExchangeAllowance,
    Contended,
    DropExchangeTask,
    Intent,
    MarkPrizeDelivered,
    NumberTaken,
    PutAllowance,
    PutExchangeTask,
    PutInvoice,
    PutOutboxItem,
    PutWinner,
    PutWinningNumbers,
    RecordIdempotencyKey,
    RecordOrderId,
    ReduceAllowable,
    Refused,
    ReplaceAllowance,
    ReplaceInvoice,
    RequireUnfiled,
    ReserveAllowable,
    RestoreAllowable,
    ReviseWinner,
    StateChanged,
    TakeNumber,
    WithdrawWinner,
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
    put = _put(invoices_table(), item)
    if intent.replace:
        del put["Put"]["ConditionExpression"]
    return put


def _record_idempotency_key(intent: RecordIdempotencyKey) -> dict[str, Any]:
    item = record_item(
        intent.key_id, intent.expires_at, {f"{intent.kind}_number": intent.number, "validation": intent.fingerprint}
    )
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


def _cancel_invoice(intent: CancelInvoice) -> dict[str, Any]:
    return cancel_invoice(intent.ubn, intent.invoice_number, intent.cancellation, intent.history)


def _replace_invoice(intent: ReplaceInvoice) -> dict[str, Any]:
    return replace_invoice(intent.ubn, intent.record, intent.expected_random_number, intent.reset_allowable)


def _append_history(intent: AppendHistory) -> dict[str, Any]:
    return append_history(intent.ubn, intent.invoice_number, intent.entry)


def _put_allowance(intent: PutAllowance) -> dict[str, Any]:
    return _put(invoices_table(), allowance_item(intent.ubn, intent.record.model_dump(mode="json")))


def _reduce_allowable(intent: ReduceAllowable) -> dict[str, Any]:
    history = intent.history.model_dump(mode="json")
    return reduce_invoice(intent.ubn, intent.invoice_number, intent.amount, intent.invoice_total, history)


def _restore_allowable(intent: RestoreAllowable) -> dict[str, Any]:
    history = intent.history.model_dump(mode="json")
    return restore_invoice(intent.ubn, intent.invoice_number, intent.amount, history)


def _adjust_allowable(intent: AdjustAllowable) -> dict[str, Any]:
    history = [entry.model_dump(mode="json") for entry in intent.history]
    return adjust_invoice(intent.ubn, intent.invoice_number, intent.restore, intent.take, history)


def _replace_allowance(intent: ReplaceAllowance) -> dict[str, Any]:
    return replace_allowance(intent.ubn, intent.record.model_dump(mode="json"), intent.expected_void_count)


def _cancel_allowance(intent: CancelAllowance) -> dict[str, Any]:
    history = intent.history.model_dump(mode="json")
    return mark_cancelled(intent.ubn, intent.allowance_number, intent.fields, history)


def _require_unfiled(intent: RequireUnfiled) -> dict[str, Any]:
    return unfiled_check(intent.ubn, intent.period)


_ACTIONS: dict[type, Callable[[Any], dict[str, Any]]] = {
    TakeNumber: _take_number,
    PutInvoice: _put_invoice,
    AddToTotals: _add_to_totals,
    AddToPurchases: _add_to_purchases,
    PutOutboxItem: _put_outbox_item,
    RecordIdempotencyKey: _record_idempotency_key,
    RecordOrderId: _record_order_id,
    CancelInvoice: _cancel_invoice,
    ReplaceInvoice: _replace_invoice,
    AppendHistory: _append_history,
    ChangeExchange: change_exchange,
    PutExchangeTask: put_task,
    DropExchangeTask: drop_task,
    PutAllowance: _put_allowance,
    ReserveAllowable: reserve_invoice,
    ChangeExchangeAllowance: change_allowance,
    ReduceAllowable: _reduce_allowable,
    RestoreAllowable: _restore_allowable,
    AdjustAllowable: _adjust_allowable,
    ReplaceAllowance: _replace_allowance,
    CancelAllowance: _cancel_allowance,
    RequireUnfiled: _require_unfiled,
    PutWinner: put_winner,
    MarkPrizeDelivered: mark_delivered,
    WithdrawWinner: withdraw_winner,
    ReviseWinner: revise_winner,
    PutWinningNumbers: put_numbers,
}

# Intents whose refusal means the state they required moved on, not that their record exists.
_REQUIRING = (
    CancelInvoice,
    ReplaceInvoice,
    AppendHistory,
    ChangeExchange,
    ChangeExchangeAllowance,
    ReserveAllowable,
    ReduceAllowable,
    RestoreAllowable,
    AdjustAllowable,
    ReplaceAllowance,
    CancelAllowance,
    RequireUnfiled,
    MarkPrizeDelivered,
    WithdrawWinner,
    ReviseWinner,
    PutWinningNumbers,
)


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


def _refusal(exc: ClientError, intents: Sequence[Intent]) -> NumberTaken | Refused | Contended | None:
    """What a cancelled transaction means, about which intent; None when it is none of them.

    A lost number race is reported first (the caller takes the next number), then a refused
    Idempotency-Key (the same request committed first: that explains every other refusal), then the
    first refused intent in the order given, then a conflict with a concurrent transaction.
    """
    reasons = cancellation_reasons(exc)
    stored = [r.get("Item") for r in exc.response.get("CancellationReasons", [])]
    refused = [i for i, reason in enumerate(reasons) if reason == "ConditionalCheckFailed" and i < len(intents)]
    numbered = [i for i, intent in enumerate(intents) if isinstance(intent, TakeNumber)]
    for index in numbered:
        if index in refused:
            item = stored[index] if index < len(stored) else None
            return NumberTaken(as_counter(from_item(item)) if item else None)
    code = exc.response.get("Error", {}).get("Code")
    conflicted = code == "TransactionConflictException" or "TransactionConflict" in reasons
    if numbered and conflicted:
        return NumberTaken(None)
    keyed = [i for i in refused if isinstance(intents[i], RecordIdempotencyKey)]
    for index in keyed or refused:
        item = stored[index] if index < len(stored) else None
        kind = StateChanged if isinstance(intents[index], _REQUIRING) else AlreadyRecorded
        return kind(intents[index], from_item(item) if item else None)
    if conflicted:
        return Contended("another transaction was changing the same items")
    return None

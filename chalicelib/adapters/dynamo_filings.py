"""Tax returns (401/403), their versions and payments, in the invoices table beside the totals they read.

- ``pk=MERCHANT#<ubn>, sk=FILING#<period>``: the period's head: current version, payments, marks
  left by the scheduled jobs (draft built, overdue), the last reconciliation.
- ``pk=MERCHANT#<ubn>, sk=FILINGV#<period>#<nnn>``: one submitted version, never changed.
- ``pk=MERCHANT#<ubn>, sk=NOTICE#<period>#<kind>``: a notice sent once (the claim that makes a
  scheduled job idempotent).
- ``pk=MERCHANT#<ubn>, sk=RECON#<period>``: a reconciliation in progress or its last report.
- ``pk=JOB#<name>#<period>, sk=STATE``: where a scheduled job over all merchants got to.

``FILING#`` sorts before ``FILINGV#``, so a range over ``FILING#<low>``..``FILING#<high>`` reads heads only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import (
    cancellation_reasons,
    dynamodb,
    get,
    get_many,
    key,
    put_new,
    query_all,
    to_item,
)
from chalicelib.adapters.dynamo_invoices import event_outbox_put, invoices_table, owner
from chalicelib.adapters.dynamo_totals import SHARDS, shard_key, unchanged
from chalicelib.adapters.dynamo_totals import read as read_totals
from chalicelib.adapters.dynamo_totals import replace as replace_group
from chalicelib.domain.errors import Conflict
from chalicelib.domain.period_totals import GENERAL, PURCHASES, SPECIAL, PeriodTotals


def head_key(period: str) -> str:
    return f"FILING#{period}"


def version_key(period: str, version: int) -> str:
    return f"FILINGV#{period}#{version:03d}"


def unfiled_check(ubn: str, period: str) -> dict[str, Any]:
    """Transaction action: holds only while no return of the period is filed."""
    return {
        "ConditionCheck": {
            "TableName": invoices_table(),
            "Key": key(owner(ubn), head_key(period)),
            "ConditionExpression": "attribute_not_exists(current_version)",
        }
    }


def _guards(ubn: str, period: str, totals: PeriodTotals, counts: tuple[str, ...]) -> list[dict[str, Any]]:
    """Conditions that every totals item of the period (each shard, read or still absent) has the
    counts the return was computed from: a cancellation that commits in between makes filing fail."""
    guards = []
    for group in (GENERAL, SPECIAL, PURCHASES):
        keys = {shard_key(period, group, n) for n in range(SHARDS)} | set(totals.items_of(group))
        for sort_key in sorted(keys):
            guards.append(unchanged(ubn, sort_key, totals.items.get(sort_key), counts))
    return guards


class DynamoFilings:
    def inputs(self, ubn: str, period: str, previous: str) -> dict[str, Any]:
        """Everything a return needs, in two round trips whatever the invoice count: the period's
        totals (sales 07 and 08, purchases; summed over their shards), its head, and the previous
        period's head (for the credit carried over). ``totals`` keeps the items, for the guard."""
        totals = read_totals(ubn, period)
        table = invoices_table()
        head, last = get_many(
            [(table, key(owner(ubn), head_key(period))), (table, key(owner(ubn), head_key(previous)))]
        )
        return {
            "general": totals.groups.get(GENERAL),
            "special": totals.groups.get(SPECIAL),
            "purchases": totals.groups.get(PURCHASES),
            "head": head,
            "previous": last,
            "totals": totals,
        }

    def head(self, ubn: str, period: str) -> dict[str, Any] | None:
        return get(invoices_table(), owner(ubn), head_key(period))

    def is_filed(self, ubn: str, period: str) -> bool:
        head = self.head(ubn, period)
        return bool(head and head.get("current_version"))

    def heads(self, ubn: str, low: str, high: str) -> dict[str, dict[str, Any]]:
        items = query_all(
            TableName=invoices_table(),
            KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
            ExpressionAttributeValues=to_item({":pk": owner(ubn), ":low": head_key(low), ":high": head_key(high)}),
        )
        return {str(item["period"]): item for item in items if "period" in item}

    def versions(self, ubn: str, period: str) -> list[dict[str, Any]]:
        return list(
            query_all(
                TableName=invoices_table(),
                KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",  # see dynamo_totals.read
                ExpressionAttributeValues=to_item(
                    {":pk": owner(ubn), ":low": f"FILINGV#{period}#", ":high": f"FILINGV#{period}#~"}
                ),
            )
        )

    def version(self, ubn: str, period: str, version: int) -> dict[str, Any] | None:
        return get(invoices_table(), owner(ubn), version_key(period, version))

    def submit(
        self,
        ubn: str,
        period: str,
        version: Mapping[str, Any],
        head_fields: Mapping[str, Any],
        *,
        previous_version: int | None,
        seen: PeriodTotals,
        guarded_counts: tuple[str, ...],
        event: tuple[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """Store a version and make it current, only if no other version got there first and the
        totals still hold the ``guarded_counts`` they had when ``seen`` (a cancellation may not slip
        between)."""
        table = invoices_table()
        number = int(version["version"])
        head_condition = (
            "attribute_not_exists(current_version)" if previous_version is None else "current_version = :previous"
        )
        values: dict[str, Any] = {":v": number}
        if previous_version is not None:
            values[":previous"] = previous_version
        sets = ["current_version = :v", "period = :period"]
        values[":period"] = period
        for i, value in enumerate(head_fields.values()):
            sets.append(f"#h{i} = :h{i}")
            values[f":h{i}"] = value
        actions: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": table,
                    "Item": to_item({"pk": owner(ubn), "sk": version_key(period, number), **version}),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Update": {
                    "TableName": table,
                    "Key": key(owner(ubn), head_key(period)),
                    "UpdateExpression": "SET " + ", ".join(sets),
                    "ConditionExpression": head_condition,
                    "ExpressionAttributeNames": {f"#h{i}": name for i, name in enumerate(head_fields)},
                    "ExpressionAttributeValues": to_item(values),
                }
            },
        ]
        actions.extend(_guards(ubn, period, seen, guarded_counts))
        if event is not None:
            # After the guards: the refusal reasons read below are by position.
            event_type, payload = event
            subject = f"{period}v{number:03d}"
            actions.append(event_outbox_put(ubn, subject, event_type, payload, str(version["filed_at"])))
        try:
            dynamodb().transact_write_items(TransactItems=actions)
        except ClientError as error:
            reasons = cancellation_reasons(error)
            if not reasons:
                raise
            if reasons[0] == "ConditionalCheckFailed" or reasons[1] == "ConditionalCheckFailed":
                raise Conflict(
                    "FILING_CHANGED",
                    "Another submission of this period was recorded at the same time; read it and file a "
                    "correction if needed.",
                    "本期已同時送出另一份申報；請重新讀取，如需更正請申報更正版本。",
                    "period",
                ) from None
            raise Conflict(
                "TOTALS_CHANGED",
                "The period's invoices changed while the return was being filed; file again.",
                "申報時本期發票有異動，請重新申報。",
                "period",
            ) from None

    def add_payment(self, ubn: str, period: str, payment: Mapping[str, Any], amount: int) -> bool:
        """Record a payment of a filed period; False when its reference was recorded before (a retry).

        One item per reference (``FILINGPAY#<period>#<reference>``) in the same transaction as the
        head's running total, so the same payment sent twice is counted once.
        """
        table = invoices_table()
        reference = str(payment["reference"])
        actions = [
            {
                "Put": {
                    "TableName": table,
                    "Item": to_item({"pk": owner(ubn), "sk": f"FILINGPAY#{period}#{reference}", **payment}),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "Update": {
                    "TableName": table,
                    "Key": key(owner(ubn), head_key(period)),
                    "UpdateExpression": (
                        "SET payments = list_append(if_not_exists(payments, :empty), :p) ADD paid_total :a"
                    ),
                    "ConditionExpression": "attribute_exists(current_version)",
                    "ExpressionAttributeValues": to_item({":p": [dict(payment)], ":empty": [], ":a": amount}),
                }
            },
        ]
        try:
            dynamodb().transact_write_items(TransactItems=actions)
        except ClientError as error:
            reasons = cancellation_reasons(error)
            if len(reasons) < 2:
                raise
            if reasons[1] == "ConditionalCheckFailed":
                raise _not_filed() from None
            if reasons[0] == "ConditionalCheckFailed":
                return False
            raise
        return True

    def payment(self, ubn: str, period: str, reference: str) -> dict[str, Any] | None:
        return get(invoices_table(), owner(ubn), f"FILINGPAY#{period}#{reference}")

    def mark(self, ubn: str, period: str, fields: Mapping[str, Any]) -> None:
        """Set fields on the period's head, creating it if needed (jobs' marks, reconciliation)."""
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        values = {f":f{i}": value for i, value in enumerate(fields.values())} | {":period": period}
        dynamodb().update_item(
            TableName=invoices_table(),
            Key=key(owner(ubn), head_key(period)),
            UpdateExpression="SET period = :period, " + ", ".join(f"#f{i} = :f{i}" for i in range(len(fields))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_item(values),
        )

    # --- notices sent once ---------------------------------------------------------------------

    def claim_notice(self, ubn: str, period: str, kind: str, at: str) -> bool:
        """True for the one caller that may send this notice; False if it was already claimed."""
        return put_new(invoices_table(), {"pk": owner(ubn), "sk": f"NOTICE#{period}#{kind}", "claimed_at": at})

    def release_notice(self, ubn: str, period: str, kind: str) -> None:
        """Undo a claim whose notice could not be sent, so that the next run sends it."""
        dynamodb().delete_item(TableName=invoices_table(), Key=key(owner(ubn), f"NOTICE#{period}#{kind}"))

    def notice(self, ubn: str, period: str, kind: str) -> dict[str, Any] | None:
        return get(invoices_table(), owner(ubn), f"NOTICE#{period}#{kind}")

    # --- reconciliation and job state -------------------------------------------------------------

    def reconciliation(self, ubn: str, period: str) -> dict[str, Any] | None:
        return get(invoices_table(), owner(ubn), f"RECON#{period}")

    def save_reconciliation(self, ubn: str, period: str, state: Mapping[str, Any]) -> None:
        dynamodb().put_item(
            TableName=invoices_table(), Item=to_item({"pk": owner(ubn), "sk": f"RECON#{period}", **state})
        )

    def totals(self, ubn: str, period: str) -> PeriodTotals:
        """The period's totals by group (07, 08, purchases), summed, with the items they came from."""
        return read_totals(ubn, period)

    def replace_totals(self, ubn: str, period: str, group: str, values: Mapping[str, int], existing: list[str]) -> None:
        """Overwrite one group's totals with recounted values (a repair after reconciliation)."""
        replace_group(ubn, period, group, values, existing)

    def job(self, name: str, period: str) -> dict[str, Any] | None:
        return get(invoices_table(), f"JOB#{name}#{period}", "STATE")

    def save_job(self, name: str, period: str, state: Mapping[str, Any]) -> None:
        dynamodb().put_item(
            TableName=invoices_table(), Item=to_item({"pk": f"JOB#{name}#{period}", "sk": "STATE", **state})
        )


def _not_filed() -> Conflict:
    return Conflict(
        "NOT_FILED",
        "File the period's return before recording a payment.",
        "請先申報本期營業稅，再登錄繳款。",
        "period",
    )

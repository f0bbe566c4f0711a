"""Allowances (折讓證明單) in the invoices table, next to the invoices they reduce.

- ``pk=MERCHANT#<ubn>, sk=ALW#<number>``: the allowance. gsi1 (``ALLOWANCES#<ubn>`` /
  ``<date>#<number>``) serves the list, newest first, without mixing with the invoices' own
  ``MERCHANT#<ubn>`` gsi1 partition.
- ``pk=MERCHANT#<ubn>, sk=ALWSEQ#<period>``: the counter behind generated allowance numbers.
- S3 ``merchants/<ubn>/allowances/<period>/<number>/``: the documents, written by the outbox
  (``s3_artifacts.py``, the ``G0401_XML``/``G0501_XML``/``ALLOWANCE_PDF`` kinds).

Every write that changes amounts happens in one transaction (adapters/dynamo_ledger.py turns the
allowance intents into the actions here), so an allowance, the invoices it reduces and the period
totals never disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chalicelib.adapters.dynamo import dynamodb, from_item, get, key, to_item
from chalicelib.adapters.dynamo_invoices import invoice_sort_key, invoices_table, merge_fields, owner
from chalicelib.domain.allowance_record import AllowanceRecord


def allowance_sort_key(number: str) -> str:
    return f"ALW#{number}"


def allowance_list_key(ubn: str) -> str:
    return f"ALLOWANCES#{ubn}"


def allowances_to_key(buyer_ubn: str) -> str:
    return f"ALLOWANCES_TO#{buyer_ubn}"


def allowance_item(ubn: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """The stored item of an allowance record (a JSON-ready dict) with its keys.

    A B2B allowance is also in gsi2 under its buyer (``ALLOWANCES_TO#<buyer>``, apart from the
    received invoices' ``BUYER#``), so the buyer's purchase returns can be recounted for its return.
    """
    item = {
        "pk": owner(ubn),
        "sk": allowance_sort_key(str(record["allowance_number"])),
        "gsi1pk": allowance_list_key(ubn),
        "gsi1sk": f"{record['allowance_date']}#{record['allowance_number']}",
        **record,
    }
    buyer = (record.get("buyer") or {}).get("ubn")
    if buyer:
        item["gsi2pk"] = allowances_to_key(str(buyer))
        item["gsi2sk"] = f"{record['allowance_date']}#{ubn}#{record['allowance_number']}"
    return item


def put_new_allowance(ubn: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """Transaction action: the allowance, refused if its number is taken (numbers are unique per merchant)."""
    return {
        "Put": {
            "TableName": invoices_table(),
            "Item": to_item(allowance_item(ubn, record)),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


def reduce_invoice(
    ubn: str, number: str, amount: int, invoice_total: int, history: Mapping[str, Any]
) -> dict[str, Any]:
    """Transaction action: take ``amount`` (tax-inclusive) off an issued invoice's remaining allowance.

    A missing ``allowance_remaining`` means nothing was allowed yet, i.e. the invoice's full total;
    the condition is what keeps two concurrent allowances from overdrawing one invoice.
    """
    return {
        "Update": {
            "TableName": invoices_table(),
            "Key": key(owner(ubn), invoice_sort_key(number)),
            "UpdateExpression": (
                "SET allowance_remaining = if_not_exists(allowance_remaining, :total) - :amount, "
                "history = list_append(if_not_exists(history, :empty), :history) ADD allowance_count :one"
            ),
            "ConditionExpression": (
                # The service checked amount <= total before; a constant comparison is not allowed here.
                "#status = :issued AND (attribute_not_exists(allowance_remaining) OR allowance_remaining >= :amount)"
            ),
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": to_item(
                {
                    ":total": invoice_total,
                    ":amount": amount,
                    ":one": 1,
                    ":issued": "issued",
                    ":history": [dict(history)],
                    ":empty": [],
                }
            ),
        }
    }


def restore_invoice(ubn: str, number: str, amount: int, history: Mapping[str, Any]) -> dict[str, Any]:
    """Transaction action: give back what a cancelled allowance took (the invoice must have been reduced)."""
    return {
        "Update": {
            "TableName": invoices_table(),
            "Key": key(owner(ubn), invoice_sort_key(number)),
            "UpdateExpression": (
                "SET allowance_remaining = allowance_remaining + :amount, "
                "history = list_append(if_not_exists(history, :empty), :history) ADD allowance_count :minus"
            ),
            "ConditionExpression": "attribute_exists(allowance_remaining) AND allowance_count >= :one",
            "ExpressionAttributeValues": to_item(
                {":amount": amount, ":minus": -1, ":one": 1, ":history": [dict(history)], ":empty": []}
            ),
        }
    }


def adjust_invoice(
    ubn: str, number: str, restore: int, take: int, history: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Transaction action: give back ``restore`` and take ``take`` on one reduced, issued invoice
    (an allowance voided and re-issued); refused if less than ``take - restore`` remains."""
    net = take - restore
    return {
        "Update": {
            "TableName": invoices_table(),
            "Key": key(owner(ubn), invoice_sort_key(number)),
            "UpdateExpression": (
                "SET allowance_remaining = allowance_remaining - :net, "
                "history = list_append(if_not_exists(history, :empty), :history)"
            ),
            "ConditionExpression": ("#status = :issued AND allowance_count >= :one AND allowance_remaining >= :net"),
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": to_item(
                {":net": net, ":one": 1, ":issued": "issued", ":history": [dict(h) for h in history], ":empty": []}
            ),
        }
    }


def replace_allowance(ubn: str, record: Mapping[str, Any], expected_void_count: int) -> dict[str, Any]:
    """Transaction action: the corrected allowance replaces the stored one, only if that is still
    issued and the version it was made from (its ``void_count``; absent on older items means 0)."""
    same_version = "void_count = :expected"
    if expected_void_count == 0:
        same_version = f"(attribute_not_exists(void_count) OR {same_version})"
    return {
        "Put": {
            "TableName": invoices_table(),
            "Item": to_item(allowance_item(ubn, record)),
            "ConditionExpression": f"attribute_exists(pk) AND #status = :issued AND {same_version}",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": to_item({":issued": "issued", ":expected": expected_void_count}),
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def mark_cancelled(ubn: str, number: str, fields: Mapping[str, Any], history: Mapping[str, Any]) -> dict[str, Any]:
    """Transaction action: an issued allowance becomes cancelled; refused if it already is."""
    names = {f"#f{i}": name for i, name in enumerate(fields)}
    values = {f":v{i}": value for i, value in enumerate(fields.values())}
    sets = ", ".join(f"#f{i} = :v{i}" for i in range(len(fields)))
    return {
        "Update": {
            "TableName": invoices_table(),
            "Key": key(owner(ubn), allowance_sort_key(number)),
            "UpdateExpression": (
                f"SET #status = :cancelled, {sets}, history = list_append(if_not_exists(history, :empty), :history)"
            ),
            "ConditionExpression": "#status = :issued",
            "ExpressionAttributeNames": {"#status": "status", **names},
            "ExpressionAttributeValues": to_item(
                {
                    ":cancelled": "cancelled",
                    ":issued": "issued",
                    ":history": [dict(history)],
                    ":empty": [],
                    **values,
                }
            ),
        }
    }


class DynamoAllowances:
    def get(self, ubn: str, number: str) -> dict[str, Any] | None:
        return get(invoices_table(), owner(ubn), allowance_sort_key(number))

    def record(self, ubn: str, number: str) -> AllowanceRecord | None:
        item = self.get(ubn, number)
        return AllowanceRecord.model_validate(item) if item else None

    def next_sequence(self, ubn: str, period: str) -> int:
        """The next number of the period's counter (gaps are harmless: allowance numbers are the
        merchant's own, only uniqueness matters, and the allowance put checks that)."""
        response = dynamodb().update_item(
            TableName=invoices_table(),
            Key=key(owner(ubn), f"ALWSEQ#{period}"),
            UpdateExpression="ADD next_value :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="UPDATED_NEW",
        )
        return int(response["Attributes"]["next_value"]["N"])

    def set_fields(self, ubn: str, number: str, fields: Mapping[str, Any]) -> None:
        """Set top-level fields (artifacts, delivery) of an existing allowance."""
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        values = {f":v{i}": value for i, value in enumerate(fields.values())}
        dynamodb().update_item(
            TableName=invoices_table(),
            Key=key(owner(ubn), allowance_sort_key(number)),
            UpdateExpression="SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields))),
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_item(values),
        )

    def merge_fields(
        self, ubn: str, number: str, maps: Mapping[str, Mapping[str, Any]], fields: Mapping[str, Any] | None = None
    ) -> None:
        """Set keys inside the allowance's maps (artifacts, delivery) one by one, plus top-level
        ``fields``: concurrent issue and cancel items never drop each other's keys."""
        merge_fields(allowance_sort_key(number), ubn, maps, fields)

    def page(
        self, ubn: str, low: str, high: str, limit: int, start: Mapping[str, Any] | None
    ) -> tuple[list[AllowanceRecord], dict[str, Any] | None]:
        """One page of allowances with ``low <= gsi1sk <= high``, newest first, and where the next starts."""
        return _dated_page("gsi1", allowance_list_key(ubn), low, high, limit, start)

    def received_page(
        self, buyer_ubn: str, low: str, high: str, limit: int, start: Mapping[str, Any] | None
    ) -> tuple[list[AllowanceRecord], dict[str, Any] | None]:
        """One page of the allowances other merchants issued to ``buyer_ubn`` (進項折讓, gsi2
        ``ALLOWANCES_TO#<buyer>`` / ``<date>#<seller>#<number>``), newest first, cancelled ones
        included, and where the next page starts."""
        return _dated_page("gsi2", allowances_to_key(buyer_ubn), low, high, limit, start)


def _dated_page(
    index: str, partition: str, low: str, high: str, limit: int, start: Mapping[str, Any] | None
) -> tuple[list[AllowanceRecord], dict[str, Any] | None]:
    request: dict[str, Any] = {
        "TableName": invoices_table(),
        "IndexName": index,
        "KeyConditionExpression": f"{index}pk = :pk AND {index}sk BETWEEN :low AND :high",
        "ExpressionAttributeValues": {":pk": {"S": partition}, ":low": {"S": low}, ":high": {"S": high}},
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if start:
        request["ExclusiveStartKey"] = dict(start)
    response = dynamodb().query(**request)
    last: dict[str, Any] | None = response.get("LastEvaluatedKey")
    if last is not None and last.get(f"{index}pk") != {"S": partition}:
        last = None  # never hand out a key of another partition (defensive; cannot happen)
    return [AllowanceRecord.model_validate(from_item(item)) for item in response.get("Items", [])], last

"""Webhook endpoints and their deliveries in the invoices table.

- ``pk=MERCHANT#<ubn>, sk=WEBHOOK#<endpoint id>``: the endpoint (URL, event types, enabled, the
  secret's generation and the previous one's overlap, since when it has been failing).
- ``sk=WHDELIVERY#<endpoint id>#<UTC stamp>#<event id>``: one delivery of one event to one endpoint
  with its attempts; the stamp is the event's time (a retried fan-out finds the same key) or, for a
  replay, the replay's, so the log reads newest first. While it is due it is in gsi1 under
  ``WEBHOOK#DUE`` / ``<next attempt UTC>#…``, an index of its own (the table's gsi1 also holds
  invoices under ``MERCHANT#<ubn>`` and ``OUTBOX#PENDING``).

A sender claims a due delivery by moving its ``gsi1sk`` forward (conditional on the value it read),
so two dispatchers never send the same attempt.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import dynamodb, from_item, get, is_condition_failure, key, put_new, to_item
from chalicelib.adapters.dynamo_invoices import invoices_table, owner

DUE = "WEBHOOK#DUE"
_ENDPOINT = "WEBHOOK#"
_DELIVERY = "WHDELIVERY#"
MAX_ATTEMPTS_KEPT = 50


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _update(pk: str, sk: str, **request: Any) -> dict[str, Any] | None:
    try:
        response = dynamodb().update_item(
            TableName=invoices_table(), Key=key(pk, sk), ReturnValues="ALL_NEW", **request
        )
    except ClientError as error:
        if is_condition_failure(error):
            return None
        raise
    return from_item(response.get("Attributes", {}))


class DynamoWebhooks:
    # --- endpoints ----------------------------------------------------------------------------------

    def add_endpoint(self, ubn: str, endpoint: dict[str, Any]) -> None:
        put_new(invoices_table(), {"pk": owner(ubn), "sk": _ENDPOINT + endpoint["id"], "ubn": ubn, **endpoint})

    def endpoint(self, ubn: str, endpoint_id: str) -> dict[str, Any] | None:
        return get(invoices_table(), owner(ubn), _ENDPOINT + endpoint_id)

    def endpoints(self, ubn: str) -> list[dict[str, Any]]:
        response = dynamodb().query(
            TableName=invoices_table(),
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=to_item({":pk": owner(ubn), ":prefix": _ENDPOINT}),
            ConsistentRead=True,
        )
        return sorted((from_item(i) for i in response.get("Items", [])), key=lambda e: str(e.get("created_at")))

    def change_endpoint(
        self, ubn: str, endpoint_id: str, fields: dict[str, Any], remove: tuple[str, ...] = ()
    ) -> dict[str, Any] | None:
        # DynamoDB stores no nulls: a field set to None is removed.
        remove = (*remove, *(name for name, value in fields.items() if value is None))
        fields = {name: value for name, value in fields.items() if value is not None}
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        names.update({f"#r{i}": name for i, name in enumerate(remove)})
        expression = "SET " + ", ".join(f"#f{i} = :f{i}" for i in range(len(fields)))
        if remove:
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(remove)))
        return _update(
            owner(ubn),
            _ENDPOINT + endpoint_id,
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=to_item({f":f{i}": value for i, value in enumerate(fields.values())}),
        )

    def failing(self, ubn: str, endpoint_id: str, at: datetime) -> dict[str, Any] | None:
        """Note a failed attempt: ``failing_since`` keeps the first failure after the last success."""
        return _update(
            owner(ubn),
            _ENDPOINT + endpoint_id,
            UpdateExpression="SET failing_since = if_not_exists(failing_since, :at), last_failure_at = :at",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues=to_item({":at": at.isoformat()}),
        )

    def disable(self, ubn: str, endpoint_id: str, at: datetime, reason: str) -> bool:
        """Disable an enabled endpoint; True for the one call that did (it tells the merchant)."""
        return (
            _update(
                owner(ubn),
                _ENDPOINT + endpoint_id,
                UpdateExpression="SET enabled = :no, disabled_at = :at, disabled_reason = :reason",
                ConditionExpression="enabled = :yes",
                ExpressionAttributeValues=to_item(
                    {":no": False, ":yes": True, ":at": at.isoformat(), ":reason": reason}
                ),
            )
            is not None
        )

    def delete_endpoint(self, ubn: str, endpoint_id: str) -> bool:
        try:
            dynamodb().delete_item(
                TableName=invoices_table(),
                Key=key(owner(ubn), _ENDPOINT + endpoint_id),
                ConditionExpression="attribute_exists(pk)",
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    # --- deliveries ---------------------------------------------------------------------------------

    def add_delivery(
        self, ubn: str, delivery: dict[str, Any], *, created: datetime, due: datetime
    ) -> dict[str, Any] | None:
        """The new delivery, or None when this event already has one to this endpoint at ``created``."""
        sk = f"{_DELIVERY}{delivery['endpoint_id']}#{stamp(created)}#{delivery['event_id']}"
        item = {
            "pk": owner(ubn),
            "sk": sk,
            "ubn": ubn,
            "delivery_id": sk.removeprefix(_DELIVERY),
            "created_at": created.isoformat(),
            "status": "pending",
            "attempts": [],
            "attempt_count": 0,
            "next_attempt_at": due.isoformat(),
            "gsi1pk": DUE,
            "gsi1sk": f"{stamp(due)}#{ubn}#{sk}",
            **delivery,
        }
        return item if put_new(invoices_table(), item) else None

    def deliveries(
        self, ubn: str, endpoint_id: str, *, limit: int, start: dict[str, Any] | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        request: dict[str, Any] = {
            "TableName": invoices_table(),
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": to_item({":pk": owner(ubn), ":prefix": f"{_DELIVERY}{endpoint_id}#"}),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if start:
            request["ExclusiveStartKey"] = start
        response = dynamodb().query(**request)
        return [from_item(i) for i in response.get("Items", [])], response.get("LastEvaluatedKey")

    def due(self, now: datetime, limit: int = 50) -> list[dict[str, Any]]:
        response = dynamodb().query(
            TableName=invoices_table(),
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :due AND gsi1sk <= :now",
            ExpressionAttributeValues=to_item({":due": DUE, ":now": stamp(now) + "~"}),
            Limit=limit,
        )
        return [from_item(i) for i in response.get("Items", [])]

    def claim(self, delivery: dict[str, Any], until: datetime) -> bool:
        """Take a due delivery for one attempt: its index entry moves to ``until`` (a crashed sender's
        delivery comes due again then)."""
        moved = f"{stamp(until)}#{delivery['ubn']}#{delivery['sk']}"
        return (
            _update(
                str(delivery["pk"]),
                str(delivery["sk"]),
                UpdateExpression="SET gsi1sk = :moved",
                ConditionExpression="gsi1sk = :seen",
                ExpressionAttributeValues=to_item({":moved": moved, ":seen": delivery["gsi1sk"]}),
            )
            is not None
        )

    def record(self, delivery: dict[str, Any], attempt: dict[str, Any], *, status: str, due: datetime | None) -> None:
        """Add ``attempt`` (the newest kept) and set the status; ``due``: when to try again, else done."""
        attempts = [*(delivery.get("attempts") or []), attempt][-MAX_ATTEMPTS_KEPT:]
        values: dict[str, Any] = {
            ":attempts": attempts,
            ":status": status,
            ":one": 1,
            ":at": attempt["at"],
        }
        sets = ["attempts = :attempts", "#status = :status", "last_attempt_at = :at"]
        if due is not None:
            values[":next"] = due.isoformat()
            values[":moved"] = f"{stamp(due)}#{delivery['ubn']}#{delivery['sk']}"
            sets += ["next_attempt_at = :next", "gsi1sk = :moved"]
            expression = "SET " + ", ".join(sets) + " ADD attempt_count :one"
        else:
            expression = "SET " + ", ".join(sets) + " ADD attempt_count :one REMOVE gsi1pk, gsi1sk, next_attempt_at"
        _update(
            str(delivery["pk"]),
            str(delivery["sk"]),
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_item(values),
        )

    def stop(self, delivery: dict[str, Any], status: str) -> None:
        """Take a delivery out of the due index without an attempt (its endpoint is gone or off)."""
        _update(
            str(delivery["pk"]),
            str(delivery["sk"]),
            UpdateExpression="SET #status = :status REMOVE gsi1pk, gsi1sk, next_attempt_at",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=to_item({":status": status}),
        )

"""The outbox items' state changes, each one conditional (``pk=MERCHANT#<ubn>,
sk=OUTBOX#<number>#<event>``, written by the issuing transaction; see dynamo_invoices.py).

Every step of an item moves ``pending → done`` (or ``skipped``) exactly once: each update names
the state it expects, so two workers racing on one item cannot both win a step. Sends take a
lease first: ``pending → sending#<expiry> → done``.

What a step produced (an S3 key, a message id) is stored on the item as ``result_<step>`` in the
same update that marks the step done, so the invoice's ``artifacts``/``delivery`` can always be
rebuilt from the item alone.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import dynamodb, from_item, is_condition_failure, key, to_item
from chalicelib.adapters.dynamo_invoices import DynamoInvoices, invoices_table, outbox_sort_key, owner
from chalicelib.domain.outbox_item import result_attribute


class DynamoOutbox:
    def __init__(self, invoices: DynamoInvoices | None = None) -> None:
        self._invoices = invoices or DynamoInvoices()

    def get(self, ubn: str, number: str, event: str) -> dict[str, Any] | None:
        return self._invoices.outbox(ubn, number, event)

    def pending(self, limit: int = 100) -> list[dict[str, Any]]:
        return self._invoices.pending_outbox(limit)

    def move(
        self,
        ubn: str,
        number: str,
        event: str,
        step: str,
        *,
        expect: str,
        to: str,
        result: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """Set ``steps.<step>`` to ``to`` if it is ``expect``; the item after, or None if it was not."""
        sets = ["steps.#step = :to"]
        values: dict[str, Any] = {":to": to, ":expect": expect}
        names = {"#step": step}
        if result is not None:
            sets.append("#result = :result")
            names["#result"] = result_attribute(step)
            values[":result"] = result
        return self._update(
            ubn,
            number,
            event,
            update="SET " + ", ".join(sets),
            condition="steps.#step = :expect",
            names=names,
            values=values,
        )

    def claim(self, ubn: str, number: str, event: str, step: str, *, lease: str, expired_before: str) -> bool:
        """Take the send lease ``lease`` (``sending#<expiry>``) if the step is pending, or if its lease
        is older than ``expired_before`` (``sending#<now>``: the ISO stamps compare as strings)."""
        return (
            self._update(
                ubn,
                number,
                event,
                update="SET steps.#step = :lease",
                condition="steps.#step = :pending OR (begins_with(steps.#step, :prefix) AND steps.#step < :expired)",
                names={"#step": step},
                values={
                    ":lease": lease,
                    ":pending": "pending",
                    ":prefix": lease.split("#", 1)[0] + "#",
                    ":expired": expired_before,
                },
            )
            is not None
        )

    def failed(self, ubn: str, number: str, event: str, *, error: str, at: str) -> None:
        """Count a failed attempt and keep its error for whoever looks at a stuck item."""
        self._update(
            ubn,
            number,
            event,
            update="ADD attempts :one SET last_error = :error, last_attempt_at = :at",
            condition="attribute_exists(pk)",
            names={},
            values={":one": 1, ":error": error, ":at": at},
        )

    def finish(self, ubn: str, number: str, event: str, steps: list[str], *, at: str) -> bool:
        """Mark the item done and take it out of the sweeper's index, if every step is done or skipped."""
        if not steps:
            raise ValueError("an outbox item has at least one step")
        names = {f"#s{i}": step for i, step in enumerate(steps)}
        names["#status"] = "status"
        condition = " AND ".join(f"steps.#s{i} IN (:done, :skipped)" for i in range(len(steps)))
        return (
            self._update(
                ubn,
                number,
                event,
                # Removing gsi1pk/gsi1sk drops the item from the sparse OUTBOX#PENDING index.
                update="SET #status = :done, finished_at = :at REMOVE gsi1pk, gsi1sk",
                condition=condition,
                names=names,
                values={":done": "done", ":skipped": "skipped", ":at": at},
            )
            is not None
        )

    @staticmethod
    def _update(
        ubn: str,
        number: str,
        event: str,
        *,
        update: str,
        condition: str,
        names: dict[str, str],
        values: dict[str, Any],
    ) -> dict[str, Any] | None:
        request: dict[str, Any] = {
            "TableName": invoices_table(),
            "Key": key(owner(ubn), outbox_sort_key(number, event)),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": to_item(values),
            "ReturnValues": "ALL_NEW",
        }
        if names:
            request["ExpressionAttributeNames"] = names
        try:
            response = dynamodb().update_item(**request)
        except ClientError as error:
            if is_condition_failure(error):
                return None
            raise
        return from_item(response.get("Attributes", {}))

"""Rate-limit arrival times (domain/rate_limits.py) in the merchants table, shared by containers.

Key: ``pk=RATE#<subject>, sk=GCRA#<policy>``, where ``<subject>`` starts with what is counted
(``MERCHANT#<ubn>#key:<id>``, ``ip:<address>``, ``login:<ubn>``…), so a merchant's counters live
under its own UBN. One number ``tat`` (µs). ``ttl`` lets DynamoDB delete the item a minute after
the bucket is full again, when it means the same as no item.

Granting is one conditional update, in one of two forms depending on whether the bucket is still
refilling (``tat ≥ now``: add the cost to it) or full (set it to now + cost). DynamoDB applies
updates to one item one at a time and judges each condition on the value it finds, so concurrent
containers can never together be granted more than the policy allows. When both forms fail the
request is refused; the failed update returns the item, so a refusal costs no extra read.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import dynamodb, from_item, get, is_condition_failure, key, to_item
from chalicelib.domain.rate_limits import MICROS, Policy, Refused, Taken, take
from chalicelib.settings import get_settings

_KEEP_SECONDS = 60
_NAMES = {"#ttl": "ttl"}


class DynamoRateLimits:
    def take(self, policy: Policy, subject: str, now: int, n: int, *, busy: bool) -> Taken | Refused:
        table, pk, sk = get_settings().merchants_table, f"RATE#{subject}", f"GCRA#{policy.name}"
        cost = n * policy.interval
        refilling = (
            "SET tat = tat + :cost, #ttl = :ttl",
            "tat >= :now AND tat <= :latest",
            {":cost": cost, ":now": now, ":latest": now + policy.capacity - cost},
        )
        full = (
            "SET tat = :tat, #ttl = :ttl",
            "attribute_not_exists(tat) OR tat < :now",
            {":tat": now + cost, ":now": now},
        )
        # Long enough for any arrival time this update can set: the bucket is full by then.
        ttl = (now + policy.capacity) // MICROS + _KEEP_SECONDS
        seen: dict[str, Any] | None = None
        for _ in range(2):  # another container may move the bucket between the two forms
            for update, condition, values in (refilling, full) if busy else (full, refilling):
                try:
                    answer = dynamodb().update_item(
                        TableName=table,
                        Key=key(pk, sk),
                        UpdateExpression=update,
                        ConditionExpression=condition,
                        ExpressionAttributeNames=_NAMES,
                        ExpressionAttributeValues=to_item({**values, ":ttl": ttl}),
                        ReturnValues="UPDATED_NEW",
                        ReturnValuesOnConditionCheckFailure="ALL_OLD",
                    )
                    return Taken(int(from_item(answer["Attributes"])["tat"]))
                except ClientError as exc:
                    if not is_condition_failure(exc):
                        raise
                    old = exc.response.get("Item")
                    seen = from_item(old) if old else get(table, pk, sk)
            tat = int(seen["tat"]) if seen and "tat" in seen else None
            if isinstance(take(policy, tat, now, n), Refused):
                return Refused(now if tat is None else tat)
        # Still contended after two rounds: refuse rather than guess.
        return Refused(int(seen["tat"]) if seen and "tat" in seen else now + policy.capacity)

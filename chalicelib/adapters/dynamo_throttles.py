"""Attempt counters for throttling (security.throttling), in the merchants table.

Keys (``<subject>`` is whatever is counted: a client IP, ``<ip>|<owner>``, an owner; it need not
belong to an existing account, so that unknown accounts are counted exactly like real ones):
- ``pk=THROTTLE#<scope>#<subject>, sk=WINDOW#<start>``: attempts ``n`` in the fixed window that
  starts at ``<start>`` (epoch seconds). A new window is a new item, so nothing ever resets a count;
  ``ttl`` lets DynamoDB delete it some time after the window ends, and it is never read again.
- ``pk=THROTTLE#<scope>#<subject>, sk=ROLLING``: attempts ``n`` in the window opened by the first of
  them at ``started`` (epoch seconds); the next attempt after the window opens a new one.

Every claim is one conditional update (increment only while under the limit), so concurrent
requests can never together take more than the limit: DynamoDB applies updates to one item one
at a time, and the condition is judged on the value each one finds.
"""

from __future__ import annotations

import math
from datetime import datetime

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import dynamodb, get, is_condition_failure, key, to_item
from chalicelib.security.throttling import Claim, Limit
from chalicelib.settings import get_settings

# Counters outlive their window by this long before DynamoDB may delete them: a release arriving
# just after the window ended still finds its item.
_KEEP_SECONDS = 300
_ROLLING = "ROLLING"
_NAMES = {"#ttl": "ttl"}


def _table() -> str:
    return get_settings().merchants_table


def _pk(limit: Limit, subject: str) -> str:
    return f"THROTTLE#{limit.scope}#{subject}"


class DynamoThrottles:
    def claim(self, limit: Limit, subject: str, now: datetime) -> Claim | None:
        """Take one of ``limit.attempts`` slots of ``now``'s window, or None when all are taken."""
        start = int(limit.window_start(now).timestamp())
        claim = Claim(_pk(limit, subject), f"WINDOW#{start}")
        try:
            self._add(claim, start + int(limit.window.total_seconds()), condition=limit.attempts)
        except ClientError as exc:
            if is_condition_failure(exc):
                return None
            raise
        return claim

    def count(self, limit: Limit, subject: str, now: datetime) -> None:
        """Count one attempt whatever the count already is (one that was let past the limit)."""
        start = int(limit.window_start(now).timestamp())
        self._add(Claim(_pk(limit, subject), f"WINDOW#{start}"), start + int(limit.window.total_seconds()))

    def release(self, claim: Claim) -> None:
        """Give a slot back (the attempt succeeded, or was refused before anything was checked)."""
        try:
            dynamodb().update_item(
                TableName=_table(),
                Key=key(claim.pk, claim.sk),
                UpdateExpression="ADD n :minus",
                ConditionExpression="attribute_exists(pk) AND n > :zero",
                ExpressionAttributeValues=to_item({":minus": -1, ":zero": 0}),
            )
        except ClientError as exc:
            if not is_condition_failure(exc):  # already gone with its window: nothing to give back
                raise

    def _add(self, claim: Claim, window_end: int, *, condition: int | None = None) -> None:
        values: dict[str, object] = {":one": 1, ":ttl": window_end + _KEEP_SECONDS}
        extra: dict[str, object] = {}
        if condition is not None:
            values[":limit"] = condition
            extra["ConditionExpression"] = "attribute_not_exists(n) OR n < :limit"
        dynamodb().update_item(
            TableName=_table(),
            Key=key(claim.pk, claim.sk),
            UpdateExpression="ADD n :one SET #ttl = :ttl",
            ExpressionAttributeNames=_NAMES,
            ExpressionAttributeValues=to_item(values),
            **extra,
        )

    def claim_rolling(self, limit: Limit, subject: str, now: datetime) -> int | None:
        """Take a slot of the window the first attempt opened; None when taken, else the seconds
        until that window ends. The window is not a fixed grid: it is ``limit.window`` from the
        first attempt, so nothing but time (a new code, a success) ends it early."""
        pk, window = _pk(limit, subject), int(limit.window.total_seconds())
        at = int(now.timestamp())
        values = {":one": 1, ":limit": limit.attempts, ":cutoff": at - window}
        for _ in range(3):  # another request may open a new window between the two updates
            try:
                dynamodb().update_item(
                    TableName=_table(),
                    Key=key(pk, _ROLLING),
                    UpdateExpression="ADD n :one",
                    ConditionExpression="started > :cutoff AND n < :limit",
                    ExpressionAttributeValues=to_item(values),
                )
                return None
            except ClientError as exc:
                if not is_condition_failure(exc):
                    raise
            try:
                dynamodb().update_item(
                    TableName=_table(),
                    Key=key(pk, _ROLLING),
                    UpdateExpression="SET n = :one, started = :at, #ttl = :ttl",
                    ConditionExpression="attribute_not_exists(pk) OR started <= :cutoff",
                    ExpressionAttributeNames=_NAMES,
                    ExpressionAttributeValues=to_item(
                        {":one": 1, ":at": at, ":ttl": at + window + _KEEP_SECONDS, ":cutoff": at - window}
                    ),
                )
                return None
            except ClientError as exc:
                if not is_condition_failure(exc):
                    raise
            current = get(_table(), pk, _ROLLING)
            if current and int(current["started"]) > at - window and int(current["n"]) >= limit.attempts:
                return max(1, math.ceil(int(current["started"]) + window - now.timestamp()))
        return window  # still contended after three rounds: refuse rather than let a guess through

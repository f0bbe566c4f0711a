"""The first period a merchant is on the platform for: a return is due here only from then on.

A merchant registered today must not see the periods before it as overdue (issue 15, item 8). Its
start is the earlier of the period it registered in and the period of its first allocated track
range (字軌): a merchant may allocate an earlier period's numbers to bring in invoices it issued then.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.adapters.dynamo import dynamodb
from chalicelib.adapters.dynamo_merchants import DynamoMerchants
from chalicelib.domain.period import TAIWAN_TZ, Period
from chalicelib.settings import get_settings


def _first_range_period(ubn: str) -> Period | None:
    # Range items sort by period code (RANGE#11402#...): the first one is the earliest allocation.
    answer = dynamodb().query(
        TableName=get_settings().tracks_table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={":pk": {"S": f"MERCHANT#{ubn}"}, ":prefix": {"S": "RANGE#"}},
        Limit=1,
    )
    items = answer.get("Items") or []
    return Period.parse(items[0]["sk"]["S"].split("#")[1]) if items else None


def first_period(ubn: str) -> Period | None:
    """None when neither is known (a profile older than ``created_at``): then every period is due,
    the safer reading for a tax obligation."""
    starts: list[Period] = []
    created = (DynamoMerchants().get_profile(ubn) or {}).get("created_at")
    if created:
        starts.append(Period.from_date(datetime.fromisoformat(str(created)).astimezone(TAIWAN_TZ).date()))
    allocated = _first_range_period(ubn)
    if allocated is not None:
        starts.append(allocated)
    return min(starts) if starts else None

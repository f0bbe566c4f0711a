"""The days staff override in the working calendar: a typhoon day off (颱風假), an announced change.

One item per day in the merchants table (``CALENDAR`` / ``DAY#2025-07-25``): few, read whole.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib.adapters.dynamo import dynamodb, key, query_all, to_item
from chalicelib.settings import get_settings

_PK = "CALENDAR"


def _table() -> str:
    return get_settings().merchants_table


class DynamoCalendarOverrides:
    def put(self, day: date, *, working: bool, reason: str, actor: str, at: str) -> dict[str, Any]:
        item = {"day": day.isoformat(), "working": working, "reason": reason, "set_by": actor, "set_at": at}
        dynamodb().put_item(TableName=_table(), Item=to_item({"pk": _PK, "sk": f"DAY#{day.isoformat()}", **item}))
        return item

    def delete(self, day: date) -> bool:
        answer = dynamodb().delete_item(
            TableName=_table(), Key=key(_PK, f"DAY#{day.isoformat()}"), ReturnValues="ALL_OLD"
        )
        return bool(answer.get("Attributes"))

    def all(self) -> list[dict[str, Any]]:
        items = query_all(
            TableName=_table(),
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": _PK}, ":prefix": {"S": "DAY#"}},
            ConsistentRead=True,
        )
        return [{k: v for k, v in i.items() if k not in ("pk", "sk")} for i in items]

    def days(self) -> dict[date, bool]:
        """Each overridden day and whether it is worked."""
        return {date.fromisoformat(str(o["day"])): bool(o["working"]) for o in self.all()}

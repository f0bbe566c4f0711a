"""The allocated track (字軌) ranges of one period across every merchant, for the tax office.

Range items carry ``gsi1pk=PERIOD#<period>`` and ``gsi1sk=<track>#<begin>`` (see dynamo_tracks.py),
so the tracks table's gsi1 lists a period's ranges in track and number order without a scan.
"""

from __future__ import annotations

from typing import Any

from chalicelib.adapters.dynamo import dynamodb, from_item
from chalicelib.settings import get_settings


def _request(period: str, track: str | None) -> dict[str, Any]:
    condition = "gsi1pk = :pk"
    values: dict[str, Any] = {":pk": {"S": f"PERIOD#{period}"}}
    if track:
        condition += " AND begins_with(gsi1sk, :track)"
        values[":track"] = {"S": f"{track}#"}
    return {
        "TableName": get_settings().tracks_table,
        "IndexName": "gsi1",
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": values,
    }


class DynamoPeriodRanges:
    def ranges(self, period: str, track: str | None, limit: int) -> tuple[list[dict[str, Any]], bool]:
        """The first ``limit`` ranges of the period (of one track if given), and whether there are more."""
        request = {**_request(period, track), "Limit": limit + 1}
        found: list[dict[str, Any]] = []
        while len(found) <= limit:
            response = dynamodb().query(**request)
            found.extend(from_item(item) for item in response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if not last:
                break
            request["ExclusiveStartKey"] = last
        return found[:limit], len(found) > limit

    def count(self, period: str) -> int:
        """How many ranges the period has (the index is read, but no item is sent back)."""
        request: dict[str, Any] = {**_request(period, None), "Select": "COUNT"}
        total = 0
        while True:
            response = dynamodb().query(**request)
            total += int(response.get("Count", 0))
            last = response.get("LastEvaluatedKey")
            if not last:
                return total
            request["ExclusiveStartKey"] = last

"""adapters.dynamo.get_many: several tables in one BatchGetItem, answers in the order asked."""

from __future__ import annotations

import secrets

from chalicelib.adapters.dynamo import dynamodb, get_many, key, to_item
from chalicelib.settings import get_settings


def test_items_of_several_tables_come_back_in_the_order_asked_with_none_for_missing() -> None:
    settings = get_settings()
    tag = secrets.token_hex(4)
    dynamodb().put_item(TableName=settings.merchants_table, Item=to_item({"pk": f"T#{tag}", "sk": "A", "v": 1}))
    dynamodb().put_item(TableName=settings.tracks_table, Item=to_item({"pk": f"T#{tag}", "sk": "B", "v": 2}))
    dynamodb().put_item(TableName=settings.idempotency_table, Item=to_item({"id": f"T#{tag}", "v": 3}))
    found = get_many(
        [
            (settings.tracks_table, key(f"T#{tag}", "B")),
            (settings.merchants_table, key(f"T#{tag}", "missing")),
            (settings.idempotency_table, {"id": {"S": f"T#{tag}"}}),
            (settings.merchants_table, key(f"T#{tag}", "A")),
            (settings.tracks_table, key(f"T#{tag}", "B")),  # asked twice: answered twice, read once
        ]
    )
    assert [item["v"] if item else None for item in found] == [2, None, 3, 1, 2]
    assert get_many([]) == []

"""A period's running totals, split over a few items so that concurrent invoices rarely touch the same one.

Every invoice, cancellation and allowance ADDs to its period's totals inside its own transaction. On
DynamoDB two transactions that touch one item at the same time conflict, and one is cancelled and
retried: a single totals item per merchant would serialise all of a merchant's channels (and every
seller issuing to one large buyer). So each update goes to one of ``SHARDS`` items chosen at random,
``TOTALS#<period>#<group>#<n>``, and a reader sums them: one Query of at most
``3 × SHARDS`` items, whatever the number of invoices.

Groups: ``07`` and ``08`` (sales of each invoice type) and ``purchases`` (the buyer side: e-invoices
other merchants issued to this UBN, and their allowances). Items written before sharding
(``TOTALS#<period>#<group>``) are summed too.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from chalicelib.adapters.dynamo import dynamodb, key, query_all, to_item
from chalicelib.domain.period_totals import PeriodTotals, group_of
from chalicelib.settings import get_settings

SHARDS = 8


# The invoices table's keys, as adapters/dynamo_invoices.py writes them (which reads totals through
# this module, so it is not imported here).
def invoices_table() -> str:
    return get_settings().invoices_table


def owner(ubn: str) -> str:
    return f"MERCHANT#{ubn}"


_NOT_SUMS = frozenset({"pk", "sk"})


def prefix(period: str) -> str:
    return f"TOTALS#{period}#"


def shard_key(period: str, group: str, shard: int) -> str:
    return f"{prefix(period)}{group}#{shard}"


def adding(ubn: str, period: str, group: str, changes: Mapping[str, int]) -> dict[str, Any]:
    """A transaction action that ADDs ``changes`` (negative to subtract) to one shard of the group."""
    if not changes:
        raise ValueError("a totals update needs at least one change")
    names = {f"#a{i}": name for i, name in enumerate(changes)}
    values = {f":a{i}": value for i, value in enumerate(changes.values())}
    return {
        "Update": {
            "TableName": invoices_table(),
            "Key": key(owner(ubn), shard_key(period, group, secrets.randbelow(SHARDS))),
            "UpdateExpression": "ADD " + ", ".join(f"#a{i} :a{i}" for i in range(len(changes))),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_item(values),
        }
    }


def read(ubn: str, period: str) -> PeriodTotals:
    """Every totals item of the period (strongly consistent), summed per group."""
    totals = PeriodTotals()
    for item in query_all(
        TableName=invoices_table(),
        # BETWEEN rather than begins_with: the same key range, and DynamoDB Local serves begins_with
        # by reading the whole partition (100,000 invoices: 26 ms instead of 3).
        KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
        ExpressionAttributeValues=to_item({":pk": owner(ubn), ":low": prefix(period), ":high": prefix(period) + "~"}),
        ConsistentRead=True,
    ):
        sort_key = str(item["sk"])
        totals.items[sort_key] = item
        summed = totals.groups.setdefault(group_of(sort_key), {})
        for name, value in item.items():
            if name not in _NOT_SUMS:
                summed[name] = summed.get(name, 0) + int(value)
    return totals


def unchanged(ubn: str, sort_key: str, seen: Mapping[str, Any] | None, counts: tuple[str, ...]) -> dict[str, Any]:
    """A condition that one shard still has the ``counts`` it had when read (or is still absent)."""
    if seen is None:
        return {
            "ConditionCheck": {
                "TableName": invoices_table(),
                "Key": key(owner(ubn), sort_key),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
    conditions, names, values = [], {}, {}
    for i, name in enumerate(counts):
        names[f"#c{i}"] = name
        value = int(seen.get(name) or 0)
        values[f":c{i}"] = value
        conditions.append(f"#c{i} = :c{i}" if name in seen else f"(attribute_not_exists(#c{i}) OR #c{i} = :c{i})")
    return {
        "ConditionCheck": {
            "TableName": invoices_table(),
            "Key": key(owner(ubn), sort_key),
            "ConditionExpression": " AND ".join(conditions),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_item(values),
        }
    }


def replace(ubn: str, period: str, group: str, values: Mapping[str, int], existing: list[str]) -> None:
    """Make the group's totals ``values``: one shard holds them, the other items go (a repair)."""
    actions: list[dict[str, Any]] = [
        {"Delete": {"TableName": invoices_table(), "Key": key(owner(ubn), sk)}}
        for sk in existing
        if sk != shard_key(period, group, 0)
    ]
    actions.append(
        {
            "Put": {
                "TableName": invoices_table(),
                "Item": to_item({"pk": owner(ubn), "sk": shard_key(period, group, 0), **values}),
            }
        }
    )
    dynamodb().transact_write_items(TransactItems=actions)

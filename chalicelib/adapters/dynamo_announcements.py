"""System announcements and who read them, in the merchants table.

``ANNOUNCEMENT`` / ``ANN#<id>``: one item per announcement (few, read whole, like the calendar).
``ANNREAD#<ubn>`` / ``ANN#<id>``: one item per announcement a merchant has read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.adapters.dynamo import dynamodb, get, query_all, to_item
from chalicelib.domain.announcement import Announcement, Kind
from chalicelib.settings import get_settings

_PK = "ANNOUNCEMENT"
_PREFIX = "ANN#"
# Writes made by this container, so a cache here (the console's maintenance banner) sees them at once.
_writes = 0
_TIMES = ("publish_at", "expire_at", "starts_at", "ends_at", "created_at", "updated_at")


def _table() -> str:
    return get_settings().merchants_table


def writes() -> int:
    return _writes


def _read_pk(ubn: str) -> str:
    return f"ANNREAD#{ubn}"


def _to_item(a: Announcement) -> dict[str, Any]:
    values: dict[str, Any] = {
        "pk": _PK,
        "sk": f"{_PREFIX}{a.id}",
        "id": a.id,
        "kind": a.kind.value,
        "title_zh": a.title_zh,
        "title_en": a.title_en,
        "body_zh": a.body_zh,
        "body_en": a.body_en,
        "audience": list(a.audience),
        "withdrawn": a.withdrawn,
        "created_by": a.created_by,
        "updated_by": a.updated_by,
    }
    for name in _TIMES:
        moment: datetime | None = getattr(a, name)
        values[name] = moment.isoformat() if moment else None
    return to_item(values)


def _from_item(values: dict[str, Any]) -> Announcement:
    times = {n: datetime.fromisoformat(values[n]) if values.get(n) else None for n in _TIMES}
    return Announcement(
        id=str(values["id"]),
        kind=Kind(values["kind"]),
        title_zh=str(values["title_zh"]),
        title_en=str(values["title_en"]),
        body_zh=str(values["body_zh"]),
        body_en=str(values["body_en"]),
        audience=tuple(str(u) for u in values.get("audience") or ()),
        withdrawn=bool(values.get("withdrawn", False)),
        created_by=str(values.get("created_by", "")),
        updated_by=str(values.get("updated_by", "")),
        **times,
    )


class DynamoAnnouncements:
    def put(self, announcement: Announcement) -> None:
        global _writes  # noqa: PLW0603 - a per-container counter, read by writes()
        dynamodb().put_item(TableName=_table(), Item=_to_item(announcement))
        _writes += 1

    def get(self, announcement_id: str) -> Announcement | None:
        item = get(_table(), _PK, f"{_PREFIX}{announcement_id}")
        return _from_item(item) if item else None

    def all(self) -> list[Announcement]:
        items = query_all(
            TableName=_table(),
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={":pk": {"S": _PK}, ":prefix": {"S": _PREFIX}},
            ConsistentRead=True,
        )
        return [_from_item(i) for i in items]

    def read_ids(self, ubn: str) -> set[str]:
        items = query_all(
            TableName=_table(),
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": _read_pk(ubn)}},
            ConsistentRead=True,
        )
        return {str(i["sk"]).removeprefix(_PREFIX) for i in items}

    def mark_read(self, ubn: str, announcement_id: str, at: datetime) -> None:
        dynamodb().put_item(
            TableName=_table(),
            Item=to_item({"pk": _read_pk(ubn), "sk": f"{_PREFIX}{announcement_id}", "read_at": at.isoformat()}),
        )


class DynamoAnnouncementFanOut:
    """How far the ``announcement.published`` events of one publication went:
    ``ANNOUNCEMENT`` / ``FANOUT#<id>#<publish_at>`` holds the merchant cursor, then ``done``."""

    @staticmethod
    def _sk(announcement_id: str, stamp: str) -> str:
        return f"FANOUT#{announcement_id}#{stamp}"

    def state(self, announcement_id: str, stamp: str) -> dict[str, Any] | None:
        return get(_table(), _PK, self._sk(announcement_id, stamp))

    def save(self, announcement_id: str, stamp: str, *, cursor: str | None, done: bool) -> None:
        dynamodb().put_item(
            TableName=_table(),
            Item=to_item({"pk": _PK, "sk": self._sk(announcement_id, stamp), "cursor": cursor, "done": done}),
        )

"""Track (字軌) ranges, booklets and per-channel number counters in the tracks table.

Keys (``m`` = ``MERCHANT#<ubn>``; ``p`` period, ``t`` invoice type, ``k`` track, ``b`` 8-digit begin):
- ``pk=m, sk=RANGE#p#t#k#b``: an allocated range (gsi1: ``PERIOD#p`` / ``k#b`` for staff).
- ``pk=m, sk=BOOKLET#p#t#k#b``: one booklet of 50: allocated → active (取號) → assigned to a channel.
- ``pk=m, sk=COUNTER#p#t#<channel>``: the channel's current booklet, its next number, the queue of
  booklets assigned after it, and how many numbers remain. ``low_stock_notice`` names the invoice
  whose issue queued the low-stock notice (its outbox item, services/low_stock.py);
  ``low_stock_notified`` is set once that notice was sent. Assigning booklets clears both.
- ``pk=GUARD#p#k#b, sk=GUARD``: one per booklet for all merchants. Conditional writes of these
  make the database itself refuse a second allocation of any number of a period and track.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib.adapters.dynamo import cancellation_reasons, dynamodb, from_item, get, key, query_all, to_item
from chalicelib.domain.counter import Counter
from chalicelib.domain.errors import Conflict
from chalicelib.domain.invoice_number import BOOKLET_SIZE, TrackRange, range_id
from chalicelib.settings import get_settings

# DynamoDB allows 100 actions per transaction; guards and booklets are written in chunks below it.
_CHUNK = 90


def _table() -> str:
    return get_settings().tracks_table


def _owner(ubn: str) -> str:
    return f"MERCHANT#{ubn}"


def _suffix(period: str, invoice_type: str, track: str, begin: int) -> str:
    return f"{period}#{invoice_type}#{track}#{begin:08d}"


def counter_sk(period: str, invoice_type: str, channel: str) -> str:
    return f"COUNTER#{period}#{invoice_type}#{channel}"


def _counter(item: dict[str, Any]) -> Counter:
    return Counter(
        period=item["period"],
        invoice_type=item["invoice_type"],
        channel=item["channel"],
        track=item.get("cur_track"),
        begin=item.get("cur_begin"),
        end=item.get("cur_end"),
        next_no=item.get("next_no"),
        queue=tuple(item.get("queue") or ()),
        remaining=int(item.get("remaining", 0)),
        last_issued_at=str(item.get("last_issued_at", "")),
        version=int(item.get("version", 0)),
        low_stock_notified=bool(item.get("low_stock_notified", False)),
        low_stock_notice=item.get("low_stock_notice"),
    )


class DynamoTracks:
    # --- allocation ----------------------------------------------------------------------------

    def allocate(
        self, ubn: str, track_range: TrackRange, *, status: str, source: str, actor: str, at: datetime
    ) -> bool:
        """Store a range, its booklets and their guards. True if new, False if this exact range
        was already loaded for this merchant (re-imports are harmless); ``Conflict`` if any of its
        numbers belongs to another range of anyone."""
        rid = range_id(track_range)
        owner = _owner(ubn)
        period, itype, track = track_range.period.code, track_range.invoice_type.value, track_range.track
        existing = get(_table(), owner, f"RANGE#{_suffix(period, itype, track, track_range.begin)}")
        if existing is not None and existing.get("end") == track_range.end:
            return False
        booklets = track_range.booklets()
        # Guards this range already holds (an earlier attempt stopped half-way) are kept, so
        # loading the same range again finishes the job instead of clashing with itself.
        mine = self._guards_of(rid, period, track, [b.begin for b in booklets])
        written: list[int] = []
        try:
            for chunk in _chunks([b.begin for b in booklets if b.begin not in mine]):
                self._put_guards(ubn, rid, period, track, chunk)
                written.extend(chunk)
        except Conflict:
            self._delete_guards(rid, period, track, written)
            raise
        booklet_items = [
            {
                "pk": owner,
                "sk": f"BOOKLET#{_suffix(period, itype, track, b.begin)}",
                "range_id": rid,
                "period": period,
                "invoice_type": itype,
                "track": track,
                "begin": b.begin,
                "end": b.end,
                "status": status,
            }
            for b in booklets
        ]
        range_item = {
            "pk": owner,
            "sk": f"RANGE#{_suffix(period, itype, track, track_range.begin)}",
            "gsi1pk": f"PERIOD#{period}",
            "gsi1sk": f"{track}#{track_range.begin_no}",
            "range_id": rid,
            "ubn": ubn,
            "period": period,
            "invoice_type": itype,
            "track": track,
            "begin": track_range.begin,
            "end": track_range.end,
            "booklets": len(booklets),
            "source": source,
            "allocated_by": actor,
            "allocated_at": at.isoformat(),
        }
        # Guards hold every number, so these writes cannot collide with anyone; the range item
        # goes last so a listed range always has all its booklets.
        for chunk in _chunks(booklet_items):
            dynamodb().transact_write_items(
                TransactItems=[{"Put": {"TableName": _table(), "Item": to_item(item)}} for item in chunk]
            )
        dynamodb().put_item(TableName=_table(), Item=to_item(range_item))
        return True

    def remove(self, ubn: str, track_range: TrackRange) -> None:
        """Undo an allocation that was just made (an import refused as a whole)."""
        rid = range_id(track_range)
        period, itype, track = track_range.period.code, track_range.invoice_type.value, track_range.track
        owner = _owner(ubn)
        dynamodb().delete_item(
            TableName=_table(), Key=key(owner, f"RANGE#{_suffix(period, itype, track, track_range.begin)}")
        )
        begins = [b.begin for b in track_range.booklets()]
        for chunk in _chunks(begins):
            dynamodb().transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": _table(),
                            "Key": key(owner, f"BOOKLET#{_suffix(period, itype, track, b)}"),
                        }
                    }
                    for b in chunk
                ]
            )
        self._delete_guards(rid, period, track, begins)

    def _guards_of(self, rid: str, period: str, track: str, begins: Sequence[int]) -> set[int]:
        held: set[int] = set()
        for chunk in _chunks(list(begins), size=100):
            keys = [key(f"GUARD#{period}#{track}#{begin:08d}", "GUARD") for begin in chunk]
            request: dict[str, Any] = {_table(): {"Keys": keys, "ConsistentRead": True}}
            while request:
                response = dynamodb().batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(_table(), []):
                    guard = from_item(item)
                    if guard.get("range_id") == rid:
                        held.add(int(str(guard["pk"]).rsplit("#", 1)[1]))
                request = response.get("UnprocessedKeys") or {}
        return held

    def _put_guards(self, ubn: str, rid: str, period: str, track: str, begins: Sequence[int]) -> None:
        actions = [
            {
                "Put": {
                    "TableName": _table(),
                    "Item": to_item(
                        {
                            "pk": f"GUARD#{period}#{track}#{begin:08d}",
                            "sk": "GUARD",
                            "ubn": ubn,
                            "range_id": rid,
                        }
                    ),
                    "ConditionExpression": "attribute_not_exists(pk)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                }
            }
            for begin in begins
        ]
        try:
            dynamodb().transact_write_items(TransactItems=actions)
        except ClientError as exc:
            reasons = cancellation_reasons(exc)
            if "ConditionalCheckFailed" not in reasons:
                raise
            clash = begins[reasons.index("ConditionalCheckFailed")]
            error = Conflict(
                "TRACK_RANGE_OVERLAP",
                f"Numbers {track}{clash:08d}-{clash + BOOKLET_SIZE - 1:08d} of period {period} are already allocated",
                f"{period} 期 {track}{clash:08d}-{clash + BOOKLET_SIZE - 1:08d} 已經配號，不可重複配號",
                "begin_no",
            )
            holder = get(_table(), f"GUARD#{period}#{track}#{clash:08d}", "GUARD")
            if holder is not None and holder.get("ubn") != ubn:
                error.mof_code = "E0113"  # 專用字軌已被其他營業人使用: the guard is another merchant's
            raise error from exc

    def _delete_guards(self, rid: str, period: str, track: str, begins: Sequence[int]) -> None:
        for chunk in _chunks(list(begins)):
            dynamodb().transact_write_items(
                TransactItems=[
                    {
                        "Delete": {
                            "TableName": _table(),
                            "Key": key(f"GUARD#{period}#{track}#{begin:08d}", "GUARD"),
                            "ConditionExpression": "range_id = :r",
                            "ExpressionAttributeValues": {":r": {"S": rid}},
                        }
                    }
                    for begin in chunk
                ]
            )

    # --- reading -------------------------------------------------------------------------------

    def items(self, ubn: str, kind: str, period: str) -> list[dict[str, Any]]:
        return list(
            query_all(
                TableName=_table(),
                KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
                ExpressionAttributeValues={":pk": {"S": _owner(ubn)}, ":prefix": {"S": f"{kind}#{period}#"}},
                ConsistentRead=True,
            )
        )

    def counters(self, ubn: str, period: str) -> list[Counter]:
        return [as_counter(item) for item in self.items(ubn, "COUNTER", period)]

    def range_item(self, ubn: str, rid: str) -> dict[str, Any] | None:
        period, itype, track, begin = rid.split("-")
        return get(_table(), _owner(ubn), f"RANGE#{period}#{itype}#{track}#{begin}")

    def counter(self, ubn: str, period: str, invoice_type: str, channel: str) -> Counter | None:
        item = get(_table(), _owner(ubn), counter_sk(period, invoice_type, channel))
        return _counter(item) if item else None

    def counter_key(self, ubn: str, period: str, invoice_type: str, channel: str) -> tuple[str, dict[str, Any]]:
        """``(table, key)`` of a channel's counter, for a read batched with others (``dynamo.get_many``)."""
        return _table(), key(_owner(ubn), counter_sk(period, invoice_type, channel))

    # --- activation and channels ---------------------------------------------------------------

    def set_booklets_active(self, ubn: str, booklet_sks: Sequence[str]) -> None:
        for chunk in _chunks(list(booklet_sks)):
            dynamodb().transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": _table(),
                            "Key": key(_owner(ubn), sk),
                            "UpdateExpression": "SET #s = :active",
                            "ConditionExpression": "#s = :allocated",
                            "ExpressionAttributeNames": {"#s": "status"},
                            "ExpressionAttributeValues": to_item({":active": "active", ":allocated": "allocated"}),
                        }
                    }
                    for sk in chunk
                ]
            )

    def assign(
        self, ubn: str, period: str, invoice_type: str, channel: str, booklets: Sequence[dict[str, Any]]
    ) -> None:
        """Give active, unassigned booklets to a channel, queued after what it already has."""
        owner = _owner(ubn)
        for chunk in _chunks(list(booklets), size=_CHUNK - 1):
            queue = [f"{b['track']}#{int(b['begin']):08d}" for b in chunk]
            actions: list[dict[str, Any]] = [
                {
                    "Update": {
                        "TableName": _table(),
                        "Key": key(owner, b["sk"]),
                        "UpdateExpression": "SET channel = :c",
                        "ConditionExpression": "#s = :active AND attribute_not_exists(channel)",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": to_item({":c": channel, ":active": "active"}),
                    }
                }
                for b in chunk
            ]
            actions.append(
                {
                    "Update": {
                        "TableName": _table(),
                        "Key": key(owner, counter_sk(period, invoice_type, channel)),
                        "UpdateExpression": (
                            "SET period = :p, invoice_type = :t, channel = :c, "
                            "queue = list_append(if_not_exists(queue, :empty), :q), "
                            "remaining = if_not_exists(remaining, :zero) + :n, "
                            "version = if_not_exists(version, :zero) + :one, low_stock_notified = :false "
                            # More numbers: a notice still unsent is out of date, and the next issue
                            # below the threshold queues a new one (services/low_stock.py).
                            "REMOVE low_stock_notice"
                        ),
                        "ExpressionAttributeValues": to_item(
                            {
                                ":p": period,
                                ":t": invoice_type,
                                ":c": channel,
                                ":empty": [],
                                ":q": queue,
                                ":zero": 0,
                                ":one": 1,
                                ":n": len(chunk) * BOOKLET_SIZE,
                                ":false": False,
                            }
                        ),
                    }
                }
            )
            try:
                dynamodb().transact_write_items(TransactItems=actions)
            except ClientError as exc:
                if "ConditionalCheckFailed" in cancellation_reasons(exc):
                    raise Conflict(
                        "BOOKLET_NOT_ASSIGNABLE",
                        "A booklet was assigned or changed meanwhile; reload the tracks and try again",
                        "字軌本已被指派或變更，請重新整理後再試",
                        "assignments",
                    ) from exc
                raise

    # --- numbering -----------------------------------------------------------------------------

    def advance(self, ubn: str, counter: Counter) -> bool:
        """Move a channel whose booklet is used up to the next queued booklet; False on a race."""
        if not counter.queue:
            return False
        track, begin = counter.queue[0].split("#")
        start = int(begin)
        try:
            dynamodb().update_item(
                TableName=_table(),
                Key=key(_owner(ubn), counter_sk(counter.period, counter.invoice_type, counter.channel)),
                UpdateExpression=(
                    "SET cur_track = :t, cur_begin = :b, cur_end = :e, next_no = :b, queue = :rest, "
                    "version = version + :one"
                ),
                ConditionExpression="version = :v",
                ExpressionAttributeValues=to_item(
                    {
                        ":t": track,
                        ":b": start,
                        ":e": start + BOOKLET_SIZE - 1,
                        ":rest": list(counter.queue[1:]),
                        ":one": 1,
                        ":v": counter.version,
                    }
                ),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def mark_low_stock_notified(self, ubn: str, period: str, invoice_type: str, channel: str, notice: str) -> bool:
        """Record that the low-stock notice ``notice`` was sent; True for the one caller that did.

        Only while ``notice`` is still the channel's queued notice: a notice that more booklets
        made out of date must not mark the next one as sent."""
        try:
            dynamodb().update_item(
                TableName=_table(),
                Key=key(_owner(ubn), counter_sk(period, invoice_type, channel)),
                UpdateExpression="SET low_stock_notified = :true",
                ConditionExpression=(
                    "low_stock_notice = :notice "
                    "AND (low_stock_notified = :false OR attribute_not_exists(low_stock_notified))"
                ),
                ExpressionAttributeValues=to_item({":true": True, ":false": False, ":notice": notice}),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True


def take_number_action(ubn: str, counter: Counter, issued_at: str, low_stock_notice: str | None) -> dict[str, Any]:
    """The counter's Update in an issuing transaction (the ledger's ``TakeNumber``).

    The counter moves only if it still holds the number we read and the number is within the
    booklet, so a concurrent writer or a failure of any other action leaves no gap and no
    duplicate; the refusal hands back the counter as it is (ALL_OLD), which saves a read per lost
    race. ``low_stock_notice`` (the number being issued) records that this issue queues the
    low-stock notice; the commit then also requires that none is queued or sent and that
    ``remaining`` is what was read, so of concurrent issuers below the threshold one queues it."""
    if counter.next_no is None or counter.end is None:
        raise ValueError("the counter's booklet is used up: advance it first")
    update = (
        "SET next_no = :after, last_issued_at = :at, remaining = remaining - :one, "
        "issued = if_not_exists(issued, :zero) + :one"
    )
    # The version moves whenever booklets are assigned or the channel moves to its next one: a
    # counter remembered between requests (services/issuing_cache.py) that missed such a change is
    # refused here and read again, rather than issuing from a booklet list that is out of date.
    condition = "next_no = :n AND cur_begin = :b AND :n <= cur_end AND "
    condition += "(version = :v OR attribute_not_exists(version))" if counter.version == 0 else "version = :v"
    values: dict[str, Any] = {
        ":v": counter.version,
        ":after": counter.next_no + 1,
        ":at": issued_at,
        ":one": 1,
        ":zero": 0,
        ":n": counter.next_no,
        ":b": counter.begin,
    }
    if low_stock_notice is not None:
        update += ", low_stock_notice = :notice"
        condition += (
            " AND remaining = :remaining AND attribute_not_exists(low_stock_notice)"
            " AND (attribute_not_exists(low_stock_notified) OR low_stock_notified = :false)"
        )
        values |= {":notice": low_stock_notice, ":remaining": counter.remaining, ":false": False}
    return {
        "Update": {
            "TableName": _table(),
            "Key": key(_owner(ubn), counter_sk(counter.period, counter.invoice_type, counter.channel)),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            "ExpressionAttributeValues": to_item(values),
        }
    }


def _chunks(values: list[Any], size: int = _CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def as_counter(item: dict[str, Any]) -> Counter:
    return _counter(item)

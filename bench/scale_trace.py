"""What the code really sends to AWS per operation, recorded against DynamoDB Local and moto.

``bench/scale.py`` holds the scale model as data: for each operation (issue a B2C or B2B invoice,
an allowance, a cancel, the outbox's pass over each, a filing), the items and partition keys it
reads and writes and their sizes. This module checks that model against the code instead of
against itself: it runs each operation once through the real API (the Chalice test client, an API
key, the container's rate limiter) or the real outbox processor, and records every AWS call
botocore makes. For each DynamoDB write it reads the item before and after (those reads are not
recorded) so that it can size the write as DynamoDB bills it: the larger of the two images, per
started KB, twice in a transaction, and one more write on each global secondary index the change
touches (a put when the item enters the index, a delete when it leaves, both when its index key
changes, one update when a projected attribute changes).

Keys are turned back into templates (``MERCHANT#{seller}``, ``TOTALS#{period}#07#{shard}``), so
the recorded accesses compare one to one with the model's.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from infra.resources import TABLES, Table

KB = 1024
READ_UNIT = 4 * KB


# --- DynamoDB's item size (docs: "Item sizes and formats") -------------------------------------------


def attribute_size(value: Mapping[str, Any]) -> int:  # noqa: PLR0911 - one return per DynamoDB type
    """Bytes of one AttributeValue, without its name: strings and binaries their length, numbers
    1 byte per 2 significant digits plus 1, booleans and nulls 1, lists and maps 3 bytes plus
    1 byte and the size (and, for a map, the name) of each element."""
    kind, inner = next(iter(value.items()))
    if kind == "S":
        return len(str(inner).encode())
    if kind == "B":
        return len(inner)
    if kind == "N":
        return number_size(str(inner))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + attribute_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + attribute_size(v) for k, v in inner.items())
    if kind == "SS":
        return sum(len(s.encode()) for s in inner)
    if kind == "NS":
        return sum(number_size(n) for n in inner)
    if kind == "BS":
        return sum(len(b) for b in inner)
    raise ValueError(f"unknown attribute type {kind}")


def number_size(text: str) -> int:
    digits = Decimal(text).normalize().as_tuple().digits
    return math.ceil(len(digits) / 2) + 1


def item_size(item: Mapping[str, Mapping[str, Any]] | None) -> int:
    """Bytes of a whole item: each attribute's name plus its value."""
    if not item:
        return 0
    return sum(len(name.encode()) + attribute_size(value) for name, value in item.items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / KB))


def read_units(size: int, *, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT))
    return float(units) if consistent else units / 2


def check_units(size: int) -> float:
    return 2.0 * math.ceil(size / READ_UNIT) if size else 0.0


# --- what one call did ----------------------------------------------------------------------------


@dataclass
class Access:
    """One item (or one index entry) read or written by one call."""

    table: str  # the table's logical name: invoices, tracks, merchants, idempotency
    index: str | None  # a GSI's name, or None for the table itself
    pk: str  # the partition key value, as a template after ``templated``
    sk: str | None
    op: str  # put | update | delete | check | get | query
    units: float  # WCU for writes, RCU for reads
    size: int  # bytes of the item (for a query: of every item it returned)
    transactional: bool = False
    failed: bool = False


@dataclass
class Call:
    service: str
    operation: str
    accesses: list[Access] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    # What DynamoDB Local itself metered (ReturnConsumedCapacity=INDEXES), by table or table/index.
    metered: dict[str, float] | None = None

    def units(self) -> dict[str, float]:
        """What this recorder computed, by table or table/index, comparable with ``metered``."""
        found: dict[str, float] = {}
        for access in self.accesses:
            where = access.table + (f"/{access.index}" if access.index else "")
            found[where] = found.get(where, 0.0) + access.units
        return found


def _tables() -> dict[str, Table]:
    return {os.environ.get(t.env_var, t.name("local")): t for t in TABLES}


def _logical(table: Table) -> str:
    return table.suffix


def _key_of(table: Table, item: Mapping[str, Any]) -> dict[str, Any]:
    names = [table.partition_key] + ([table.sort_key] if table.sort_key else [])
    return {name: item[name] for name in names}


def _plain(value: Mapping[str, Any] | None) -> str | None:
    if value is None:
        return None
    (inner,) = value.values()
    return str(inner)


def _index_entry(table: Table, index_name: str, item: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """What the index holds of ``item`` (None when the item is not in it: a sparse index)."""
    if not item:
        return None
    index = next(i for i in table.indexes if i.name == index_name)
    if index.partition_key not in item or index.sort_key not in item:
        return None
    if index.projection == "ALL":
        return dict(item)
    names = {table.partition_key, index.partition_key, index.sort_key}
    if table.sort_key:
        names.add(table.sort_key)
    return {name: item[name] for name in names}


def write_accesses(
    table: Table,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    op: str,
    *,
    transactional: bool,
    failed: bool,
    key_item: Mapping[str, Any],
) -> list[Access]:
    """The table write and the index writes of one item going from ``before`` to ``after``."""
    size = max(item_size(before), item_size(after))
    if op == "check":
        size = item_size(before)
    pk = _plain(key_item[table.partition_key]) or ""
    sk = _plain(key_item.get(table.sort_key)) if table.sort_key else None
    factor = 2 if transactional else 1
    units = check_units(size) if op == "check" else write_units(size) * factor
    accesses = [Access(_logical(table), None, pk, sk, op, units, size, transactional, failed)]
    if failed or op == "check":
        return accesses
    for index in table.indexes:
        old, new = _index_entry(table, index.name, before), _index_entry(table, index.name, after)
        if old is None and new is None:
            continue
        old_key = old and (_plain(old[index.partition_key]), _plain(old[index.sort_key]))
        new_key = new and (_plain(new[index.partition_key]), _plain(new[index.sort_key]))
        if old is not None and (new is None or old_key != new_key):
            accesses.append(
                Access(
                    _logical(table),
                    index.name,
                    old_key[0] or "",
                    old_key[1],
                    "delete",
                    write_units(item_size(old)) * factor,
                    item_size(old),
                    transactional,
                )  # type: ignore[index]
            )
        if new is not None and (old is None or old_key != new_key):
            accesses.append(
                Access(
                    _logical(table),
                    index.name,
                    new_key[0] or "",
                    new_key[1],
                    "put",
                    write_units(item_size(new)) * factor,
                    item_size(new),
                    transactional,
                )  # type: ignore[index]
            )
        elif new is not None and old is not None and old != new:
            accesses.append(
                Access(
                    _logical(table),
                    index.name,
                    new_key[0] or "",  # type: ignore[index]
                    new_key[1],  # type: ignore[index]
                    "update",
                    write_units(max(item_size(old), item_size(new))) * factor,
                    item_size(new),
                    transactional,
                )
            )
    return accesses


class Recorder:
    """Every AWS call made while it is installed (``with Recorder() as r``), DynamoDB calls as the
    item accesses they bill."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.woken: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self._tables = _tables()
        self._original: Any = None
        self._depth = threading.local()

    def __enter__(self) -> Recorder:
        import botocore.client

        self._original = botocore.client.BaseClient._make_api_call
        recorder = self

        def recorded(client: Any, operation: str, params: Any) -> Any:
            return recorder._call(client, operation, params)

        botocore.client.BaseClient._make_api_call = recorded
        return self

    def __exit__(self, *exc: object) -> None:
        import botocore.client

        botocore.client.BaseClient._make_api_call = self._original

    def take(self) -> list[Call]:
        with self._lock:
            calls, self.calls = self.calls, []
        return calls

    # --- the wrapper -------------------------------------------------------------------------------

    def _raw(self, client: Any, operation: str, params: Any) -> Any:
        return self._original(client, operation, params)

    def _get(self, client: Any, table_name: str, item_key: Mapping[str, Any]) -> dict[str, Any] | None:
        found = self._raw(client, "GetItem", {"TableName": table_name, "Key": dict(item_key), "ConsistentRead": True})
        item: dict[str, Any] | None = found.get("Item")
        return item

    def _metered(self, answer: Mapping[str, Any] | None) -> dict[str, float] | None:
        if not answer or "ConsumedCapacity" not in answer:
            return None
        found: dict[str, float] = {}
        consumed = answer["ConsumedCapacity"]
        for entry in consumed if isinstance(consumed, list) else [consumed]:
            name = _logical(self._tables[entry["TableName"]])
            table = entry.get("Table", {}).get("CapacityUnits", entry.get("CapacityUnits", 0.0))
            found[name] = found.get(name, 0.0) + float(table)
            for index, units in entry.get("GlobalSecondaryIndexes", {}).items():
                found[f"{name}/{index}"] = found.get(f"{name}/{index}", 0.0) + float(units["CapacityUnits"])
        return found

    def _call(self, client: Any, operation: str, params: Any) -> Any:
        service = client.meta.service_model.service_name
        if service == "dynamodb" and operation in _METERED:
            params = {**params, "ReturnConsumedCapacity": "INDEXES"}
        if service != "dynamodb":
            kept = _light(params)  # before the call: botocore's handlers wrap the body in place
            answer = self._raw(client, operation, params)
            self._record(Call(service, operation, params=kept))
            return answer
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            return self._single_write(client, operation, params)
        if operation == "TransactWriteItems":
            return self._transaction(client, params)
        answer = None
        try:
            answer = self._raw(client, operation, params)
        finally:
            call = Call(service, operation, self._reads(operation, params, answer or {}))
            call.metered = self._metered(answer)
            self._record(call)
        return answer

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def _single_write(self, client: Any, operation: str, params: Any) -> Any:
        from botocore.exceptions import ClientError

        table = self._tables[params["TableName"]]
        item_key = params["Key"] if "Key" in params else _key_of(table, params["Item"])
        before = self._get(client, params["TableName"], item_key)
        op = {"PutItem": "put", "UpdateItem": "update", "DeleteItem": "delete"}[operation]
        try:
            answer = self._raw(client, operation, params)
        except ClientError:
            self._record(
                Call(
                    "dynamodb",
                    operation,
                    write_accesses(table, before, before, op, transactional=False, failed=True, key_item=item_key),
                )
            )
            raise
        after = self._get(client, params["TableName"], item_key)
        call = Call(
            "dynamodb",
            operation,
            write_accesses(table, before, after, op, transactional=False, failed=False, key_item=item_key),
        )
        call.metered = self._metered(answer)
        self._record(call)
        return answer

    def _woken_by(self, actions: list[dict[str, Any]]) -> None:
        """The outbox items a committed transaction put: what the table's stream wakes the outbox
        function for (adapters/dynamo_outbox_stream.py), in the order written."""
        from chalicelib.adapters.dynamo import from_item

        for action in actions:
            item = from_item(action.get("Put", {}).get("Item", {}))
            if str(item.get("sk", "")).startswith("OUTBOX#") and item.get("status") == "pending":
                self.woken.append(
                    {"ubn": item["ubn"], "invoice_number": item["invoice_number"], "event": item["event"]}
                )

    def _transaction(self, client: Any, params: Any) -> Any:
        from botocore.exceptions import ClientError

        actions = []
        for action in params["TransactItems"]:
            ((kind, body),) = action.items()
            table = self._tables[body["TableName"]]
            item_key = body["Key"] if "Key" in body else _key_of(table, body["Item"])
            op = {"Put": "put", "Update": "update", "Delete": "delete", "ConditionCheck": "check"}[kind]
            actions.append((table, body["TableName"], item_key, op))
        befores = [self._get(client, name, item_key) for _, name, item_key, _ in actions]
        failed = False
        answer = None
        try:
            answer = self._raw(client, "TransactWriteItems", params)
        except ClientError:
            failed = True
            raise
        else:
            self._woken_by(params["TransactItems"])
        finally:
            accesses: list[Access] = []
            for (table, name, item_key, op), before in zip(actions, befores, strict=True):
                after = before if failed else self._get(client, name, item_key)
                accesses += write_accesses(
                    table, before, after, op, transactional=True, failed=failed, key_item=item_key
                )
            call = Call("dynamodb", "TransactWriteItems", accesses)
            call.metered = self._metered(answer)
            self._record(call)
        return answer

    def _reads(self, operation: str, params: Mapping[str, Any], answer: Mapping[str, Any]) -> list[Access]:
        if operation == "GetItem":
            table = self._tables[params["TableName"]]
            item = answer.get("Item")
            size = item_size(item)
            consistent = bool(params.get("ConsistentRead"))
            return [
                Access(
                    _logical(table),
                    None,
                    _plain(params["Key"][table.partition_key]) or "",
                    _plain(params["Key"].get(table.sort_key)) if table.sort_key else None,
                    "get",
                    read_units(size, consistent=consistent),
                    size,
                )
            ]
        if operation == "BatchGetItem":
            accesses = []
            found: dict[tuple[str, str, str | None], int] = {}
            for name, items in answer.get("Responses", {}).items():
                table = self._tables[name]
                for item in items:
                    sk = _plain(item.get(table.sort_key)) if table.sort_key else None
                    found[(name, _plain(item[table.partition_key]) or "", sk)] = item_size(item)
            for name, request in params["RequestItems"].items():
                table = self._tables[name]
                consistent = bool(request.get("ConsistentRead"))
                for item_key in request["Keys"]:
                    pk = _plain(item_key[table.partition_key]) or ""
                    sk = _plain(item_key.get(table.sort_key)) if table.sort_key else None
                    size = found.get((name, pk, sk), 0)
                    accesses.append(
                        Access(_logical(table), None, pk, sk, "get", read_units(size, consistent=consistent), size)
                    )
            return accesses
        if operation in ("Query", "Scan"):
            table = self._tables[params["TableName"]]
            items = answer.get("Items", [])
            size = sum(item_size(i) for i in items)
            consistent = bool(params.get("ConsistentRead"))
            pk, sk = _query_keys(params) if operation == "Query" else ("*", None)
            return [
                Access(
                    _logical(table),
                    params.get("IndexName"),
                    pk,
                    sk,
                    "query",
                    read_units(size, consistent=consistent),
                    size,
                )
            ]
        return []


_METERED = {"PutItem", "UpdateItem", "DeleteItem", "GetItem", "BatchGetItem", "Query", "TransactWriteItems"}


def _query_keys(params: Mapping[str, Any]) -> tuple[str, str | None]:
    """A Query's partition key value, and the low end of its sort-key range ("~" ends dropped)."""
    condition = str(params.get("KeyConditionExpression", ""))
    values = params.get("ExpressionAttributeValues", {})
    match = re.match(r"\s*#?(\w+)\s*=\s*(:\w+)", condition)
    pk = (_plain(values.get(match.group(2))) if match else None) or "?"
    low = re.search(r"(?:begins_with\(\s*#?\w+\s*,\s*|BETWEEN\s+|[<>]=?\s*)(:\w+)", condition)
    sk = _plain(values.get(low.group(1))) if low else None
    return pk, sk


def _light(params: Mapping[str, Any]) -> dict[str, Any]:
    """What is kept of a non-DynamoDB call: its sizes and names, not its bodies."""
    kept: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, bytes | bytearray):
            kept["bytes"] = len(value)
        elif isinstance(value, str) and len(value) > 200:
            kept["bytes"] = len(value.encode())
        elif name in ("Key", "Bucket", "QueueUrl", "Destination", "PhoneNumber"):
            kept[name] = value
        elif name == "RawMessage":
            kept["bytes"] = len(value.get("Data", b""))
        elif name == "Content":
            kept["bytes"] = len(value.get("Raw", {}).get("Data", b""))
        elif name == "MessageBody":
            kept["bytes"] = len(str(value).encode())
    return kept


# --- turning concrete keys back into templates ---------------------------------------------------


@dataclass
class Names:
    """The concrete values of one traced run, and the placeholder each one becomes."""

    values: dict[str, str] = field(default_factory=dict)

    def add(self, placeholder: str, value: str | None) -> None:
        if value:
            self.values[value] = placeholder

    def template(self, text: str | None) -> str | None:
        if text is None:
            return None
        # Longest first: an invoice number never half-replaced by a shorter value inside it.
        for value in sorted(self.values, key=len, reverse=True):
            text = text.replace(value, "{" + self.values[value] + "}")
        text = re.sub(r"^(TOTALS#\{period\}#[^#]+#)\d+$", r"\1{shard}", text)
        text = re.sub(r"evt_[0-9a-f]+", "{event}", text)
        text = re.sub(r"\d{4}-\d{2}-\d{2}T[0-9:.+Z-]+", "{time}", text)
        text = re.sub(r"^(AUDIT#\{time\}#)[0-9a-f]+$", r"\1{id}", text)
        text = re.sub(r"\d{4}-\d{2}-\d{2}", "{date}", text)
        text = re.sub(r"^ip:.*$", "ip:{client}", text)
        text = re.sub(r"^RATE#ip:.*$", "RATE#ip:{client}", text)
        return text


def templated(calls: list[Call], names: Names) -> list[Call]:
    for call in calls:
        for access in call.accesses:
            access.pk = names.template(access.pk) or ""
            access.sk = names.template(access.sk)
        if "Key" in call.params:
            call.params["Key"] = names.template(str(call.params["Key"]))
    return calls


# --- the operations, run once each ----------------------------------------------------------------


@dataclass(frozen=True)
class _FixedClock:
    moment: datetime

    def now(self) -> datetime:
        return self.moment


@dataclass
class Traced:
    """The calls of each operation, by the model's operation names."""

    operations: dict[str, list[Call]]
    names: Names


B2C_BODY: dict[str, Any] = {
    "channel": "pos:till-1",
    "buyer": {"name": "消費者"},
    "carrier": {"type": "3J0002", "id": "/ABC+123"},
    "print": False,
    "items": [
        {"description": "拿鐵咖啡", "quantity": "2", "unit": "杯", "unit_price": "65", "tax_type": "1"},
        {"description": "鮪魚飯糰", "quantity": "1", "unit": "個", "unit_price": "35", "tax_type": "1"},
    ],
    "prices_include_tax": True,
}


def _b2b_body(buyer: str) -> dict[str, Any]:
    return {
        "channel": "pos:till-1",
        "buyer": {"ubn": buyer, "name": "買方股份有限公司", "email": "ap@example.com"},
        "print": True,
        "items": [
            {"description": "影印紙 A4", "quantity": "10", "unit": "包", "unit_price": "120", "tax_type": "1"},
            {"description": "原子筆", "quantity": "20", "unit": "支", "unit_price": "15", "tax_type": "1"},
        ],
        "prices_include_tax": True,
    }


class _Run:
    """One merchant (four booklets on one till, an API key for it) and a buyer, and the recorder."""

    def __init__(self, client: Any, recorder: Recorder) -> None:
        from bench.fixtures import issuing_merchant
        from chalicelib.adapters.dynamo_merchants import DynamoMerchants
        from chalicelib.api import deps
        from chalicelib.security.tokens import Role
        from chalicelib.services.principal import Principal

        self.client, self.recorder, self.deps = client, recorder, deps
        fleet = issuing_merchant({"pos:till-1": 4})
        self.seller, self.buyer = fleet.ubn, issuing_merchant({"pos:till-1": 1}).ubn
        settings = {"qr_aes_key": "FE05F029154F6AA67A78B338ED2F6601", "email_buyer": True, "low_stock_threshold": 0}
        DynamoMerchants().update_profile(self.seller, {"settings": settings, "email": "shop@example.com"})
        scopes = ["invoices:write", "invoices:read", "allowances:write", "filings:write"]
        created = deps.api_key_service().create(Principal(role=Role.MERCHANT, subject=self.seller), "tills", scopes)
        self.headers = {"X-Api-Key": created.api_key, "Content-Type": "application/json"}
        self.names = Names()
        for placeholder, value in (
            ("seller", self.seller),
            ("buyer", self.buyer),
            ("period", fleet.period),
            ("channel", "pos:till-1"),
            ("key_id", created.key_id),
        ):
            self.names.add(placeholder, value)
        self.operations: dict[str, list[Call]] = {}

    def post(self, path: str, body: Mapping[str, Any], key: str | None = None) -> Any:
        headers = {**self.headers, **({"Idempotency-Key": key} if key else {})}
        response = self.client.http.post(path, headers=headers, body=json.dumps(body))
        if response.status_code not in (200, 201):
            raise RuntimeError(f"{path}: {response.status_code} {response.body!r}")
        return json.loads(response.body)

    def operation(self, name: str, path: str, body: Mapping[str, Any], key: str | None = None) -> Any:
        """One request, recorded under ``name``. A fresh rate limiter first: every limit then takes
        its first lease (one request) from DynamoDB, as the model with ``lease=1`` says."""
        self.recorder.take()
        self.deps._rate_limiter = None
        answer = self.post(path, body, key)
        self.operations[name] = self.recorder.take()
        if key:
            self.names.add("idem", key)
        return answer

    def outbox(self, name: str) -> None:
        """The outbox passes the requests since the last one woke, recorded under ``name``."""
        processor = self.deps.outbox_processor()
        messages, self.recorder.woken[:] = list(self.recorder.woken), []
        self.recorder.take()
        for message in messages:
            processor.process(message["ubn"], message["invoice_number"], message["event"])
        self.operations[name] = self.recorder.take()

    def unrecorded(self, path: str, body: Mapping[str, Any], key: str | None = None, *, settle: bool = False) -> Any:
        """A request made only to set the scene; ``settle``: its outbox passes run too."""
        answer = self.post(path, body, key)
        if settle:
            self.outbox("_unrecorded")
            del self.operations["_unrecorded"]
        self.recorder.take()
        self.recorder.woken.clear()
        return answer

    def invoices(self) -> None:
        b2c = self.operation("issue_b2c", "/v1/invoices", B2C_BODY, "till-1-000001")
        self.names.add("number", b2c["invoice_number"])
        self.outbox("outbox_issued_b2c")
        b2b = self.operation("issue_b2b", "/v1/invoices", _b2b_body(self.buyer), "till-1-000002")
        self.names.add("number", b2b["invoice_number"])
        self.outbox("outbox_issued_b2b")
        line = {
            "original_invoice_number": b2b["invoice_number"],
            "description": "影印紙 A4 退貨",
            "quantity": "1",
            "unit_price": "120",
            "tax_type": "1",
        }
        allowance = self.operation("allowance", "/v1/allowances", {"items": [line]}, "alw-1")
        self.names.add("allowance", allowance["allowance_number"])
        self.outbox("outbox_allowance")
        # Cancelled after its own outbox pass, as any invoice but a fresh one is.
        cancelled = self.unrecorded("/v1/invoices", B2C_BODY, "till-1-000003", settle=True)
        self.names.add("number", cancelled["invoice_number"])
        self.operation("cancel", f"/v1/invoices/{cancelled['invoice_number']}/cancel", {"reason": "客戶退貨"})
        self.outbox("outbox_cancelled")

    def filing(self) -> None:
        """The period's return, filed two days after the period (the filing rules' clock moved)."""
        from chalicelib.domain.period import TAIWAN_TZ, Period

        period = Period.from_date(datetime.now(TAIWAN_TZ).date())
        self.names.add("filing", f"{period.code}v001")
        self.names.add("previous", period.previous().code)
        # Enough invoices that every totals shard exists, as it does for a busy merchant.
        for index in range(60):
            self.unrecorded("/v1/invoices", B2C_BODY, f"fill-{index}")
        moment = datetime.combine(period.next().first_day + timedelta(days=2), datetime.min.time(), tzinfo=TAIWAN_TZ)
        original = self.deps.rules_clock
        self.deps.rules_clock = lambda: _FixedClock(moment.replace(hour=10))
        try:
            self.operation("filing", f"/v1/filings/{period.code}/submit", {})
            self.outbox("outbox_filing")
        finally:
            self.deps.rules_clock = original


def run_trace() -> Traced:
    """Each traced operation of the model once, against the running local parts (``infra.local.running``)."""
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="local") as client, Recorder() as recorder:
        run = _Run(client, recorder)
        # Warm the container (clients, the API key's first look-up), unrecorded.
        run.unrecorded("/v1/invoices", B2C_BODY, "warm-up")
        run.invoices()
        run.filing()
    for calls in run.operations.values():
        templated(calls, run.names)
    return Traced(run.operations, run.names)


# --- the model against the trace ----------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """One key on which the model and the code disagree: how often per operation, and its units."""

    operation: str
    key: tuple[Any, ...]
    model_count: float
    traced_count: float
    model_units: float
    traced_units: float

    @property
    def text(self) -> str:
        kind, *rest = self.key
        where = " ".join(str(part) for part in rest if part not in (None, ""))
        return (
            f"{self.operation}: {kind} {where}: model {self.model_count:g}× / {self.model_units:g} units, "
            f"code {self.traced_count:g}× / {self.traced_units:g} units"
        )


def model_signature(op: Any) -> dict[tuple[Any, ...], list[float]]:
    """What a model operation (bench.scale_model.Operation) says it does, key by key: [count, units]."""
    from bench.scale_model import Read, Request, Write

    found: dict[tuple[Any, ...], list[float]] = {}

    def add(key: tuple[Any, ...], count: float, units: float) -> None:
        entry = found.setdefault(key, [0.0, 0.0])
        entry[0] += count
        entry[1] += units * count

    for step in op.steps:
        if isinstance(step, Write):
            add(("write", step.table, step.pk, step.sk, step.op, step.tx), step.count, step.units)
            for entry in step.indexes:
                add(
                    ("index", f"{step.table}/{entry.index}", entry.pk, entry.op, step.tx),
                    step.count,
                    step.index_units(entry),
                )
        elif isinstance(step, Read):
            where = step.table + (f"/{step.index}" if step.index else "")
            add(("read", where, step.pk, step.sk, step.op), step.count, step.units)
        elif isinstance(step, Request):
            add(("request", step.service, step.operation, step.key), step.count, 0.0)
    return found


def trace_signature(calls: list[Call]) -> dict[tuple[Any, ...], list[float]]:
    found: dict[tuple[Any, ...], list[float]] = {}

    def add(key: tuple[Any, ...], units: float) -> None:
        entry = found.setdefault(key, [0.0, 0.0])
        entry[0] += 1
        entry[1] += units

    for call in calls:
        if call.service != "dynamodb":
            add(
                ("request", call.service, call.operation, call.params.get("Key", "") if call.service == "s3" else ""),
                0.0,
            )
            continue
        for a in call.accesses:
            if a.op in ("get", "query"):
                add(("read", a.table + (f"/{a.index}" if a.index else ""), a.pk, a.sk, a.op), a.units)
            elif a.index:
                add(("index", f"{a.table}/{a.index}", a.pk, a.op, a.transactional), a.units)
            else:
                add(("write", a.table, a.pk, a.sk, a.op, a.transactional), a.units)
    return found


def compare(traced: Traced, ops: Mapping[str, Any]) -> list[Difference]:
    """Every key on which a traced operation and its model disagree (in count or in units)."""
    differences: list[Difference] = []
    for name, calls in traced.operations.items():
        model = model_signature(ops[name])
        code = trace_signature(calls)
        for key in sorted(set(model) | set(code), key=str):
            m, c = model.get(key, [0.0, 0.0]), code.get(key, [0.0, 0.0])
            if not (math.isclose(m[0], c[0], abs_tol=1e-9) and math.isclose(m[1], c[1], abs_tol=1e-9)):
                differences.append(Difference(name, key, m[0], c[0], m[1], c[1]))
    return differences


@dataclass(frozen=True)
class MeterCheck:
    """The recorder's own units (from the item images) against what DynamoDB Local metered."""

    calls: int  # DynamoDB calls that returned their consumed capacity
    computed: float
    metered: float
    differing: tuple[str, ...]  # calls whose units differ, described


def meter_check(traced: Traced) -> MeterCheck:
    """DynamoDB Local meters a TransactWriteItems as if it were one item of all its bytes (three
    20-byte puts in one transaction meter 2.0, not 6), and a key BatchGetItem did not find or an
    empty Query as 0 (AWS documents the minimum): transactions are left out, those reads compared as 0."""
    calls, computed, metered, differing = 0, 0.0, 0.0, []
    for name, recorded in traced.operations.items():
        for call in recorded:
            if call.metered is None or call.operation == "TransactWriteItems":
                continue
            calls += 1
            mine = {}
            for access in call.accesses:
                where = access.table + (f"/{access.index}" if access.index else "")
                empty = call.operation in ("BatchGetItem", "Query") and access.size == 0
                units = 0.0 if empty else access.units
                mine[where] = mine.get(where, 0.0) + units
            computed += sum(mine.values())
            metered += sum(call.metered.values())
            for where in set(mine) | set(call.metered):
                if not math.isclose(mine.get(where, 0.0), call.metered.get(where, 0.0)):
                    differing.append(
                        f"{name} {call.operation} {where}: computed {mine.get(where, 0.0):g}, "
                        f"DynamoDB Local {call.metered.get(where, 0.0):g}"
                    )
    return MeterCheck(calls, computed, metered, tuple(differing))


def main() -> None:
    from infra.local import running

    os.environ.setdefault("SECRET_KEY", "bench-secret-key-with-at-least-32-characters")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    from bench.scale_model import operations

    with running(stage="local") as stack:
        os.environ.update(stack.environment())
        traced = run_trace()
    for difference in compare(traced, operations(lease=1, orders=0)):
        print("DIFF", difference.text)
    check = meter_check(traced)
    print(f"metered: {check.calls} calls, computed {check.computed:g}, DynamoDB Local {check.metered:g}")
    for line in check.differing:
        print("METER", line)
    for name, calls in traced.operations.items():
        print(f"== {name}")
        for call in calls:
            if call.service != "dynamodb":
                print(f"  {call.service}.{call.operation} {call.params}")
                continue
            print(f"  {call.operation}")
            for a in call.accesses:
                where = a.table + (f"/{a.index}" if a.index else "")
                flags = ("T" if a.transactional else "") + ("F" if a.failed else "")
                print(f"    {a.op:6} {where:22} {a.pk:36} {a.sk or '':44} {a.size:6} B {a.units:5} {flags}")


if __name__ == "__main__":
    main()

"""The model's key distribution run against DynamoDB Local, as fast as this machine goes.

Flows are drawn with the workload's mix (the five largest merchants at their share of the
platform, the rest as a tail of smaller ones, the largest buyer at its share of B2B) and each
flow's operations are executed step by step as the model lists them: the same tables, keys, index
entries and item sizes, the transaction as one TransactWriteItems. S3, SES and SQS calls are left
out (DynamoDB is what is checked here).

Then the write counts are read back from DynamoDB: every item carries ``w``, the number of writes
it received (``ADD w :one`` on each), and every index entry ``iw``, the writes that changed it. The
simulation tables' indexes project ``iw`` and the padding but not ``w``, so a write the model says
changes no index entry changes none here either. Summed per partition key (a Query each) they
must equal what the model predicts for the flows that ran: the ratio is 1.00 when DynamoDB holds
every write on the key the model says, and every index entry the model says is left.

Also measured: the rate reached (invoices and DynamoDB requests a second), and whether DynamoDB
Local produces transaction conflicts at all (it does not: it runs transactions one at a time, so
the conflict model is paper only).
"""

from __future__ import annotations

import itertools
import random
import secrets
import threading
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench.scale_model import (
    TOTALS_SHARDS,
    Flow,
    Operation,
    Read,
    Workload,
    Write,
    flows,
    merchants,
    operations,
)
from bench.scale_trace import item_size
from infra.resources import TABLES, Table

SIM_FLOWS = (
    "B2C invoice",
    "B2C invoice, mailed",
    "B2B invoice, mailed",
    "B2B invoice",
    "allowance",
    "cancel",
    "booklet advance",
)
PERIOD = "11412"
TOP_BUYER = "B0000001"


def _seller(rank: int) -> str:
    return f"S{rank:07d}"


# --- the plan ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    """One flow to run: which, for whom."""

    flow: Flow
    seller: str
    rank: int | None  # None: a smaller merchant
    channels: int
    buyer: str | None = None  # B2B flows


def plan(load: Workload, count: int, seed: int = 19) -> list[Planned]:
    """``count`` flows in the workload's mix, by smooth weighted round robin: every prefix of the
    plan holds each (merchant, flow) in proportion to its rate, so a short run has the full mix.
    The smaller merchants' UBNs and the buyers come from a seeded draw: the same plan every run."""
    chooser = random.Random(seed)
    found = merchants(load)
    tail = load.platform_rate - sum(m.rate for m in found)
    choices: list[tuple[float, Flow, int | None, int]] = []
    for merchant in [*found, None]:
        rate = merchant.rate if merchant else tail
        b2b = merchant.b2b_share if merchant else found[-1].b2b_share
        for flow in flows(load, b2b):
            if flow.name in SIM_FLOWS:
                rank = merchant.rank if merchant else None
                choices.append((rate * flow.per_invoice, flow, rank, merchant.channels if merchant else 1))
    total = sum(c[0] for c in choices)
    credit = [0.0] * len(choices)
    planned = []
    for _ in range(count):
        for i, choice in enumerate(choices):
            credit[i] += choice[0]
        best = max(range(len(choices)), key=credit.__getitem__)
        credit[best] -= total
        _, flow, rank, channels = choices[best]
        seller = _seller(rank) if rank else f"T{chooser.randrange(10**7):07d}"
        buyer = None
        if flow.buyer:
            buyer = TOP_BUYER if chooser.random() < load.top_buyer_share else f"B{chooser.randrange(2, 10**7):07d}"
        planned.append(Planned(flow, seller, rank, channels, buyer))
    return planned


# --- keys -------------------------------------------------------------------------------------------


@dataclass
class Values:
    """The concrete values one flow's templates take."""

    seller: str
    buyer: str
    channel: str
    number: str
    allowance: str
    idem: str
    time: str
    shard: str
    event: str  # one per flow: the number may be another flow's (the invoice a cancel changes)

    def resolve(self, template: str | None) -> str | None:
        if template is None:
            return None
        for name in ("seller", "buyer", "channel", "number", "allowance", "idem", "time"):
            template = template.replace("{" + name + "}", getattr(self, name))
        return (
            template.replace("{period}", PERIOD)
            .replace("{key_id}", f"key-{self.seller}")
            .replace("{client}", f"ip-{self.seller}-{self.channel}")
            .replace("{event}", self.event)
            .replace("{date}", self.time[:10])
            .replace("{shard}", self.shard)
            .replace("{id}", self.event)
        )


def _tables(stage: str) -> dict[str, Table]:
    return {table.suffix: table for table in TABLES if table.name(stage)}


def _index_attributes(table: Table, index: str) -> tuple[str, str]:
    found = next(i for i in table.indexes if i.name == index)
    return found.partition_key, found.sort_key


# --- executing and predicting -------------------------------------------------------------------------


@dataclass
class Counts:
    """Writes per key: the table's per partition key, and the index entries left per index key
    (their number, and the writes that changed them)."""

    table: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    index_writes: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    index_entries: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))


def predict(executed: Sequence[tuple[Planned, Values, Sequence[str]]], ops: Mapping[str, Operation]) -> Counts:
    """What the model says DynamoDB holds after ``executed`` (each flow with its values and the
    operations it ran)."""
    counts = Counts()
    # (table/index, pk, sk) -> (index pk, writes): across flows, since a cancel changes the entry
    # its invoice's issue put.
    entries: dict[tuple[str, str, str], tuple[str, int]] = {}
    for _planned, values, names in executed:
        for name in names:
            for step in ops[name].writes:
                if step.op == "check" or step.count == 0:
                    continue
                pk, sk = values.resolve(step.pk) or "", values.resolve(step.sk) or ""
                counts.table[(step.table, pk)] += 1
                for entry in step.indexes:
                    place = (f"{step.table}/{entry.index}", pk, sk)
                    index_pk = values.resolve(entry.pk) or ""
                    if entry.op == "delete":
                        entries.pop(place, None)
                    else:
                        _, writes = entries.get(place, (index_pk, 0))
                        entries[place] = (index_pk, writes + 1)
    for (where, _pk, _sk), (index_pk, writes) in entries.items():
        counts.index_writes[(where, index_pk)] += writes
        counts.index_entries[(where, index_pk)] += 1
    return counts


class Executor:
    """Runs flows' operations on the simulation tables, as the model lists them."""

    def __init__(self, client: Any, names: Mapping[str, str], ops: Mapping[str, Operation]) -> None:
        self.client = client
        self.names = names  # logical table -> simulation table name
        self.ops = ops
        self.tables = {t.suffix: t for t in TABLES}
        self.requests = 0
        self.lock = threading.Lock()
        # Invoices ready for an allowance (B2B) or a cancel (B2C), per seller: (number, buyer).
        self.issued: dict[tuple[str, bool], list[tuple[str, str]]] = defaultdict(list)
        self.executed: list[tuple[Planned, Values, Sequence[str]]] = []
        self.numbers = itertools.count(1)
        self.channel_turn: dict[str, int] = defaultdict(int)

    def _call(self, operation: str, **params: Any) -> Any:
        with self.lock:
            self.requests += 1
        return getattr(self.client, operation)(**params)

    def run(self, planned: Planned) -> bool:
        """One flow; False when it needs an invoice its seller has not issued yet (skipped)."""
        number = f"{next(self.numbers):010d}"
        with self.lock:
            turn = self.channel_turn[planned.seller]
            self.channel_turn[planned.seller] += 1
        values = Values(
            seller=planned.seller,
            buyer=planned.buyer or "",
            channel=f"pos:till-{turn % planned.channels + 1}",
            number=number,
            allowance=f"AL{number}",
            idem=f"k{number}",
            time=datetime.now(UTC).isoformat(),
            shard="0",
            event=f"evt_{number}",
        )
        if planned.flow.name in ("allowance", "cancel"):
            b2b = planned.flow.name == "allowance"
            with self.lock:
                ready = self.issued[(planned.seller, b2b)]
                if not ready:
                    return False
                values.number, buyer = ready.pop()
            values.buyer = buyer if b2b else values.buyer
        for name in planned.flow.operations:
            self._operation(self.ops[name], values)
        if planned.flow.name.startswith(("B2C invoice", "B2B invoice")):
            with self.lock:
                self.issued[(planned.seller, planned.flow.buyer)].append((values.number, values.buyer))
        with self.lock:
            self.executed.append((planned, values, planned.flow.operations))
        return True

    def _operation(self, op: Operation, values: Values) -> None:
        transaction: list[dict[str, Any]] = []
        for step in op.steps:
            if isinstance(step, Write | Read) and step.count == 0:
                continue  # in the model for other mixes (an order id), not in this one
            if isinstance(step, Read):
                self._read(step, values)
            elif isinstance(step, Write) and step.tx:
                values.shard = str(random.randrange(TOTALS_SHARDS))  # as the code picks it
                transaction.append(self._action(step, values))
            elif isinstance(step, Write):
                if transaction:
                    self._call("transact_write_items", TransactItems=transaction)
                    transaction = []
                kind, params = next(iter(self._action(step, values).items()))
                self._call({"Put": "put_item", "Update": "update_item", "Delete": "delete_item"}[kind], **params)
        if transaction:
            self._call("transact_write_items", TransactItems=transaction)

    def _key(self, table: Table, pk: str, sk: str | None) -> dict[str, Any]:
        key = {table.partition_key: {"S": pk}}
        if table.sort_key:
            key[table.sort_key] = {"S": sk or ""}
        return key

    def _read(self, step: Read, values: Values) -> None:
        table = self.tables[step.table]
        pk, sk = values.resolve(step.pk) or "", values.resolve(step.sk)
        if step.op == "get":
            self._call("get_item", TableName=self.names[step.table], Key=self._key(table, pk, sk), ConsistentRead=True)
            return
        self._call(
            "query",
            TableName=self.names[step.table],
            KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
            ExpressionAttributeValues={":pk": {"S": pk}, ":low": {"S": sk or ""}, ":high": {"S": (sk or "") + "~"}},
            ConsistentRead=step.consistent,
        )

    def _action(self, step: Write, values: Values) -> dict[str, Any]:
        """The TransactWriteItems action (or the single write's parameters) of one model write."""
        table = self.tables[step.table]
        name = self.names[step.table]
        pk, sk = values.resolve(step.pk) or "", values.resolve(step.sk)
        key = self._key(table, pk, sk)
        if step.op == "check":
            return {
                "ConditionCheck": {
                    "TableName": name,
                    "Key": key,
                    "ConditionExpression": "attribute_exists(#k) OR attribute_not_exists(#k)",
                    "ExpressionAttributeNames": {"#k": table.partition_key},
                }
            }
        sets: dict[str, dict[str, str]] = {}
        removes: list[str] = []
        changed = False
        for entry in step.indexes:
            part, sort = _index_attributes(table, entry.index)
            if entry.op == "put":
                sets[part] = {"S": values.resolve(entry.pk) or ""}
                if sort != table.sort_key:
                    sets[sort] = {"S": f"{values.time}#{values.number}"}
                changed = True
            elif entry.op == "update":
                changed = True
            else:
                removes += [part, sort]
        # The padding brings the item to the size the model gives it; it changes (a projected
        # attribute, so an index write) only where the model says an index entry changes.
        probe = {**key, **sets, "w": {"N": "10"}, "iw": {"N": "10"}}
        pad = "x" * max(1, step.size - item_size(probe) - len("pad") - 4)
        if step.op == "put":
            item = {**key, **sets, "w": {"N": "1"}, "pad": {"S": pad}}
            if changed:
                item["iw"] = {"N": "1"}
            return {"Put": {"TableName": name, "Item": item}}
        expression = "SET #pad = :pad" if changed else "SET #pad = if_not_exists(#pad, :pad)"
        attribute_values: dict[str, Any] = {":pad": {"S": pad}, ":one": {"N": "1"}}
        names: dict[str, str] = {"#pad": "pad", "#w": "w"}
        for i, (attribute, value) in enumerate(sets.items()):
            names[f"#s{i}"] = attribute
            attribute_values[f":s{i}"] = value
            expression += f", #s{i} = :s{i}"
        if changed and not removes:
            names["#iw"] = "iw"
        expression += " ADD #w :one" + (", #iw :one" if changed and not removes else "")
        if removes:
            expression += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(removes)))
            names |= {f"#r{i}": attribute for i, attribute in enumerate(removes)}
        params: dict[str, Any] = {
            "TableName": name,
            "Key": key,
            "UpdateExpression": expression,
            "ExpressionAttributeValues": attribute_values,
            "ExpressionAttributeNames": names,
        }
        return {"Update": params}


# --- the simulation tables ----------------------------------------------------------------------------


def create_tables(client: Any, tag: str) -> dict[str, str]:
    """Tables shaped as infra/resources.py's (same keys and indexes), whose ALL-projected indexes
    project only the padding and ``iw`` (so ``w`` changes no index entry)."""
    names = {}
    for table in TABLES:
        name = f"scale-sim-{tag}-{table.suffix}"
        names[table.suffix] = name
        attributes = [table.partition_key] + ([table.sort_key] if table.sort_key else [])
        for index in table.indexes:
            attributes += [index.partition_key, index.sort_key]
        request: dict[str, Any] = {
            "TableName": name,
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": a, "AttributeType": "S"} for a in dict.fromkeys(attributes)],
            "KeySchema": [{"AttributeName": table.partition_key, "KeyType": "HASH"}]
            + ([{"AttributeName": table.sort_key, "KeyType": "RANGE"}] if table.sort_key else []),
        }
        if table.indexes:
            request["GlobalSecondaryIndexes"] = [
                {
                    "IndexName": index.name,
                    "KeySchema": [
                        {"AttributeName": index.partition_key, "KeyType": "HASH"},
                        {"AttributeName": index.sort_key, "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"}
                    if index.projection == "KEYS_ONLY"
                    else {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["pad", "iw"]},
                }
                for index in table.indexes
            ]
        client.create_table(**request)
    return names


def drop_tables(client: Any, names: Mapping[str, str]) -> None:
    for name in names.values():
        client.delete_table(TableName=name)


def _sum(client: Any, **query: Any) -> tuple[int, int]:
    """(items, sum of the projected counter) over a whole Query, page after page."""
    items, total = 0, 0
    attribute = query.pop("attribute")
    paginator = client.get_paginator("query")
    names = {**query.pop("ExpressionAttributeNames", {}), "#c": attribute}
    for page in paginator.paginate(ProjectionExpression="#c", ExpressionAttributeNames=names, **query):
        for item in page.get("Items", []):
            items += 1
            total += int(item.get(attribute, {}).get("N", "0"))
    return items, total


def read_back(
    client: Any, names: Mapping[str, str], table_keys: Sequence[tuple[str, str]], index_keys: Sequence[tuple[str, str]]
) -> Counts:
    """The counters DynamoDB holds on the keys asked: Σ w per table partition key, and per index
    partition key the entries and Σ iw."""
    tables = {t.suffix: t for t in TABLES}
    found = Counts()
    for table, pk in table_keys:
        partition = tables[table].partition_key
        _, total = _sum(
            client,
            TableName=names[table],
            KeyConditionExpression="#p = :pk",
            ExpressionAttributeNames={"#p": partition},
            ExpressionAttributeValues={":pk": {"S": pk}},
            ConsistentRead=True,
            attribute="w",
        )
        found.table[(table, pk)] = total
    for where, pk in index_keys:
        table, index = where.split("/")
        partition, _ = _index_attributes(tables[table], index)
        entries, total = _sum(
            client,
            TableName=names[table],
            IndexName=index,
            KeyConditionExpression="#p = :pk",
            ExpressionAttributeNames={"#p": partition},
            ExpressionAttributeValues={":pk": {"S": pk}},
            attribute="iw",
        )
        found.index_entries[(where, pk)] = entries
        found.index_writes[(where, pk)] = total
    return found


def table_totals(client: Any, names: Mapping[str, str]) -> dict[str, int]:
    """Σ w over each whole table: every write the simulation made, as DynamoDB holds it."""
    totals = {}
    for table, name in names.items():
        total = 0
        pages = client.get_paginator("scan").paginate(
            TableName=name, ProjectionExpression="#w", ExpressionAttributeNames={"#w": "w"}
        )
        for page in pages:
            total += sum(int(item.get("w", {}).get("N", "0")) for item in page.get("Items", []))
        totals[table] = total
    return totals


# --- the run ------------------------------------------------------------------------------------------


@dataclass
class SimResult:
    threads: int
    seconds: float
    flows: int
    invoices: int
    requests: int
    ramp: list[tuple[int, float]]  # (threads, flows/s) of the short runs that chose ``threads``
    rows: list[tuple[str, str, str, int, int]]  # (kind, where, key, predicted, read back)
    totals: list[tuple[str, int, int]]  # (table, predicted, read back)
    conflicts: tuple[int, int]  # (transactions on one item from 8 threads, cancelled by a conflict)
    hot_share: tuple[float, float]  # share of invoices-table writes on merchant #1: model, run

    @property
    def invoices_per_second(self) -> float:
        return self.invoices / self.seconds

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds


def _drive(executor: Executor, planned: Sequence[Planned], threads: int, seconds: float) -> tuple[int, float]:
    """Run the plan from several threads until it is used up or ``seconds`` pass; (flows, elapsed)."""
    cursor = itertools.count()
    deadline = time.monotonic() + seconds
    done = [0] * threads

    failures: list[BaseException] = []

    def worker(slot: int) -> None:
        try:
            while time.monotonic() < deadline and not failures:
                index = next(cursor)
                if index >= len(planned):
                    return
                if executor.run(planned[index]):
                    done[slot] += 1
        except BaseException as error:  # surfaced after the join: a failed write must fail the run
            failures.append(error)

    started = time.monotonic()
    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    if failures:
        raise failures[0]
    return sum(done), time.monotonic() - started


def _conflict_probe(client: Any, names: Mapping[str, str], threads: int = 8, seconds: float = 2.0) -> tuple[int, int]:
    """Transactions from ``threads`` threads that all ADD to one item: how many DynamoDB Local
    cancels for a conflict (on AWS, ~λ·t of them would be)."""
    from botocore.exceptions import ClientError

    table = names["invoices"]
    deadline = time.monotonic() + seconds
    tried, conflicted = [0], [0]
    lock = threading.Lock()

    def worker() -> None:
        while time.monotonic() < deadline:
            unique = secrets.token_hex(6)
            try:
                client.transact_write_items(
                    TransactItems=[
                        {
                            "Update": {
                                "TableName": table,
                                "Key": {"pk": {"S": "PROBE"}, "sk": {"S": "TOTALS#hot"}},
                                "UpdateExpression": "ADD n :one",
                                "ExpressionAttributeValues": {":one": {"N": "1"}},
                            }
                        },
                        {"Put": {"TableName": table, "Item": {"pk": {"S": "PROBE"}, "sk": {"S": unique}}}},
                    ]
                )
                with lock:
                    tried[0] += 1
            except ClientError as error:
                with lock:
                    tried[0] += 1
                    if "TransactionConflict" in str(error.response):
                        conflicted[0] += 1

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return tried[0], conflicted[0]


def simulate(load: Workload, *, seconds: float = 20.0, ramp_seconds: float = 3.0) -> SimResult:
    """Against the DynamoDB Local the environment names (``infra.local.running``)."""
    from botocore.config import Config

    from chalicelib.adapters.aws import new_client
    from chalicelib.settings import get_settings

    settings = get_settings()
    config = Config(max_pool_connections=64, retries={"max_attempts": 10, "mode": "standard"})
    client = new_client("dynamodb", settings.region, settings.dynamodb_endpoint, config)
    ops = operations(lease=1, orders=0)
    tag = secrets.token_hex(3)
    names = create_tables(client, tag)
    try:
        planned = plan(load, 20_000)
        executor = Executor(client, names, ops)
        ramp = []
        offset = 0
        for threads in (2, 4, 8, 16):
            done, elapsed = _drive(executor, planned[offset:], threads, ramp_seconds)
            offset += done + 50
            ramp.append((threads, done / elapsed))
        best = max(ramp, key=lambda r: r[1])[0]
        warm = len(executor.executed)
        requests_before = executor.requests
        done, elapsed = _drive(executor, planned[offset:], best, seconds)
        requests = executor.requests - requests_before
        measured = executor.executed[warm:]
        invoices = sum(1 for p, _, _ in measured if p.flow.name.startswith(("B2C invoice", "B2B invoice")))
        predicted = predict(executor.executed, ops)
        rows, totals = _compare(client, names, predicted)
        conflicts = _conflict_probe(client, names)
        shares = _hot_share(load, executor.executed, ops)
        return SimResult(best, elapsed, done, invoices, requests, ramp, rows, totals, conflicts, shares)
    finally:
        drop_tables(client, names)


def _followed(predicted: Counts) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The keys to read back: the largest merchants', the largest buyer's, the platform-wide ones."""
    wanted = (_seller(1), _seller(2), TOP_BUYER, "OUTBOX#PENDING")
    # Per-till keys (a till's address) are many and cold: their sum is in the tables' totals.
    # Idempotency records are one per request: their sum is in the tables' totals too.
    table_keys = sorted(
        k
        for k in predicted.table
        if any(w in k[1] for w in wanted) and "RATE#ip:" not in k[1] and k[0] != "idempotency"
    )
    index_keys = sorted(
        k for k in set(predicted.index_entries) | set(predicted.index_writes) if any(w in k[1] for w in wanted)
    )
    # The sweeper's index must be empty at the end: every outbox item the model puts in it, it takes out.
    if ("invoices/gsi1", "OUTBOX#PENDING") not in index_keys:
        index_keys.append(("invoices/gsi1", "OUTBOX#PENDING"))
    return table_keys, index_keys


def _compare(
    client: Any, names: Mapping[str, str], predicted: Counts
) -> tuple[list[tuple[str, str, str, int, int]], list[tuple[str, int, int]]]:
    table_keys, index_keys = _followed(predicted)
    found = read_back(client, names, table_keys, index_keys)
    rows = [("writes", table, pk, predicted.table[(table, pk)], found.table[(table, pk)]) for table, pk in table_keys]
    for where, pk in index_keys:
        rows.append(
            ("index writes", where, pk, predicted.index_writes.get((where, pk), 0), found.index_writes[(where, pk)])
        )
        rows.append(
            ("index entries", where, pk, predicted.index_entries.get((where, pk), 0), found.index_entries[(where, pk)])
        )
    held = table_totals(client, names)
    wanted: dict[str, int] = defaultdict(int)
    for (table, _pk), count in predicted.table.items():
        wanted[table] += count
    totals = [(table, wanted[table], held[table]) for table in names]
    return rows, totals


def _hot_share(
    load: Workload, executed: Sequence[tuple[Planned, Values, Sequence[str]]], ops: Mapping[str, Operation]
) -> tuple[float, float]:
    """The largest merchant's share of the invoices table's write requests: the model's at full
    scale (the simulated flows only, one rate-limit update per request) and the simulation's."""
    from bench.scale_model import loads

    model = loads(load, ops, only=SIM_FLOWS)
    share = model.partitions[("invoices", "MERCHANT#<merchant #1>")].writes / model.tables["invoices"].writes
    counts = predict(executed, ops)
    mine = sum(c for (table, pk), c in counts.table.items() if table == "invoices" and pk == f"MERCHANT#{_seller(1)}")
    everything = sum(c for (table, _), c in counts.table.items() if table == "invoices")
    return share, mine / everything if everything else 0.0

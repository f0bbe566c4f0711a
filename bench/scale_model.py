"""The national-scale model, as data: every item and partition key each operation reads and writes.

An *operation* is one request or one outbox pass, written out as the DynamoDB accesses it makes
(``Write``, ``Read``, with the index entries each write changes) and its other AWS calls
(``Request``: S3, SES). Sizes are bytes as DynamoDB counts them (attribute names plus values),
measured by ``bench/scale_trace.py`` on the real code; that trace also checks, access by access,
that these lists are what the code sends (``python -m bench.scale`` prints any difference).

A *flow* is what one business event costs from end to end (an issued B2C invoice is the issue
request plus its outbox pass); the workload gives each flow a rate per invoice. From these the
model computes the write and read units per second on every partition key and item, the
transaction conflicts on the items several writers share, and the monthly bill.

Units (DynamoDB's metering, and DynamoDB Local's, which ``bench/scale_trace.py`` compares):
- a write costs one WCU per started KB of the larger of the item before and after, twice in a
  transaction; each index entry the write puts, changes or deletes costs the same on the index
  (twice in a transaction: DynamoDB Local meters it so; ⚠️ AWS's documentation does not say);
- a read costs one RCU per started 4 KB, half when eventually consistent, twice in a transaction;
  a Query counts the bytes of everything it returned, a missing item still costs the minimum;
- a ``ConditionCheck`` is metered like a transactional read of the item (2 per started 4 KB,
  nothing when the item is absent: DynamoDB Local's metering; ⚠️ unverified on AWS, and counted
  with the writes in the bill, the dearer reading).

Pure arithmetic, no I/O: ``tests/unit/test_scale_model.py`` checks it by hand-computed cases.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

KB = 1024
READ_UNIT = 4 * KB
PARTITION_WCU = 1_000  # per partition, per second (DynamoDB's documented limits)
PARTITION_RCU = 3_000
TABLE_ON_DEMAND_UNITS = 40_000  # default on-demand throughput quota per table, per second (⚠️ soft)
TRANSACTION_ACTIONS = 100  # TransactWriteItems' limit
ITEM_OVERHEAD = 100  # bytes DynamoDB adds to every stored item (table and each index) for storage

#: The period totals' shards (chalicelib/adapters/dynamo_totals.SHARDS; a unit test holds them equal).
TOTALS_SHARDS = 8
#: Sort keys that grow with time: DynamoDB cannot spread their writes by splitting the partition.
MONOTONIC = ("{time}", "{date}")


def write_units(size: int) -> int:
    """WCU of one standard write of an item of ``size`` bytes (at least one)."""
    return max(1, math.ceil(size / KB))


def read_units(size: int, *, consistent: bool = True, transactional: bool = False) -> float:
    """RCU of one read returning ``size`` bytes (at least the minimum, even for nothing)."""
    units = max(1, math.ceil(size / READ_UNIT))
    if transactional:
        return 2.0 * units
    return float(units) if consistent else units / 2


def check_units(size: int) -> float:
    """A transaction's ConditionCheck of an item of ``size`` bytes (0: the item is absent)."""
    return 2.0 * math.ceil(size / READ_UNIT) if size else 0.0


# --- accesses ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ix:
    """An index entry a write changes: ``op`` put (the item enters the index), update (a projected
    attribute changed), delete (it leaves); ``size`` the entry's bytes (the projection)."""

    index: str
    pk: str
    op: str
    size: int


@dataclass(frozen=True)
class Write:
    table: str  # invoices, tracks, merchants, idempotency
    pk: str  # a template: MERCHANT#{seller}, OUTBOX#PENDING ...
    sk: str | None
    op: str  # put | update | delete | check
    size: int  # the larger of the item before and after, in bytes
    tx: bool = False  # inside a TransactWriteItems
    indexes: tuple[Ix, ...] = ()
    intent: str | None = None  # the domain/writes.py intent this action is, in a transaction
    count: float = 1.0  # times per operation (e.g. 0.5: every other request)

    @property
    def units(self) -> float:
        if self.op == "check":
            return check_units(self.size)
        return write_units(self.size) * (2 if self.tx else 1)

    def index_units(self, entry: Ix) -> float:
        return write_units(entry.size) * (2 if self.tx else 1)

    @property
    def all_units(self) -> float:
        """The table's units and every index entry's, per occurrence."""
        return self.units + sum(self.index_units(entry) for entry in self.indexes)


@dataclass(frozen=True)
class Read:
    table: str
    pk: str
    sk: str | None  # the item's sort key, or a query's low end
    op: str  # get | query
    size: int  # bytes returned
    consistent: bool = True
    index: str | None = None
    count: float = 1.0

    @property
    def units(self) -> float:
        return read_units(self.size, consistent=self.consistent)


@dataclass(frozen=True)
class Request:
    """A call to another service: s3 PutObject/GetObject, ses SendRawEmail."""

    service: str
    operation: str
    size: int = 0
    key: str = ""  # an S3 key (template)
    count: float = 1.0


Step = Write | Read | Request


@dataclass(frozen=True)
class Operation:
    name: str
    what: str
    steps: tuple[Step, ...]
    function: str  # the Lambda that runs it: api (behind API Gateway) | outbox (the invoices table's stream)
    traced: bool = True  # bench/scale_trace.py runs it on the real code and compares

    @property
    def writes(self) -> list[Write]:
        return [s for s in self.steps if isinstance(s, Write)]

    @property
    def reads(self) -> list[Read]:
        return [s for s in self.steps if isinstance(s, Read)]

    @property
    def requests(self) -> list[Request]:
        return [s for s in self.steps if isinstance(s, Request)]

    @property
    def transaction(self) -> list[Write]:
        return [w for w in self.writes if w.tx]

    def wcu(self) -> float:
        return sum(w.all_units * w.count for w in self.writes)

    def rcu(self) -> float:
        return sum(r.units * r.count for r in self.reads)


# --- what each intent of domain/writes.py writes (adapters/dynamo_ledger.py) ---------------------


@dataclass(frozen=True)
class Key:
    table: str
    pk: str
    sk: str | None
    op: str  # the transaction action: put | update | check


#: One entry per intent (a unit test holds the set equal to domain/writes.Intent and each key equal
#: to the action dynamo_ledger builds). Placeholders in braces; an operation fills the ones it fixes.
INTENTS: dict[str, Key] = {
    "TakeNumber": Key("tracks", "MERCHANT#{seller}", "COUNTER#{period}#{type}#{channel}", "update"),
    "PutInvoice": Key("invoices", "MERCHANT#{seller}", "INV#{number}", "put"),
    "AddToTotals": Key("invoices", "MERCHANT#{seller}", "TOTALS#{period}#{type}#{shard}", "update"),
    "AddToPurchases": Key("invoices", "MERCHANT#{buyer}", "TOTALS#{period}#purchases#{shard}", "update"),
    "PutOutboxItem": Key("invoices", "MERCHANT#{seller}", "OUTBOX#{subject}#{outbox_event}", "put"),
    "RecordIdempotencyKey": Key("idempotency", "{seller}#{idem}", None, "put"),
    "RecordOrderId": Key("invoices", "MERCHANT#{seller}", "ORDER#{order}", "put"),
    "CancelInvoice": Key("invoices", "MERCHANT#{seller}", "INV#{number}", "update"),
    "ReplaceInvoice": Key("invoices", "MERCHANT#{seller}", "INV#{number}", "update"),
    "AppendHistory": Key("invoices", "MERCHANT#{seller}", "INV#{number}", "update"),
    "PutAllowance": Key("invoices", "MERCHANT#{seller}", "ALW#{allowance}", "put"),
    "ReduceAllowable": Key("invoices", "MERCHANT#{seller}", "INV#{number}", "update"),
    "RestoreAllowable": Key("invoices", "MERCHANT#{seller}", "INV#{number}", "update"),
    "AdjustAllowable": Key("invoices", "MERCHANT#{seller}", "INV#{number}", "update"),
    "ReplaceAllowance": Key("invoices", "MERCHANT#{seller}", "ALW#{allowance}", "put"),
    "CancelAllowance": Key("invoices", "MERCHANT#{seller}", "ALW#{allowance}", "update"),
    "RequireUnfiled": Key("invoices", "MERCHANT#{seller}", "FILING#{period}", "check"),
    "PutWinner": Key("invoices", "MERCHANT#{seller}", "WIN#{period}#{number}", "put"),
    "MarkPrizeDelivered": Key("invoices", "MERCHANT#{seller}", "WIN#{period}#{number}", "update"),
}


#: Intents of the write seam the model does not size yet, each with why: a unit test holds these and
#: INTENTS together equal to domain/writes.Intent, so a new intent still cannot be missed silently.
#: They landed after the model was drawn (2026-12-08); all are rare beside issuing (a B2B exchange is
#: a share of B2B invoices, lottery corrections happen once per draw at most), so the hot partitions
#: and the cost per invoice do not move much without them. Sizing them is the next step.
NOT_YET_MODELLED: dict[str, str] = {
    "ChangeExchange": "B2B exchange answers (A0102-A0302): one update of the invoice per answer",
    "PutExchangeTask": "B2B exchange to-do entries: one per party per open exchange",
    "DropExchangeTask": "B2B exchange to-do entries dropped when settled",
    "ReserveAllowable": "allowances by exchange (B0101): reserve on the invoice until confirmed",
    "ChangeExchangeAllowance": "allowances by exchange: the counterpart's answer (B0102-B0202)",
    "WithdrawWinner": "lottery corrections: once per corrected draw",
    "ReviseWinner": "lottery corrections: once per corrected draw",
    "PutWinningNumbers": "a period's winning numbers: once per draw",
}


def fill(template: str | None, values: Mapping[str, str]) -> str | None:
    if template is None:
        return None
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def tx(intent: str, size: int, *indexes: Ix, count: float = 1.0, **values: str) -> Write:
    """One intent's action in the operation's transaction."""
    key = INTENTS[intent]
    defaults = {"type": "07"}
    filled = {**defaults, **values}
    return Write(
        key.table,
        fill(key.pk, filled) or "",
        fill(key.sk, filled),
        key.op,
        size,
        tx=True,
        indexes=indexes,
        intent=intent,
        count=count,
    )


def w(table: str, pk: str, sk: str | None, op: str, size: int, *indexes: Ix, count: float = 1.0) -> Write:
    return Write(table, pk, sk, op, size, indexes=indexes, count=count)


def get(table: str, pk: str, sk: str | None, size: int, *, consistent: bool = True, count: float = 1.0) -> Read:
    return Read(table, pk, sk, "get", size, consistent=consistent, count=count)


def query(table: str, pk: str, sk: str | None, size: int, *, consistent: bool = True, index: str | None = None) -> Read:
    return Read(table, pk, sk, "query", size, consistent=consistent, index=index)


def s3_put(key: str, size: int) -> Request:
    return Request("s3", "PutObject", size, key)


def mail(size: int) -> Request:
    return Request("ses", "SendRawEmail", size)


# --- item sizes, bytes (bench/scale_trace.py measured them on the real code) -------------------------

RATE_IP, RATE_ISSUE, RATE_KEY = 56, 74, 76  # rate-limit items (client IP, issue, api-key policies)
API_KEY = 210
PROFILE = 293
COUNTER = 270  # a channel's counter with a short booklet queue (each queued booklet adds ~14 B)
IDEMPOTENCY = 153
# A B2C invoice of two lines on a mobile-barcode carrier; what the outbox adds (artifact keys,
# delivery results) makes it 1,348. B2B: two lines, buyer UBN and e-mail. ~80 B more per line.
INVOICE_B2C, INVOICE_B2C_DONE = 1124, 1348
INVOICE_B2B, INVOICE_B2B_DONE = 1205, 1537
INVOICE_ALLOWED = 1690  # the B2B invoice once an allowance took from it (history entry, counters)
INVOICE_CANCELLED = 1603
INVOICE_NUMBER_ENTRY, OUTBOX_NUMBER_ENTRY = 59, 69  # gsi_number (KEYS_ONLY) entries
TOTALS, PURCHASES = 192, 96  # a totals shard; a buyer's purchases shard
OUTBOX_PUT, OUTBOX_B2C, OUTBOX_B2B = 294, 504, 638  # an outbox item when written / when finished
EVENT_B2C, EVENT_B2B, EVENT_ALLOWANCE, EVENT_CANCEL, EVENT_FILING = 1799, 1831, 1594, 1903, 725
ALLOWANCE, ALLOWANCE_DONE = 872, 1153
OUTBOX_ALLOWANCE_PUT, OUTBOX_ALLOWANCE = 344, 648
OUTBOX_CANCEL_PUT, OUTBOX_CANCEL = 309, 525
ALLOWANCE_SEQ = 45
# S3 objects: the F0401 XML and the two PDFs (proof 5.7 cm, A4), with the CJK font subset embedded.
XML_F0401, PROOF_PDF, A4_PDF = 1279, 19023, 41278
XML_G0401, ALLOWANCE_PDF, XML_F0501 = 882, 34727, 367
MAIL_B2B, MAIL_ALLOWANCE = 56680, 48773  # raw MIME with the PDF attached
FILING_HEAD, FILING_VERSION, FILING_JSON, FILING_PDF, FILING_OUTBOX = 127, 616, 5547, 41728, 468

ARTIFACTS = "merchants/{seller}/invoices/{period}/{number}/"
ALLOWANCE_ARTIFACTS = "merchants/{seller}/allowances/{period}/{allowance}/"


# --- the operations ---------------------------------------------------------------------------------


def api_request(policy: str, lease: float) -> tuple[Step, ...]:
    """What every API-key request costs before its use case: the client-IP limit, the key's
    look-up, the key's limit (``policy``). A limit is asked of DynamoDB once per lease of
    ``lease`` requests (services/rate_limiter.py)."""
    size = RATE_ISSUE if policy == "issue" else RATE_KEY
    return (
        w("merchants", "RATE#ip:{client}", "GCRA#client-ip", "update", RATE_IP, count=1 / lease),
        get("merchants", "APIKEY#{key_id}", "APIKEY", API_KEY),
        w("merchants", "RATE#MERCHANT#{seller}#key:{key_id}", f"GCRA#{policy}", "update", size, count=1 / lease),
    )


ORDER_RECORD = 130  # ORDER#<order id>: the invoice it made and the request's hash


def _issue(b2b: bool, lease: float, orders: float) -> Operation:
    """``orders``: the share of issues that send an ``order_id`` (its record is written in the
    transaction)."""
    invoice = INVOICE_B2B if b2b else INVOICE_B2C
    buyer_index = (Ix("gsi2", "BUYER#{buyer}", "put", invoice),) if b2b else ()
    steps: list[Step] = [
        *api_request("issue", lease),
        # No read: a warm container remembers the profile (5 s) and the counter (checked by the
        # transaction), and a repeated Idempotency-Key or order id is refused by its record's
        # condition (services/issuing_cache.py). A cold or aged-out read is once per 5 s per
        # container and merchant, which the model leaves out.
        tx("TakeNumber", COUNTER, channel="{channel}"),
        tx(
            "PutInvoice",
            invoice,
            Ix("gsi1", "MERCHANT#{seller}", "put", invoice),
            *buyer_index,
            Ix("gsi_number", "{number}", "put", INVOICE_NUMBER_ENTRY),
        ),
        tx("AddToTotals", TOTALS),
        *([tx("AddToPurchases", PURCHASES)] if b2b else []),
        tx(
            "PutOutboxItem",
            OUTBOX_PUT,
            Ix("gsi1", "OUTBOX#PENDING", "put", OUTBOX_PUT),
            Ix("gsi_number", "{number}", "put", OUTBOX_NUMBER_ENTRY),
            subject="{number}",
            outbox_event="issued",
        ),
        tx("RecordIdempotencyKey", IDEMPOTENCY),
        tx("RecordOrderId", ORDER_RECORD, count=orders),
    ]
    kind = "B2B (buyer UBN, e-mail)" if b2b else "B2C (mobile barcode carrier)"
    return Operation(
        f"issue_{'b2b' if b2b else 'b2c'}",
        f"POST /v1/invoices, {kind}, with an Idempotency-Key, from a till's API key",
        tuple(steps),
        "api",
    )


def _invoice_publish(invoice: int, indexes: Sequence[str], changed: bool = True) -> tuple[Write, Write]:
    """Showing on the invoice what the outbox item holds (merge_fields): one update making sure the
    maps exist (nothing changes: no index write), one setting the keys."""
    entries = tuple(Ix(name, pk, "update", invoice) for name, pk in _INVOICE_INDEXES.items() if name in indexes)
    return (
        w("invoices", "MERCHANT#{seller}", "INV#{number}", "update", invoice),
        w("invoices", "MERCHANT#{seller}", "INV#{number}", "update", invoice, *(entries if changed else ())),
    )


_INVOICE_INDEXES = {"gsi1": "MERCHANT#{seller}", "gsi2": "BUYER#{buyer}"}


def _outbox_move(sk: str, size: int) -> Write:
    """A step's state on the outbox item; while pending the item is in gsi1 (ALL), so every change
    is an index write too."""
    return w("invoices", "MERCHANT#{seller}", sk, "update", size, Ix("gsi1", "OUTBOX#PENDING", "update", size))


def _events(event_size: int) -> tuple[Step, ...]:
    """The item's event stored (and listed in its own gsi1 partition), the webhooks asked, marked published."""
    return (
        w(
            "invoices",
            "MERCHANT#{seller}",
            "EVENT#{event}",
            "put",
            event_size,
            Ix("gsi1", "EVENTS#{seller}", "put", event_size),
        ),
        query("invoices", "MERCHANT#{seller}", "WEBHOOK#", 0),
        w(
            "invoices",
            "MERCHANT#{seller}",
            "EVENT#{event}",
            "update",
            event_size,
            Ix("gsi1", "EVENTS#{seller}", "update", event_size),
        ),
    )


def _finish(sk: str, size: int) -> Write:
    """Done: the item leaves the sweeper's sparse OUTBOX#PENDING index."""
    return w("invoices", "MERCHANT#{seller}", sk, "update", size, Ix("gsi1", "OUTBOX#PENDING", "delete", size))


def _invoice_outbox(
    name: str,
    what: str,
    event: str,
    documents: Sequence[tuple[str, int]],
    *,
    b2b: bool,
    mailed: bool,
    invoice: int,
    outbox: int,
    event_size: int,
    shown: Sequence[str] = (),
    traced: bool = True,
) -> Operation:
    """services/outbox_invoice.py: each document step stores its object, moves the step, shows it
    on the invoice; the mail step claims a lease, sends, moves; then the invoice is shown once more.
    ``shown``: documents whose key the invoice lists already (a cancel re-renders the PDFs under
    the same keys), so showing them changes nothing and writes no index entry."""
    sk = f"OUTBOX#{{number}}#{event}"
    indexes = ("gsi1", "gsi2") if b2b else ("gsi1",)
    steps: list[Step] = [
        get("invoices", "MERCHANT#{seller}", sk, OUTBOX_PUT),
        get("invoices", "MERCHANT#{seller}", "INV#{number}", invoice),
        *_events(event_size),
    ]
    for file_name, size in documents:
        steps += [
            s3_put(ARTIFACTS + file_name, size),
            _outbox_move(sk, outbox),
            *_invoice_publish(invoice, indexes, changed=file_name not in shown),
        ]
    if mailed:
        steps += [
            get("merchants", "MERCHANT#{seller}", "PROFILE", PROFILE),
            _outbox_move(sk, outbox),  # the lease
            mail(MAIL_B2B),
            _outbox_move(sk, outbox),
            *_invoice_publish(invoice, indexes),
        ]
    steps += [*_invoice_publish(invoice, indexes, changed=False), _finish(sk, outbox)]
    return Operation(name, what, tuple(steps), "outbox", traced)


INVOICE_DOCUMENTS = (("F0401.xml", XML_F0401), ("proof.pdf", PROOF_PDF), ("a4.pdf", A4_PDF))


def _allowance(lease: float) -> Operation:
    steps: tuple[Step, ...] = (
        *api_request("issue", lease),
        query("merchants", "CALENDAR", "DAY#", 0),
        get("idempotency", "{seller}#allowance#{idem}", None, 0),
        get("merchants", "MERCHANT#{seller}", "PROFILE", PROFILE),
        get("invoices", "MERCHANT#{seller}", "INV#{number}", INVOICE_B2B_DONE),
        w("invoices", "MERCHANT#{seller}", "ALWSEQ#{period}", "update", ALLOWANCE_SEQ),
        tx(
            "PutAllowance",
            ALLOWANCE,
            Ix("gsi1", "ALLOWANCES#{seller}", "put", ALLOWANCE),
            Ix("gsi2", "ALLOWANCES_TO#{buyer}", "put", ALLOWANCE),
        ),
        tx(
            "PutOutboxItem",
            OUTBOX_ALLOWANCE_PUT,
            Ix("gsi1", "OUTBOX#PENDING", "put", OUTBOX_ALLOWANCE_PUT),
            Ix("gsi_number", "{allowance}", "put", 89),
            subject="{allowance}",
            outbox_event="allowance_issued",
        ),
        tx("AddToTotals", 244),
        tx("AddToPurchases", 125),
        tx(
            "ReduceAllowable",
            INVOICE_ALLOWED,
            Ix("gsi1", "MERCHANT#{seller}", "update", INVOICE_ALLOWED),
            Ix("gsi2", "BUYER#{buyer}", "update", INVOICE_ALLOWED),
        ),
        tx("RecordIdempotencyKey", 162, idem="allowance#{idem}"),
    )
    return Operation(
        "allowance", "POST /v1/allowances on one B2B invoice (G0401), with an Idempotency-Key", steps, "api"
    )


def _allowance_publish(size: int, changed: bool = True, before: int | None = None) -> tuple[Step, ...]:
    """Showing on the allowance what its outbox item holds: read it, make sure the maps exist,
    set the keys (``before``: its size until then, when this step makes it grow)."""
    entries = (Ix("gsi1", "ALLOWANCES#{seller}", "update", size), Ix("gsi2", "ALLOWANCES_TO#{buyer}", "update", size))
    first = before if before is not None else size
    return (
        get("invoices", "MERCHANT#{seller}", "ALW#{allowance}", first),
        w("invoices", "MERCHANT#{seller}", "ALW#{allowance}", "update", first),
        w("invoices", "MERCHANT#{seller}", "ALW#{allowance}", "update", size, *(entries if changed else ())),
    )


def _outbox_allowance() -> Operation:
    sk = "OUTBOX#{allowance}#allowance_issued"
    size = OUTBOX_ALLOWANCE
    steps: tuple[Step, ...] = (
        get("invoices", "MERCHANT#{seller}", sk, OUTBOX_ALLOWANCE_PUT),
        get("invoices", "MERCHANT#{seller}", "ALW#{allowance}", ALLOWANCE),
        *_events(EVENT_ALLOWANCE),
        s3_put(ALLOWANCE_ARTIFACTS + "G0401.xml", XML_G0401),
        _outbox_move(sk, size),
        *_allowance_publish(ALLOWANCE),
        get("invoices", "MERCHANT#{seller}", "ALW#{allowance}", ALLOWANCE),
        s3_put(ALLOWANCE_ARTIFACTS + "allowance.pdf", ALLOWANCE_PDF),
        get("invoices", "MERCHANT#{seller}", "ALW#{allowance}", ALLOWANCE),
        _outbox_move(sk, size),
        *_allowance_publish(ALLOWANCE),
        get("merchants", "MERCHANT#{seller}", "PROFILE", PROFILE),
        _outbox_move(sk, size),
        mail(MAIL_ALLOWANCE),
        _outbox_move(sk, size),
        *_allowance_publish(ALLOWANCE_DONE, before=1022),
        *_allowance_publish(ALLOWANCE_DONE, changed=False),
        # The original invoice's PDFs again, now showing what was allowed.
        get("invoices", "MERCHANT#{seller}", "INV#{number}", INVOICE_ALLOWED),
        s3_put(ARTIFACTS + "proof.pdf", PROOF_PDF),
        s3_put(ARTIFACTS + "a4.pdf", A4_PDF),
        get("invoices", "MERCHANT#{seller}", "INV#{number}", INVOICE_ALLOWED),
        _finish(sk, size),
    )
    return Operation(
        "outbox_allowance", "the allowance's outbox pass: G0401, PDF, mail, the invoice's PDFs again", steps, "outbox"
    )


def _cancel(lease: float) -> Operation:
    steps: tuple[Step, ...] = (
        *api_request("issue", lease),
        query("merchants", "CALENDAR", "DAY#", 0),
        get("invoices", "MERCHANT#{seller}", "INV#{number}", INVOICE_B2C_DONE),
        get("invoices", "MERCHANT#{seller}", "FILING#{period}", 0),
        get("merchants", "MERCHANT#{seller}", "PROFILE", PROFILE),
        tx("CancelInvoice", INVOICE_CANCELLED - 64, Ix("gsi1", "MERCHANT#{seller}", "update", INVOICE_CANCELLED - 64)),
        tx("AddToTotals", TOTALS),
        tx("RequireUnfiled", 0),
        tx(
            "PutOutboxItem",
            OUTBOX_CANCEL_PUT,
            Ix("gsi1", "OUTBOX#PENDING", "put", OUTBOX_CANCEL_PUT),
            Ix("gsi_number", "{number}", "put", 72),
            subject="{number}",
            outbox_event="cancelled",
        ),
    )
    return Operation("cancel", "POST /v1/invoices/{number}/cancel of a B2C invoice (作廢, F0501)", steps, "api")


def _filing() -> Operation:
    """The 401 return filed (adapters/dynamo_filings.submit) from the merchant's API key: version,
    head, a guard on every totals shard (3 groups × TOTALS_SHARDS ConditionChecks: 3 × 32 + 3 = 99
    ≤ 100 actions is the most shards the guard allows), the event's outbox item."""
    guards = tuple(
        Write("invoices", "MERCHANT#{seller}", f"TOTALS#{{period}}#{group}#{{shard}}", "check", size, tx=True)
        for group, size in (("07", TOTALS), ("08", 0), ("purchases", 0))
        for _ in range(TOTALS_SHARDS)
    )
    steps: tuple[Step, ...] = (
        w("merchants", "RATE#ip:{client}", "GCRA#client-ip", "update", RATE_IP),
        get("merchants", "APIKEY#{key_id}", "APIKEY", API_KEY),
        w("merchants", "RATE#MERCHANT#{seller}#key:{key_id}", "GCRA#api-key", "update", RATE_KEY),
        get("merchants", "MERCHANT#{seller}", "PROFILE", PROFILE),
        query("merchants", "CALENDAR", "DAY#", 0),
        query("invoices", "MERCHANT#{seller}", "TOTALS#{period}#", 698),
        get("invoices", "MERCHANT#{seller}", "FILING#{period}", 0),
        get("invoices", "MERCHANT#{seller}", "FILING#{previous}", 0),
        s3_put("merchants/{seller}/filings/{period}/v001/return.json", FILING_JSON),
        s3_put("merchants/{seller}/filings/{period}/v001/return.pdf", FILING_PDF),
        Write("invoices", "MERCHANT#{seller}", "FILINGV#{period}#001", "put", FILING_VERSION, tx=True),
        Write("invoices", "MERCHANT#{seller}", "FILING#{period}", "update", FILING_HEAD, tx=True),
        *guards,
        Write(
            "invoices",
            "MERCHANT#{seller}",
            "OUTBOX#{filing}#event:filing.submitted",
            "put",
            FILING_OUTBOX,
            tx=True,
            indexes=(Ix("gsi1", "OUTBOX#PENDING", "put", FILING_OUTBOX), Ix("gsi_number", "{filing}", "put", 83)),
        ),
        w("merchants", "MERCHANT#{seller}", "AUDIT#{time}#{id}", "put", 185),
        # The answer: the filed return read back.
        query("invoices", "MERCHANT#{seller}", "TOTALS#{period}#", 698),
        get("invoices", "MERCHANT#{seller}", "FILING#{period}", FILING_HEAD),
        get("invoices", "MERCHANT#{seller}", "FILING#{previous}", 0),
        query("invoices", "MERCHANT#{seller}", "FILINGV#{period}#", FILING_VERSION, consistent=False),
        get("invoices", "MERCHANT#{seller}", "FILINGV#{period}#001", FILING_VERSION),
        get("merchants", "MERCHANT#{seller}", "PROFILE", PROFILE),
        query("tracks", "MERCHANT#{seller}", "RANGE#", 252, consistent=False),
    )
    return Operation("filing", "POST /v1/filings/{period}/submit: the period's 401 return", steps, "api")


def _event_outbox(name: str, what: str, sk: str, size: int, event_size: int, traced: bool = True) -> Operation:
    """An item that carries only an event (event:<type>): the event, then done."""
    steps: tuple[Step, ...] = (
        get("invoices", "MERCHANT#{seller}", sk, size),
        *_events(event_size),
        _outbox_move(sk, size + 37),
        _finish(sk, size + 37),
    )
    return Operation(name, what, steps, "outbox", traced)


# --- operations read from the code but not traced (each well under 0.1% of the load) -----------------


def _void(lease: float) -> Operation:
    steps: tuple[Step, ...] = (
        *api_request("issue", lease),
        get("invoices", "MERCHANT#{seller}", "INV#{number}", INVOICE_B2C_DONE),
        get("merchants", "MERCHANT#{seller}", "PROFILE", PROFILE),
        tx("ReplaceInvoice", INVOICE_B2C_DONE + 250, Ix("gsi1", "MERCHANT#{seller}", "update", INVOICE_B2C_DONE + 250)),
        tx("AddToTotals", TOTALS),
        tx(
            "PutOutboxItem",
            OUTBOX_PUT,
            Ix("gsi1", "OUTBOX#PENDING", "put", OUTBOX_PUT),
            Ix("gsi_number", "{number}", "put", 68),
            subject="{number}",
            outbox_event="voided",
        ),
    )
    return Operation(
        "void", "POST /v1/invoices/{number}/void: void and re-issue (註銷重開) a B2C invoice", steps, "api", False
    )


def _notify(lease: float) -> Operation:
    steps: tuple[Step, ...] = (
        *api_request("issue", lease),
        get("invoices", "MERCHANT#{seller}", "INV#{number}", INVOICE_B2C_DONE),
        tx("AppendHistory", INVOICE_B2C_DONE + 120, Ix("gsi1", "MERCHANT#{seller}", "update", INVOICE_B2C_DONE + 120)),
        tx(
            "PutOutboxItem",
            OUTBOX_PUT,
            Ix("gsi1", "OUTBOX#PENDING", "put", OUTBOX_PUT),
            Ix("gsi_number", "{number}", "put", 80),
            subject="{number}",
            outbox_event="notify-{time}",
        ),
    )
    return Operation("notify", "POST /v1/invoices/{number}/notify: the buyer's mail again", steps, "api", False)


def _notify_outbox() -> Operation:
    sk = "OUTBOX#{number}#notify-{time}"
    steps: tuple[Step, ...] = (
        get("invoices", "MERCHANT#{seller}", sk, OUTBOX_PUT),
        get("invoices", "MERCHANT#{seller}", "INV#{number}", INVOICE_B2C_DONE),
        get("merchants", "MERCHANT#{seller}", "PROFILE", PROFILE),
        Request("s3", "GetObject", PROOF_PDF),
        _outbox_move(sk, OUTBOX_B2C),
        mail(MAIL_B2B - A4_PDF + PROOF_PDF),
        _outbox_move(sk, OUTBOX_B2C),
        *_invoice_publish(INVOICE_B2C_DONE, ("gsi1",)),
        *_invoice_publish(INVOICE_B2C_DONE, ("gsi1",), changed=False),
        _finish(sk, OUTBOX_B2C),
    )
    return Operation("outbox_notify", "the re-send's outbox pass: the stored PDF, one mail", steps, "outbox", False)


def _allowance_change(name: str, what: str, intents: Sequence[Write], event: str, lease: float) -> Operation:
    steps: tuple[Step, ...] = (
        *api_request("issue", lease),
        query("merchants", "CALENDAR", "DAY#", 0),
        get("invoices", "MERCHANT#{seller}", "ALW#{allowance}", ALLOWANCE_DONE),
        get("merchants", "MERCHANT#{seller}", "PROFILE", PROFILE),
        *intents,
        tx(
            "PutOutboxItem",
            OUTBOX_ALLOWANCE_PUT,
            Ix("gsi1", "OUTBOX#PENDING", "put", OUTBOX_ALLOWANCE_PUT),
            Ix("gsi_number", "{allowance}", "put", 92),
            subject="{allowance}",
            outbox_event=event,
        ),
        tx("AddToTotals", 244),
        tx("AddToPurchases", 125),
    )
    return Operation(name, what, steps, "api", False)


def _allowance_cancel(lease: float) -> Operation:
    alw = (
        Ix("gsi1", "ALLOWANCES#{seller}", "update", ALLOWANCE_DONE + 90),
        Ix("gsi2", "ALLOWANCES_TO#{buyer}", "update", ALLOWANCE_DONE + 90),
    )
    inv = (
        Ix("gsi1", "MERCHANT#{seller}", "update", INVOICE_ALLOWED + 110),
        Ix("gsi2", "BUYER#{buyer}", "update", INVOICE_ALLOWED + 110),
    )
    intents = (tx("CancelAllowance", ALLOWANCE_DONE + 90, *alw), tx("RestoreAllowable", INVOICE_ALLOWED + 110, *inv))
    return _allowance_change(
        "allowance_cancel", "POST /v1/allowances/{allowance}/cancel (G0501)", intents, "allowance_cancelled", lease
    )


def _allowance_void(lease: float) -> Operation:
    alw = (
        Ix("gsi1", "ALLOWANCES#{seller}", "update", ALLOWANCE_DONE + 150),
        Ix("gsi2", "ALLOWANCES_TO#{buyer}", "update", ALLOWANCE_DONE + 150),
    )
    inv = (
        Ix("gsi1", "MERCHANT#{seller}", "update", INVOICE_ALLOWED + 110),
        Ix("gsi2", "BUYER#{buyer}", "update", INVOICE_ALLOWED + 110),
    )
    intents = (
        tx("ReplaceAllowance", ALLOWANCE_DONE + 150, *alw),
        tx("AdjustAllowable", INVOICE_ALLOWED + 110, *inv),
        tx("RequireUnfiled", 0),
    )
    return _allowance_change(
        "allowance_void",
        "POST /v1/allowances/{allowance}/void (註銷重開, G0701 + G0401)",
        intents,
        "allowance_voided",
        lease,
    )


def _allowance_change_outbox(name: str, what: str, event: str, xml: str, xml_size: int) -> Operation:
    sk = f"OUTBOX#{{allowance}}#{event}"
    steps: tuple[Step, ...] = (
        get("invoices", "MERCHANT#{seller}", sk, OUTBOX_ALLOWANCE_PUT),
        get("invoices", "MERCHANT#{seller}", "ALW#{allowance}", ALLOWANCE_DONE),
        *_events(EVENT_ALLOWANCE),
        s3_put(ALLOWANCE_ARTIFACTS + xml, xml_size),
        _outbox_move(sk, OUTBOX_ALLOWANCE),
        *_allowance_publish(ALLOWANCE_DONE),
        s3_put(ALLOWANCE_ARTIFACTS + "allowance.pdf", ALLOWANCE_PDF),
        _outbox_move(sk, OUTBOX_ALLOWANCE),
        *_allowance_publish(ALLOWANCE_DONE),
        get("merchants", "MERCHANT#{seller}", "PROFILE", PROFILE),
        _outbox_move(sk, OUTBOX_ALLOWANCE),
        mail(MAIL_ALLOWANCE),
        _outbox_move(sk, OUTBOX_ALLOWANCE),
        *_allowance_publish(ALLOWANCE_DONE),
        get("invoices", "MERCHANT#{seller}", "INV#{number}", INVOICE_ALLOWED),
        s3_put(ARTIFACTS + "proof.pdf", PROOF_PDF),
        s3_put(ARTIFACTS + "a4.pdf", A4_PDF),
        _finish(sk, OUTBOX_ALLOWANCE),
    )
    return Operation(name, what, steps, "outbox", False)


def _winner() -> Operation:
    """A winning invoice loaded from the MOF's list (E0504) with its event item; staff load them in
    bulk after each draw (services/lottery.py)."""
    steps: tuple[Step, ...] = (
        get("invoices", "MERCHANT#{seller}", "INV#{number}", INVOICE_B2C_DONE),
        tx("PutWinner", 420, Ix("gsi_number", "{number}", "put", 70)),
        tx(
            "PutOutboxItem",
            OUTBOX_PUT,
            Ix("gsi1", "OUTBOX#PENDING", "put", OUTBOX_PUT),
            Ix("gsi_number", "{number}", "put", 74),
            subject="{number}",
            outbox_event="lottery_won",
        ),
    )
    return Operation(
        "winner", "a winner of the period's lottery recorded (PutWinner + its outbox item)", steps, "api", False
    )


def _prize_delivered(lease: float) -> Operation:
    steps: tuple[Step, ...] = (
        *api_request("issue", lease),
        get("invoices", "MERCHANT#{seller}", "WIN#{period}#{number}", 420),
        tx("MarkPrizeDelivered", 520),
        tx("AppendHistory", INVOICE_B2C_DONE + 120, Ix("gsi1", "MERCHANT#{seller}", "update", INVOICE_B2C_DONE + 120)),
    )
    return Operation(
        "prize_delivered", "a winning proof handed over (MarkPrizeDelivered + history)", steps, "api", False
    )


def _advance() -> Operation:
    """A channel's booklet used up: the counter moves to its next queued booklet (once per 50)."""
    steps: tuple[Step, ...] = (w("tracks", "MERCHANT#{seller}", "COUNTER#{period}#07#{channel}", "update", COUNTER),)
    return Operation("advance", "a channel's counter moved to its next booklet (every 50 numbers)", steps, "api", False)


def operations(lease: float = 2.0, orders: float = 0.1) -> dict[str, Operation]:
    """Every operation of the model. ``lease``: requests per rate-limit update (the trace runs one
    request at a time, where every lease is of one); ``orders``: the share of issues with an
    ``order_id`` (the trace sends none)."""
    ops = [
        _issue(False, lease, orders),
        _invoice_outbox(
            "outbox_issued_b2c",
            "the B2C invoice's outbox pass: F0401, proof and A4 PDFs, no mail",
            "issued",
            INVOICE_DOCUMENTS,
            b2b=False,
            mailed=False,
            invoice=INVOICE_B2C_DONE,
            outbox=OUTBOX_B2C,
            event_size=EVENT_B2C,
        ),
        _invoice_outbox(
            "outbox_issued_b2c_mail",
            "the same with the buyer's mail (the proof PDF attached)",
            "issued",
            INVOICE_DOCUMENTS,
            b2b=False,
            mailed=True,
            invoice=INVOICE_B2C_DONE,
            outbox=OUTBOX_B2B,
            event_size=EVENT_B2C,
            traced=False,
        ),
        _issue(True, lease, orders),
        _invoice_outbox(
            "outbox_issued_b2b",
            "the B2B invoice's outbox pass: F0401, PDFs, the buyer's mail (A4 PDF attached)",
            "issued",
            INVOICE_DOCUMENTS,
            b2b=True,
            mailed=True,
            invoice=INVOICE_B2B_DONE,
            outbox=OUTBOX_B2B,
            event_size=EVENT_B2B,
        ),
        _invoice_outbox(
            "outbox_issued_b2b_nomail",
            "the same without a buyer's e-mail address",
            "issued",
            INVOICE_DOCUMENTS,
            b2b=True,
            mailed=False,
            invoice=INVOICE_B2B_DONE,
            outbox=OUTBOX_B2C,
            event_size=EVENT_B2B,
            traced=False,
        ),
        _allowance(lease),
        _outbox_allowance(),
        _cancel(lease),
        _invoice_outbox(
            "outbox_cancelled",
            "the cancel's outbox pass: F0501, both PDFs again (marked 作廢)",
            "cancelled",
            (("F0501.xml", XML_F0501), ("proof.pdf", PROOF_PDF), ("a4.pdf", A4_PDF)),
            b2b=False,
            mailed=False,
            invoice=INVOICE_CANCELLED,
            outbox=OUTBOX_CANCEL,
            event_size=EVENT_CANCEL,
            shown=("proof.pdf", "a4.pdf"),
        ),
        _filing(),
        _event_outbox(
            "outbox_filing",
            "the filing's event item (filing.submitted)",
            "OUTBOX#{filing}#event:filing.submitted",
            FILING_OUTBOX,
            EVENT_FILING,
        ),
        _void(lease),
        _invoice_outbox(
            "outbox_voided",
            "the void's outbox pass: F0701, F0401, both PDFs",
            "voided",
            (("F0701.xml", 420), *INVOICE_DOCUMENTS),
            b2b=False,
            mailed=False,
            invoice=INVOICE_B2C_DONE + 250,
            outbox=OUTBOX_B2C + 70,
            event_size=EVENT_CANCEL,
            shown=("F0401.xml", "proof.pdf", "a4.pdf"),
            traced=False,
        ),
        _notify(lease),
        _notify_outbox(),
        _allowance_cancel(lease),
        _allowance_change_outbox(
            "outbox_allowance_cancelled",
            "the allowance cancel's pass: G0501, PDF, mail",
            "allowance_cancelled",
            "G0501.xml",
            360,
        ),
        _allowance_void(lease),
        _allowance_change_outbox(
            "outbox_allowance_voided",
            "the allowance void's pass: G0701 + G0401, PDF, mail",
            "allowance_voided",
            "G0701.xml",
            400,
        ),
        _winner(),
        _event_outbox(
            "outbox_winner",
            "the winner's event item (invoice.won)",
            "OUTBOX#{number}#lottery_won",
            OUTBOX_PUT,
            900,
            traced=False,
        ),
        _prize_delivered(lease),
        _advance(),
    ]
    return {op.name: op for op in ops}


# --- the workload ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """The load, stated. Rates are per second at the peak hour unless named otherwise."""

    platform_rate: float = 1_000.0  # invoices/s platform-wide at the peak hour
    average_rate: float = 250.0  # invoices/s averaged over the year (7.9 billion a year)
    largest_rate: float = 200.0  # the largest chain at its peak (4 million a day)
    largest_channels: int = 6_000  # its tills: one channel each
    merchants: int = 400_000  # merchants issuing e-invoices (⚠️ assumption)
    # Other chains' tills issue as the largest's do: channels = rate ÷ this (at least 1).
    till_rate: float = 200.0 / 6_000
    b2b_share: float = 0.10  # of all invoices, to a buyer UBN (⚠️)
    largest_b2b_share: float = 0.05  # of the largest chain's (company receipts at the counter, ⚠️)
    b2c_mail_share: float = 0.05  # B2C invoices mailed to the buyer (most go to a carrier, ⚠️)
    b2b_mail_share: float = 0.80  # B2B invoices mailed (⚠️)
    allowance_rate: float = 0.005  # allowances per invoice, each on one B2B invoice (⚠️)
    cancel_rate: float = 0.01  # cancels (作廢) per invoice (⚠️)
    void_rate: float = 0.001  # voids (註銷重開) per invoice (⚠️)
    notify_rate: float = 0.001  # mails sent again per invoice (⚠️)
    allowance_cancel_rate: float = 0.0005
    allowance_void_rate: float = 0.0002
    # Lottery: ~0.15% of invoices win something; delivered proofs are rarer (most go to carriers).
    winner_rate: float = 0.0015
    prize_delivered_rate: float = 0.0005
    top_buyer_share: float = 0.05  # of all B2B invoices, received by the largest buyer (⚠️)
    filing_days: float = 15.0  # returns are filed in the first 15 days of odd months
    lease: float = 2.0  # requests per rate-limit update at a few requests/s per container (⚠️)
    order_id_share: float = 0.1  # issues sending an order_id (web shops, ERPs; ⚠️)
    transaction_seconds: float = 0.010  # how long a transaction holds its items (⚠️ DynamoDB p50)
    conflict_tolerance: float = 0.10  # retried transactions the retry budget tolerates per item

    def scaled(self, factor: float) -> Workload:
        return replace(
            self,
            platform_rate=self.platform_rate * factor,
            average_rate=self.average_rate * factor,
            largest_rate=self.largest_rate * factor,
        )


@dataclass(frozen=True)
class Flow:
    """One business event end to end: its operations, and how many per invoice issued."""

    name: str
    operations: tuple[str, ...]
    per_invoice: float
    buyer: bool = False  # B2B: its buyer-side keys exist


def flows(load: Workload, b2b_share: float) -> list[Flow]:
    """The flows of a merchant whose invoices are ``b2b_share`` B2B."""
    b2c = 1 - b2b_share
    return [
        Flow("B2C invoice", ("issue_b2c", "outbox_issued_b2c"), b2c * (1 - load.b2c_mail_share)),
        Flow("B2C invoice, mailed", ("issue_b2c", "outbox_issued_b2c_mail"), b2c * load.b2c_mail_share),
        Flow("B2B invoice, mailed", ("issue_b2b", "outbox_issued_b2b"), b2b_share * load.b2b_mail_share, True),
        Flow("B2B invoice", ("issue_b2b", "outbox_issued_b2b_nomail"), b2b_share * (1 - load.b2b_mail_share), True),
        Flow("allowance", ("allowance", "outbox_allowance"), load.allowance_rate, True),
        Flow("cancel", ("cancel", "outbox_cancelled"), load.cancel_rate),
        Flow("void", ("void", "outbox_voided"), load.void_rate),
        Flow("re-send", ("notify", "outbox_notify"), load.notify_rate),
        Flow("allowance cancel", ("allowance_cancel", "outbox_allowance_cancelled"), load.allowance_cancel_rate, True),
        Flow("allowance void", ("allowance_void", "outbox_allowance_voided"), load.allowance_void_rate, True),
        Flow("lottery winner", ("winner", "outbox_winner"), load.winner_rate),
        Flow("prize delivered", ("prize_delivered",), load.prize_delivered_rate),
        Flow("booklet advance", ("advance",), 1 / 50),
    ]


FILING_FLOW = Flow("filing", ("filing", "outbox_filing"), 0.0)


# --- the merchants ---------------------------------------------------------------------------------


def zipf_exponent(load: Workload) -> float:
    """``s`` such that merchants ranked k = 1..N issuing ``largest × k^-s`` add up to the platform."""
    target = load.platform_rate / load.largest_rate

    def total(s: float) -> float:
        head = 20_000
        exact = sum(k**-s for k in range(1, min(head, load.merchants) + 1))
        if load.merchants <= head:
            return exact
        a, b = head + 0.5, load.merchants + 0.5
        tail = (b ** (1 - s) - a ** (1 - s)) / (1 - s) if s != 1 else math.log(b / a)
        return exact + tail

    low, high = 0.5, 3.0
    for _ in range(80):
        mid = (low + high) / 2
        if total(mid) > target:
            low = mid
        else:
            high = mid
    return (low + high) / 2


@dataclass(frozen=True)
class Merchant:
    rank: int
    rate: float  # invoices/s at the peak hour
    channels: int
    b2b_share: float


def merchants(load: Workload, top: int = 5) -> list[Merchant]:
    """The ``top`` largest merchants; the rest of the platform is the ``tail``."""
    s = zipf_exponent(load)
    rest_b2b = (load.b2b_share * load.platform_rate - load.largest_b2b_share * load.largest_rate) / (
        load.platform_rate - load.largest_rate
    )
    found = []
    for rank in range(1, top + 1):
        rate = load.largest_rate * rank**-s
        channels = load.largest_channels if rank == 1 else max(1, round(rate / load.till_rate))
        found.append(Merchant(rank, rate, channels, load.largest_b2b_share if rank == 1 else rest_b2b))
    return found


def filing_rate(load: Workload) -> float:
    """Returns filed per second in the filing window (every merchant once a period)."""
    return load.merchants / (load.filing_days * 86_400)


# --- rates on keys ---------------------------------------------------------------------------------

#: Placeholders naming one thing per invoice, event or request: such keys are never hot.
UNIQUE = ("{number}", "{allowance}", "{idem}", "{event}", "{order}", "{time}", "{id}", "{filing}")


@dataclass
class KeyLoad:
    """Units per second on one partition key (or one item), and what wrote them."""

    table: str  # table, or table/index
    key: str
    wcu: float = 0.0
    rcu: float = 0.0
    writes: float = 0.0  # write requests per second
    tx_writes: float = 0.0  # of which in transactions
    sort_keys: set[str] = field(default_factory=set)
    by_operation: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    @property
    def monotonic(self) -> bool:
        """All its writes go to the end of a time-ordered sort key: no split can spread them."""
        return bool(self.sort_keys) and all(sk is not None and sk.startswith(MONOTONIC) for sk in self.sort_keys)

    @property
    def unique(self) -> bool:
        return any(mark in self.key for mark in UNIQUE)

    @property
    def single_item(self) -> bool:
        """All its writes go to one item (one sort key, naming no channel, shard or invoice)."""
        if len(self.sort_keys) != 1:
            return False
        (sk,) = self.sort_keys
        return not re.search(r"\{(?!period\}|type\})", sk)


@dataclass(frozen=True)
class Subject:
    """Whose keys a rate lands on: the merchant (``seller``), the buyer, its channel count.
    ``followed``: False for the aggregate of many smaller merchants or buyers, whose own keys are
    not followed one by one (each is colder than the followed ones); platform-wide keys and the
    tables' totals still count them."""

    seller: str
    buyer: str
    channels: int
    followed: bool = True
    buyer_followed: bool = True


#: Sharded placeholders and how many values each takes (the what-if below adds its own).
SHARDS: dict[str, int] = {"{shard}": TOTALS_SHARDS}


def _instance(template: str, subject: Subject, shards: Mapping[str, int] | None = None) -> tuple[str, float, bool]:
    """The key ``template`` names for ``subject``, the share of the rate one such key gets (a
    template over channels or shards spreads its rate over them), and whether it is followed."""
    followed = True
    if any(mark in template for mark in ("{seller}", "{key_id}", "{client}", "{channel}")):
        followed = subject.followed
    if "{buyer}" in template:
        followed = followed and subject.buyer_followed
    if any(mark in template for mark in UNIQUE):
        followed = False  # one key per invoice, event or request: spread by construction
    key = template.replace("{seller}", subject.seller).replace("{buyer}", subject.buyer)
    key = key.replace("{key_id}", f"key-of-{subject.seller}")
    share = 1.0
    if "{channel}" in key:
        share /= subject.channels
        key = key.replace("{channel}", "<one channel>")
    if "{client}" in key:
        share /= subject.channels  # one address per till (⚠️: a chain behind one NAT shares one)
        key = key.replace("{client}", "<one till's address>")
    for mark, count in (shards or SHARDS).items():
        if mark in key:
            share /= count
            key = key.replace(mark, "<one shard>")
    return key, share, followed


@dataclass
class Loads:
    partitions: dict[tuple[str, str], KeyLoad] = field(default_factory=dict)
    items: dict[tuple[str, str], KeyLoad] = field(default_factory=dict)
    tables: dict[str, KeyLoad] = field(default_factory=dict)
    shards: Mapping[str, int] = field(default_factory=lambda: dict(SHARDS))

    def _at(self, where: dict[tuple[str, str], KeyLoad], table: str, key: str) -> KeyLoad:
        if (table, key) not in where:
            where[(table, key)] = KeyLoad(table, key)
        return where[(table, key)]

    def _table(self, name: str) -> KeyLoad:
        return self.tables.setdefault(name, KeyLoad(name, "*"))

    def add_write(self, op: str, write: Write, rate: float, subject: Subject) -> None:
        per = rate * write.count
        pk, share, followed = _instance(write.pk, subject, self.shards)
        self._table(write.table).wcu += write.units * per
        self._table(write.table).writes += per
        if followed:
            part = self._at(self.partitions, write.table, pk)
            part.wcu += write.units * per * share
            part.writes += per * share
            part.tx_writes += per * share if write.tx else 0
            part.sort_keys.add(write.sk or "")
            part.by_operation[op] += write.units * per * share
            sk, sk_share, sk_followed = _instance(write.sk or "", subject, self.shards)
            if sk_followed:
                item = self._at(self.items, write.table, f"{pk} / {sk}")
                item.wcu += write.units * per * share * sk_share
                item.writes += per * share * sk_share
                item.tx_writes += per * share * sk_share if write.tx else 0
                item.by_operation[op] += per * share * sk_share
        for entry in write.indexes:
            where = f"{write.table}/{entry.index}"
            ipk, ishare, ifollowed = _instance(entry.pk, subject, self.shards)
            units = write.index_units(entry) * per
            self._table(where).wcu += units
            if ifollowed:
                index = self._at(self.partitions, where, ipk)
                index.wcu += units * ishare
                index.writes += per * ishare
                index.sort_keys.add(_INDEX_SORT.get(entry.index, ""))
                index.by_operation[op] += units * ishare

    def add_read(self, op: str, read: Read, rate: float, subject: Subject) -> None:
        per = rate * read.count
        table = read.table + (f"/{read.index}" if read.index else "")
        pk, share, followed = _instance(read.pk, subject, self.shards)
        self._table(table).rcu += read.units * per
        if not followed:
            return
        part = self._at(self.partitions, table, pk)
        part.rcu += read.units * per * share
        if read.op == "get":
            sk, sk_share, sk_followed = _instance(read.sk or "", subject, self.shards)
            if sk_followed:
                item = self._at(self.items, table, f"{pk} / {sk}")
                item.rcu += read.units * per * share * sk_share


#: How each index's sort key starts (infra/resources.py and the adapters that set it): a time.
_INDEX_SORT = {"gsi1": "{time}", "gsi2": "{time}", "gsi_outbox": "{time}"}
LARGEST_BUYER = "<the largest buyer>"


def _involves_buyer(step: Write | Read) -> bool:
    if "{buyer}" in step.pk:
        return True
    return isinstance(step, Write) and any("{buyer}" in entry.pk for entry in step.indexes)


def loads(
    load: Workload,
    ops: Mapping[str, Operation] | None = None,
    top: int = 5,
    only: Sequence[str] | None = None,
    shards: Mapping[str, int] | None = None,
) -> Loads:
    """Units per second on every key the workload touches. The ``top`` merchants and the largest
    buyer are followed one by one; the rest of the platform counts in the tables' totals and on
    the platform-wide keys (the sweeper's index, the calendar). ``only``: these flows alone (no filing)."""
    ops = ops or operations(load.lease, load.order_id_share)
    result = Loads(shards=dict(shards or SHARDS))
    found = merchants(load, top)
    tail_rate = load.platform_rate - sum(m.rate for m in found)
    subjects: list[tuple[float, float, Subject]] = [
        (m.rate, m.b2b_share, Subject(f"<merchant #{m.rank}>", "", m.channels)) for m in found
    ]
    subjects.append((tail_rate, found[-1].b2b_share, Subject("<a smaller merchant>", "", 1, followed=False)))
    buyers = ((load.top_buyer_share, LARGEST_BUYER, True), (1 - load.top_buyer_share, "<another buyer>", False))
    for rate, b2b, subject in subjects:
        for flow in flows(load, b2b):
            if only is not None and flow.name not in only:
                continue
            for name in flow.operations:
                _add_operation(result, name, ops[name], rate * flow.per_invoice, subject, buyers)
    if only is not None:
        return result
    # Returns, in the filing window: every merchant once; only platform-wide keys see them together.
    filer = Subject("<a filing merchant>", "", 1, followed=False)
    for name in FILING_FLOW.operations:
        _add_operation(result, name, ops[name], filing_rate(load), filer, buyers)
    return result


def _add_operation(
    result: Loads,
    name: str,
    op: Operation,
    rate: float,
    subject: Subject,
    buyers: Sequence[tuple[float, str, bool]],
) -> None:
    """A buyer-side key takes the share of the rate its buyer receives (the largest buyer its share
    of all B2B, any other buyer the rest); the seller's keys take all of it either way."""
    for step in (*op.writes, *op.reads):
        parts = buyers if _involves_buyer(step) else ((1.0, "<a buyer>", False),)
        for share, buyer, followed in parts:
            who = replace(subject, buyer=buyer, buyer_followed=followed)
            if isinstance(step, Write):
                result.add_write(name, step, rate * share, who)
            else:
                result.add_read(name, step, rate * share, who)


# --- what if: the changes the findings propose (docs/scale.md), applied to the model ------------------


@dataclass(frozen=True)
class Changes:
    """The changes to chalicelib the findings propose, as a transformation of the model."""

    outbox_shards: int = 16  # the sweeper's own sparse KEYS_ONLY index, OUTBOX#PENDING#<n>
    invoice_index_shards: int = 8  # gsi1 of invoices and events under MERCHANT#<ubn>#<n>
    publish_once: bool = True  # the outbox shows its results on the invoice once, at the end
    totals_shards: int = 32  # the most the filing guard's transaction allows

    @property
    def shards(self) -> dict[str, int]:
        return {
            "{shard}": self.totals_shards,
            "{outbox_shard}": self.outbox_shards,
            "{index_shard}": self.invoice_index_shards,
        }


OUTBOX_KEYS_ENTRY = 120  # bytes of a KEYS_ONLY entry: pk, sk and the index's two keys


def changes_for(load: Workload, ops: Mapping[str, Operation]) -> Changes:
    """The proposed changes with as many shards as keep each index shard at half its limit."""
    unsharded = Changes(outbox_shards=1, invoice_index_shards=1)
    found = loads(load, changed(ops, unsharded), shards=unsharded.shards)
    outbox = max((p.wcu for (t, k), p in found.partitions.items() if t.endswith("gsi_outbox")), default=0.0)
    index = max(
        (p.wcu for (t, k), p in found.partitions.items() if t.endswith("gsi1") and "#<one shard>" in k), default=0.0
    )
    return Changes(
        outbox_shards=max(16, shards_for(outbox, PARTITION_WCU)),
        invoice_index_shards=max(8, shards_for(index, PARTITION_WCU)),
    )


def changed(ops: Mapping[str, Operation], changes: Changes) -> dict[str, Operation]:
    """``ops`` with ``changes`` made: what each operation would write then."""
    result = {}
    for name, op in ops.items():
        steps = [_changed_step(step, changes) for step in op.steps]
        if changes.publish_once and op.function == "outbox":
            steps = _publish_once(steps)
        result[name] = replace(op, steps=tuple(step for step in steps if step is not None))
    return result


def _changed_step(step: Step, changes: Changes) -> Step:
    if not isinstance(step, Write) or not step.indexes:
        return step
    entries = []
    for entry in step.indexes:
        if entry.index == "gsi1" and entry.pk == "OUTBOX#PENDING":
            if entry.op != "update":  # KEYS_ONLY: a step's state is not in the index
                entries.append(Ix("gsi_outbox", "OUTBOX#PENDING#{outbox_shard}", entry.op, OUTBOX_KEYS_ENTRY))
        elif entry.index == "gsi1" and entry.pk in ("MERCHANT#{seller}", "EVENTS#{seller}"):
            entries.append(replace(entry, pk=entry.pk + "#{index_shard}"))
        else:
            entries.append(entry)
    return replace(step, indexes=tuple(entries))


def _publish_once(steps: list[Step]) -> list[Step]:
    """Keep only the last pair of updates showing the outbox's results on each subject (invoice or
    allowance); the last one takes every index entry the dropped ones changed."""
    for subject in ("INV#{number}", "ALW#{allowance}"):
        places = [
            i for i, s in enumerate(steps) if isinstance(s, Write) and not s.tx and s.op == "update" and s.sk == subject
        ]
        if len(places) <= 2:
            continue
        kept = places[-2:]
        entries = {e.index: e for i in places for e in steps[i].indexes}  # type: ignore[union-attr]
        last = steps[kept[-1]]
        assert isinstance(last, Write)
        steps[kept[-1]] = replace(last, indexes=tuple(entries.values()))
        for i in places[:-2]:
            steps[i] = None  # type: ignore[call-overload]
    return [s for s in steps if s is not None]


# --- verdicts ----------------------------------------------------------------------------------------


def partitions_needed(units: float, limit: float) -> int:
    return max(1, math.ceil(units / limit))


def shards_for(units: float, limit: float, headroom: float = 0.5) -> int:
    """The smallest power of two keeping each shard at or below ``headroom`` of ``limit``."""
    needed = units / (limit * headroom)
    shards = 1
    while shards < needed:
        shards *= 2
    return shards


def verdict(part: KeyLoad) -> str:
    if part.wcu <= PARTITION_WCU and part.rcu <= PARTITION_RCU:
        return "fits one partition"
    needed = max(partitions_needed(part.wcu, PARTITION_WCU), partitions_needed(part.rcu, PARTITION_RCU))
    if part.monotonic:
        shards = shards_for(part.wcu, PARTITION_WCU)
        return f"over the limit; its sort key grows with time, so no split spreads it: shard the key ×{shards}"
    if part.single_item:
        return "over the limit on one item: no split can help"
    return f"needs ≥ {needed} partitions: split by sort key under sustained load only (split for heat, ⚠️ minutes)"


# --- transaction conflicts ---------------------------------------------------------------------------


def conflict_probability(rate: float, seconds: float) -> float:
    """The chance a transaction finds an item held by another: items held ``seconds`` by each of
    ``rate`` writers a second (Poisson arrivals) are held a fraction 1 − e^(−rate·seconds) of the time."""
    return 1 - math.exp(-rate * seconds)


def tolerated_rate(tolerance: float, seconds: float) -> float:
    """The write rate on one item at which ``tolerance`` of its transactions are retried."""
    return -math.log(1 - tolerance) / seconds


def attempts(probability: float) -> float:
    """Mean attempts per committed transaction when each fails with ``probability``."""
    return 1 / (1 - probability)


# --- cost --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Price:
    what: str
    unit: str
    usd: float
    verified: bool = False  # False: not checked against AWS's price list offline (⚠️)


#: ap-northeast-1 (Tokyo) list prices as known in 2024-11, after DynamoDB's on-demand price cut of
#: 2024-11-01. None of them could be checked against AWS's price list offline: all ⚠️.
PRICES: dict[str, Price] = {
    "wru": Price("DynamoDB on-demand write request units", "per million", 0.7125),
    "rru": Price("DynamoDB on-demand read request units", "per million", 0.1425),
    "ddb_storage": Price("DynamoDB storage (Standard table class), tables and indexes", "per GB-month", 0.285),
    "pitr": Price("DynamoDB point-in-time recovery (continuous backups)", "per GB-month", 0.228),
    "s3_put": Price("S3 PUT/COPY/POST/LIST requests", "per 1,000", 0.0047),
    "s3_get": Price("S3 GET requests", "per 1,000", 0.00037),
    "s3_storage": Price("S3 Standard storage (first 50 TB)", "per GB-month", 0.025),
    "ses": Price("SES outbound mail", "per 1,000", 0.10),
    "ses_attachments": Price("SES attachments", "per GB", 0.12),
    "sns_sms": Price("SNS SMS to a Taiwan mobile (not sent by default)", "per message", 0.0650),
    "lambda_requests": Price("Lambda requests", "per million", 0.20),
    "lambda_gbs": Price("Lambda compute (x86)", "per GB-second", 0.0000166667),
    "apigw": Price("API Gateway REST API requests (first 333 million a month)", "per million", 4.25),
    "apigw_2": Price("API Gateway REST API requests (next 667 million)", "per million", 3.53),
    "apigw_3": Price("API Gateway REST API requests (next 19 billion)", "per million", 3.00),
    "logs": Price("CloudWatch Logs ingestion", "per GB", 0.76),
}

#: Lambda time per invocation on AWS (⚠️ estimates: the local trace measures only this machine).
LAMBDA = {"api": (0.5, 0.060), "outbox": (1.0, 0.300)}  # GB of memory, seconds
LOG_BYTES = {"api": 1_000, "outbox": 2_000}  # ⚠️ Powertools INFO logs per invocation


@dataclass
class Usage:
    """Billable quantities per invoice issued (all flows weighted by their rate per invoice)."""

    wru: float = 0.0
    rru: float = 0.0
    ddb_bytes: float = 0.0  # stored for good, tables and indexes, overhead included
    s3_puts: float = 0.0
    s3_gets: float = 0.0
    s3_bytes: float = 0.0  # stored (the bucket is versioned: every version is kept)
    mails: float = 0.0
    mail_bytes: float = 0.0
    api_requests: float = 0.0
    lambda_requests: float = 0.0
    lambda_gbs: float = 0.0
    log_bytes: float = 0.0

    def add(self, other: Usage, factor: float) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name) * factor)


def operation_usage(op: Operation) -> Usage:
    usage = Usage()
    usage.wru = op.wcu()
    usage.rru = op.rcu()
    for request in op.requests:
        if request.service == "s3" and request.operation == "PutObject":
            usage.s3_puts += request.count
            usage.s3_bytes += request.size * request.count
        elif request.service == "s3":
            usage.s3_gets += request.count
        elif request.service == "ses":
            usage.mails += request.count
            usage.mail_bytes += request.size * request.count
    usage.lambda_requests = 1
    memory, seconds = LAMBDA[op.function]
    usage.lambda_gbs = memory * seconds
    usage.log_bytes = LOG_BYTES[op.function]
    usage.api_requests = 1 if op.function == "api" else 0
    return usage


def stored_bytes(ops: Iterable[Operation]) -> float:
    """Bytes a flow leaves in DynamoDB for good: each item it creates at its largest, plus each index
    entry still present at the end, with DynamoDB's 100 bytes each. Idempotency records expire."""
    items: dict[tuple[str, str, str | None], int] = {}
    entries: dict[tuple[str, str, str | None, str], int] = {}
    for op in ops:
        for write in op.writes:
            if write.table == "idempotency" or write.op == "check" or write.pk.startswith("RATE#"):
                continue
            item = (write.table, write.pk, write.sk)
            if write.op == "put" or item in items:
                items[item] = max(items.get(item, 0), write.size)
            for entry in write.indexes:
                place = (*item, entry.index)
                if entry.op == "delete":
                    entries.pop(place, None)
                else:
                    entries[place] = max(entries.get(place, 0), entry.size)
    return sum(size + ITEM_OVERHEAD for size in items.values()) + sum(size + ITEM_OVERHEAD for size in entries.values())


def usage_per_invoice(load: Workload, ops: Mapping[str, Operation] | None = None) -> Usage:
    ops = ops or operations(load.lease, load.order_id_share)
    total = Usage()
    for flow in flows(load, load.b2b_share):
        for name in flow.operations:
            total.add(operation_usage(ops[name]), flow.per_invoice)
        flow_usage = Usage(ddb_bytes=stored_bytes(ops[name] for name in flow.operations))
        total.add(flow_usage, flow.per_invoice)
    # Every merchant files once a period (~61 days) of average_rate invoices a second.
    per_invoice_filings = load.merchants / (load.average_rate * PERIOD_SECONDS)
    for name in FILING_FLOW.operations:
        total.add(operation_usage(ops[name]), per_invoice_filings)
    return total


def apigw_cost(requests_per_month: float) -> float:
    tiers = ((333e6, PRICES["apigw"].usd), (667e6, PRICES["apigw_2"].usd), (float("inf"), PRICES["apigw_3"].usd))
    cost, left = 0.0, requests_per_month
    for size, price in tiers:
        taken = min(left, size)
        cost += taken / 1e6 * price
        left -= taken
        if left <= 0:
            break
    return cost


def monthly_bill(usage: Usage, invoices_per_month: float, *, stored_months: float) -> dict[str, float]:
    """USD a month by line: requests for ``invoices_per_month``; storage once ``stored_months``
    months of invoices are kept."""
    n = invoices_per_month
    gb = 1024**3
    stored_invoices = n * stored_months
    bill = {
        "DynamoDB writes": usage.wru * n / 1e6 * PRICES["wru"].usd,
        "DynamoDB reads": usage.rru * n / 1e6 * PRICES["rru"].usd,
        "DynamoDB storage": usage.ddb_bytes * stored_invoices / gb * PRICES["ddb_storage"].usd,
        "DynamoDB PITR": usage.ddb_bytes * stored_invoices / gb * PRICES["pitr"].usd,
        "S3 PUTs": usage.s3_puts * n / 1000 * PRICES["s3_put"].usd,
        "S3 GETs": usage.s3_gets * n / 1000 * PRICES["s3_get"].usd,
        "S3 storage": usage.s3_bytes * stored_invoices / gb * PRICES["s3_storage"].usd,
        "SES mail": usage.mails * n / 1000 * PRICES["ses"].usd,
        "SES attachments": usage.mail_bytes * n / gb * PRICES["ses_attachments"].usd,
        "Lambda requests": usage.lambda_requests * n / 1e6 * PRICES["lambda_requests"].usd,
        "Lambda compute": usage.lambda_gbs * n * PRICES["lambda_gbs"].usd,
        "API Gateway": apigw_cost(usage.api_requests * n),
        "CloudWatch Logs": usage.log_bytes * n / gb * PRICES["logs"].usd,
    }
    return bill


SECONDS_PER_MONTH = 365.25 / 12 * 86_400
PERIOD_SECONDS = 2 * SECONDS_PER_MONTH  # a VAT period is two months

"""National scale, on paper and in simulation: ``python -m bench.scale`` (or ``make bench BENCH=scale``).

1. The model (bench/scale_model.py): every item, partition key and index entry each operation
   writes and reads, driven by the national workload (1,000 invoices/s at the peak hour, the
   largest chain at 200/s over 6,000 tills), gives units per second on every key, the hottest
   partition and item, the transaction conflicts, and the monthly AWS bill.
2. The trace (bench/scale_trace.py): each traced operation run once on the real code against
   DynamoDB Local, access by access against the model; and the recorder's units against DynamoDB
   Local's own metering.
3. The simulation (bench/scale_sim.py): the model's key distribution at the highest rate this
   machine sustains, the write counts read back per key against the model's.

It prints the tables and rewrites the numbers section of docs/scale.md (between its markers), so
every number in that document comes from one command. ``--paper``: the model alone (no local parts,
a second), leaving the trace and simulation sections as they were.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import scale_model as m
from bench.harness import Figure

DOC = Path(__file__).resolve().parent.parent / "docs" / "scale.md"
BEGIN, END = "<!-- numbers:begin (python -m bench.scale) -->", "<!-- numbers:end -->"
CHECKS_BEGIN, CHECKS_END = "<!-- checks:begin (python -m bench.scale) -->", "<!-- checks:end -->"


def _n(value: float, digits: int = 0) -> str:
    if value and abs(value) < 10 ** (-digits) / 2:
        return f"{value:.2g}"
    return f"{value:,.{digits}f}"


def _usd(value: float) -> str:
    return f"${value:,.0f}" if value >= 100 else f"${value:,.2f}"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


# --- the paper part ---------------------------------------------------------------------------------


def workload_section(load: m.Workload) -> str:
    found = m.merchants(load)
    rows = [
        (
            "platform, peak hour",
            f"{_n(load.platform_rate)} invoices/s",
            "Taiwan: 7.5–8 billion a year is ≈250/s; peak hours 3–5×",
        ),
        (
            "platform, year average",
            f"{_n(load.average_rate)} invoices/s",
            f"{_n(load.average_rate * 365.25 * 86400 / 1e9, 2)} billion a year",
        ),
        (
            "largest merchant",
            f"{_n(load.largest_rate)} invoices/s over {load.largest_channels:,} tills",
            "4 million a day ≈ 50/s, 4× at its peak",
        ),
        (
            "merchants issuing",
            f"{load.merchants:,}",
            f"rank k issues {_n(load.largest_rate)} × k^−{m.zipf_exponent(load):.3f} (Zipf fitted to the platform) ⚠️",
        ),
        ("B2B share", f"{load.b2b_share:.0%} of all ({load.largest_b2b_share:.0%} at the largest chain)", "⚠️"),
        (
            "mailed",
            f"B2C {load.b2c_mail_share:.0%}, B2B {load.b2b_mail_share:.0%}",
            "⚠️ most B2C invoices go to a carrier",
        ),
        (
            "allowances / cancels / voids",
            f"{load.allowance_rate:.1%} / {load.cancel_rate:.1%} / {load.void_rate:.1%} of invoices",
            "⚠️",
        ),
        ("largest buyer", f"{load.top_buyer_share:.0%} of all B2B invoices", "⚠️"),
        ("with an order_id", f"{load.order_id_share:.0%} of issues", "web shops and ERPs send one ⚠️"),
        ("Idempotency-Key", "every issue and allowance", "what a till retrying safely sends"),
        (
            "rate-limit lease",
            f"{_n(load.lease)} requests per DynamoDB update",
            "services/rate_limiter.py at a few requests/s per container ⚠️",
        ),
        ("transaction time", f"{load.transaction_seconds * 1000:.0f} ms", "how long a transaction holds its items ⚠️"),
        (
            "returns",
            f"{load.merchants:,} a period, over {load.filing_days:.0f} days",
            f"{m.filing_rate(load):.2f}/s in the filing window",
        ),
    ]
    merchants_rows = [
        (f"#{x.rank}", _n(x.rate, 1), f"{x.channels:,}", f"{x.rate / x.channels:.3f}", f"{x.b2b_share:.1%}")
        for x in found
    ]
    return "\n\n".join(
        [
            "### The workload (stated; ⚠️ marks an assumption, not a measured national figure)",
            table(("what", "value", "note"), rows),
            table(("merchant", "invoices/s", "channels (tills)", "per channel/s", "B2B"), merchants_rows),
        ]
    )


def operations_section(load: m.Workload, ops: Mapping[str, m.Operation]) -> str:
    rows = []
    for op in ops.values():
        s3 = sum(r.count for r in op.requests if r.service == "s3" and r.operation == "PutObject")
        mails = sum(r.count for r in op.requests if r.service == "ses")
        hot = _hottest_key(op)
        rows.append(
            (
                f"`{op.name}`",
                op.what,
                len(op.transaction),
                _n(op.wcu()),
                _n(op.rcu(), 1),
                _n(s3),
                _n(mails),
                hot,
                "yes" if op.traced else "read from the code",
            )
        )
    usage = m.usage_per_invoice(load, ops)
    flows_rows = [
        (flow.name, " + ".join(f"`{o}`" for o in flow.operations), f"{flow.per_invoice:.4f}")
        for flow in m.flows(load, load.b2b_share)
    ]
    return "\n\n".join(
        [
            "### Per operation (WCU and RCU per occurrence; a transaction's actions count twice, "
            "and so do the index entries they change)",
            table(
                ("operation", "what", "transaction actions", "WCU", "RCU", "S3 PUTs", "mails", "most WCU on", "traced"),
                rows,
            ),
            "### Flows, per invoice issued (platform mix)",
            table(("flow", "operations", "per invoice"), flows_rows),
            f"Per invoice issued, everything included: **{usage.wru:.1f} write units** and {usage.rru:.1f} read units, "
            f"{usage.s3_puts:.2f} S3 PUTs ({usage.s3_bytes / 1024:.0f} KB stored), {usage.mails:.3f} mails, "
            f"{usage.lambda_requests:.2f} Lambda invocations, {usage.ddb_bytes / 1024:.1f} KB kept in DynamoDB "
            "(tables and indexes, 100 B overhead per item).",
        ]
    )


def _hottest_key(op: m.Operation) -> str:
    by_key: dict[str, float] = {}
    for write in op.writes:
        key = f"{write.table} {write.pk}"
        by_key[key] = by_key.get(key, 0.0) + write.units * write.count
        for entry in write.indexes:
            where = f"{write.table}/{entry.index} {entry.pk}"
            by_key[where] = by_key.get(where, 0.0) + write.index_units(entry) * write.count
    if not by_key:
        return ""
    key = max(by_key, key=by_key.__getitem__)
    return f"`{key}` ({_n(by_key[key])})"


def _writers(part: m.KeyLoad, top: int = 3) -> str:
    total = sum(part.by_operation.values()) or 1.0
    ordered = sorted(part.by_operation.items(), key=lambda kv: -kv[1])[:top]
    return ", ".join(f"{name} {units / total:.0%}" for name, units in ordered)


def partitions_section(load: m.Workload, loads: m.Loads, title: str, top: int = 14) -> str:
    parts = sorted(loads.partitions.values(), key=lambda k: -max(k.wcu / m.PARTITION_WCU, k.rcu / m.PARTITION_RCU))
    rows = [
        (
            f"`{p.table}`",
            f"`{p.key}`",
            _n(p.wcu),
            _n(p.rcu),
            f"{p.wcu / m.PARTITION_WCU:.0%}",
            _writers(p),
            m.verdict(p),
        )
        for p in parts[:top]
    ]
    tables = [
        (f"`{name}`", _n(t.wcu), _n(t.rcu), f"{max(t.wcu, t.rcu) / m.TABLE_ON_DEMAND_UNITS:.0%}")
        for name, t in sorted(loads.tables.items(), key=lambda kv: -kv[1].wcu)
    ]
    return "\n\n".join(
        [
            title,
            table(("table / index", "partition key", "WCU/s", "RCU/s", "of 1,000 WCU", "written by", "verdict"), rows),
            "Whole tables and indexes (DynamoDB's default on-demand quota: 40,000 units/s per table, ⚠️ soft):",
            table(("table / index", "WCU/s", "RCU/s", "of the quota"), tables),
        ]
    )


@dataclass(frozen=True)
class Conflict:
    item: str
    writes: float
    probability: float
    verdict: str


def conflicts(load: m.Workload, loads: m.Loads) -> list[Conflict]:
    """Items written inside transactions by more than one request: the chance a transaction finds
    one held by another, against what the retries tolerate."""
    limit = m.tolerated_rate(load.conflict_tolerance, load.transaction_seconds)
    found = []
    for item in loads.items.values():
        if item.tx_writes <= 0 or item.unique:
            continue
        p = m.conflict_probability(item.writes, load.transaction_seconds)
        if item.writes <= limit:
            verdict = "within the retry budget"
        elif "TOTALS" in item.key:
            verdict = f"over: needs ≥ {math.ceil(item.writes * m.TOTALS_SHARDS / limit)} shards"
        else:
            verdict = f"over: spread it ×{math.ceil(item.writes / limit)}"
        found.append(Conflict(f"`{item.table}` `{item.key}`", item.writes, p, verdict))
    return sorted(found, key=lambda c: -c.writes)


def conflicts_section(load: m.Workload, loads: m.Loads, ops: Mapping[str, m.Operation]) -> str:
    t = load.transaction_seconds
    limit = m.tolerated_rate(load.conflict_tolerance, t)
    found = conflicts(load, loads)
    rows = [
        (c.item, _n(c.writes, 1), f"{c.probability:.1%}", f"{m.attempts(c.probability):.2f}", c.verdict)
        for c in found[:10]
    ]
    # One issue at the largest merchant: the counter of its channel, one totals shard.
    first = m.merchants(load)[0]
    totals_rate = next(c.writes for c in found if "merchant #1" in c.item and "TOTALS" in c.item and "#07#" in c.item)
    counter_rate = first.rate / first.channels
    issue_p = m.conflict_probability(counter_rate + totals_rate, t)
    needed = math.ceil(totals_rate * m.TOTALS_SHARDS / limit)
    guard_max = (m.TRANSACTION_ACTIONS - 3) // 3
    at32 = m.conflict_probability(totals_rate * m.TOTALS_SHARDS / guard_max + counter_rate, t)
    channel_rows = []
    for rate in (0.05, 1, 2, 5, 10, 20, 50, 100):
        p = m.conflict_probability(rate, t)
        channel_rows.append((_n(rate, 2), f"{p:.1%}", f"{m.attempts(p):.2f}", max(1, math.ceil(rate / limit))))
    return "\n\n".join(
        [
            "### Transaction conflicts on shared items",
            (
                f"Model: a transaction holds its items for t = {t * 1000:.0f} ms; writers of one item arrive as a "
                f"Poisson stream of λ a second, so a transaction finds the item held with probability "
                f"p = 1 − e^(−λt) ≈ λt, and needs 1/(1 − p) attempts on average (p^k of them fail k times). The "
                f"retries (services/numbering.py: up to {400} attempts with 0–20 ms of jitter; the allowance and "
                f"lifecycle services prepare again) tolerate p ≤ {load.conflict_tolerance:.0%}: a mean of "
                f"{m.attempts(load.conflict_tolerance):.2f} attempts, 1% of requests retried twice. That is "
                f"λ ≤ {limit:.1f} writes/s on any one item. A failed attempt is charged its write units (⚠️), "
                "so 1/(1 − p) multiplies those too."
            ),
            table(("item", "writes/s", "p (conflict)", "attempts", "verdict"), rows),
            (
                f"An issue at the largest merchant touches its till's counter ({counter_rate:.3f} writes/s) and one "
                f"of its {m.TOTALS_SHARDS} totals shards ({totals_rate:.1f} writes/s each): p = {issue_p:.1%} per "
                f"issue, {m.attempts(issue_p):.2f} attempts. Keeping each shard under {limit:.1f}/s needs ≥ {needed} "
                "shards; the filing guard checks every shard of 3 groups in one transaction "
                f"(3 × S + 3 ≤ {m.TRANSACTION_ACTIONS} actions), so S ≤ {guard_max}: at {guard_max} shards "
                f"p = {at32:.1%}."
            ),
            "One channel's counter at higher rates (an e-commerce merchant issuing from one API channel): "
            "the booklets in parallel column is what keeps each counter within the budget.",
            table(("invoices/s on one channel", "p (conflict)", "attempts", "booklets in parallel"), channel_rows),
        ]
    )


def cost_section(load: m.Workload, ops: Mapping[str, m.Operation]) -> str:
    usage = m.usage_per_invoice(load, ops)
    million = m.monthly_bill(usage, 1e6, stored_months=0)
    # Per million invoices: requests, and a month of keeping them.
    kept = m.monthly_bill(usage, 1e6, stored_months=1)
    storage_lines = ("DynamoDB storage", "DynamoDB PITR", "S3 storage")
    average = load.average_rate * m.SECONDS_PER_MONTH
    peak = load.platform_rate * m.SECONDS_PER_MONTH
    columns = [
        ("per million invoices", million, {k: kept[k] for k in storage_lines}),
        (
            f"a month at {_n(load.average_rate)}/s (year 1, 12 months kept)",
            m.monthly_bill(usage, average, stored_months=12),
            None,
        ),
        (
            f"a month at {_n(load.average_rate)}/s (5 years kept)",
            m.monthly_bill(usage, average, stored_months=60),
            None,
        ),
        (
            f"a month at {_n(load.platform_rate)}/s all month (12 months kept)",
            m.monthly_bill(usage, peak, stored_months=12),
            None,
        ),
    ]
    names = list(columns[1][1])
    rows = []
    for name in names:
        cells = []
        for _, bill, storage in columns:
            value = storage[name] if storage and name in storage else bill[name]
            cells.append(_usd(value))
        rows.append((name, *cells))
    rows.append(("**total**", *[f"**{_usd(sum((s or {}).get(k, b[k]) for k in names))}**" for _, b, s in columns]))
    prices = [(p.what, p.unit, f"${p.usd:g}", "✔" if p.verified else "⚠️") for p in m.PRICES.values()]
    lam = [
        (name, f"{mem:g} GB", f"{sec * 1000:.0f} ms", f"{m.LOG_BYTES[name]:,} B")
        for name, (mem, sec) in m.LAMBDA.items()
    ]
    return "\n\n".join(
        [
            "### Monthly cost (on-demand, ap-northeast-1)",
            "Prices used (list prices as known in 2024-11, after DynamoDB's on-demand cut of 2024-11-01; none "
            "could be checked against AWS's price list offline, so every one is ⚠️):",
            table(("what", "unit", "USD", "checked"), prices),
            "Lambda time per invocation on AWS (⚠️ estimates; the trace measures only this machine):",
            table(("function", "memory", "duration", "logs"), lam),
            "Storage is billed on what is kept: *per million invoices* shows a month of keeping one million; "
            "the monthly columns keep 12 or 60 months of invoices (the e-invoice retention is 5 years, ⚠️). "
            f"A month at {_n(load.average_rate)}/s is {average / 1e6:,.0f} million invoices; on-demand bills requests, "
            f"not the peak, so the {_n(load.platform_rate)}/s column (a month at the peak-hour rate, "
            f"{peak / 1e6:,.0f} million) is an upper bound, not a second estimate.",
            table(("line", *[c[0] for c in columns]), rows),
        ]
    )


def tenfold_section(load: m.Workload, ops: Mapping[str, m.Operation]) -> str:
    rows = []
    for factor in (1, 10):
        scaled = load.scaled(factor)
        loads = m.loads(scaled, ops)
        api = sum(
            scaled.platform_rate * flow.per_invoice
            for flow in m.flows(scaled, scaled.b2b_share)
            for name in flow.operations
            if ops[name].function == "api"
        )
        outbox = sum(
            scaled.platform_rate * flow.per_invoice
            for flow in m.flows(scaled, scaled.b2b_share)
            for name in flow.operations
            if ops[name].function == "outbox"
        )
        usage = m.usage_per_invoice(scaled, ops)
        concurrency = api * m.LAMBDA["api"][1] + outbox * m.LAMBDA["outbox"][1]
        first = m.merchants(scaled)[0]
        largest_puts = first.rate * _s3_puts_per_invoice(scaled, first.b2b_share, ops)
        hottest = max(loads.partitions.values(), key=lambda p: p.wcu)
        rows += [
            (f"{factor}×", "API requests/s (API Gateway: 10,000 rps per account and Region ⚠️ soft)", _n(api)),
            (f"{factor}×", "Lambda concurrency (1,000 per Region by default ⚠️ soft)", _n(concurrency)),
            (
                f"{factor}×",
                "SES mails/s (the account's sending rate, raised on request)",
                _n(usage.mails * scaled.platform_rate),
            ),
            (f"{factor}×", "S3 PUT/s under the largest merchant's prefix (3,500/s per prefix)", _n(largest_puts)),
            (
                f"{factor}×",
                "invoices table WCU/s (40,000 per table by default ⚠️ soft)",
                _n(loads.tables["invoices"].wcu),
            ),
            (f"{factor}×", "gsi1 WCU/s", _n(loads.tables["invoices/gsi1"].wcu)),
            (f"{factor}×", f"hottest partition key: `{hottest.table}` `{hottest.key}` WCU/s", _n(hottest.wcu)),
            (
                f"{factor}×",
                "largest merchant's issue limit use (`issue`: 500/s per API key)",
                f"{first.rate / 500:.0%}",
            ),
        ]
    scaled = load.scaled(10)
    return "\n\n".join(
        [
            "### At 10× (10,000 invoices/s, the largest merchant at 2,000/s)",
            table(("load", "what", "value"), rows),
            partitions_section(scaled, m.loads(scaled, ops), "Hottest partitions at 10×:", top=8),
        ]
    )


def _s3_puts_per_invoice(load: m.Workload, b2b: float, ops: Mapping[str, m.Operation]) -> float:
    return sum(
        flow.per_invoice * r.count
        for flow in m.flows(load, b2b)
        for name in flow.operations
        for r in ops[name].requests
        if r.service == "s3" and r.operation == "PutObject"
    )


def changes_section(load: m.Workload) -> str:
    """The findings' changes applied to the model: what the hot keys and the bill become."""
    now = m.operations(load.lease, load.order_id_share)
    rows = []
    for factor in (1, 10):
        scaled = load.scaled(factor)
        changes = m.changes_for(scaled, now)
        after = m.changed(now, changes)
        shards = f"{changes.outbox_shards} / {changes.invoice_index_shards} / {changes.totals_shards}"
        for label, found in (
            ("now", m.loads(scaled, now)),
            (f"changed ({shards})", m.loads(scaled, after, shards=changes.shards)),
        ):
            worst = sorted(found.partitions.values(), key=lambda p: -p.wcu)
            index = next(p for p in worst if "/" in p.table)
            rows.append(
                (
                    f"{factor}×",
                    label,
                    f"`{worst[0].table}` `{worst[0].key}`: {_n(worst[0].wcu)}",
                    f"`{index.table}` `{index.key}`: {_n(index.wcu)}",
                    m.verdict(index),
                )
            )
    changes = m.changes_for(load, now)
    after = m.changed(now, changes)
    before_usage, after_usage = m.usage_per_invoice(load, now), m.usage_per_invoice(load, after)
    price = m.PRICES["wru"].usd
    saved = (before_usage.wru - after_usage.wru) * price
    conflict_now = m.conflict_probability(load.largest_rate / m.TOTALS_SHARDS, load.transaction_seconds)
    conflict_after = m.conflict_probability(load.largest_rate / changes.totals_shards, load.transaction_seconds)
    what = [
        "the sweeper's pending items in a sparse index of their own, KEYS_ONLY, partition key "
        "`OUTBOX#PENDING#<n>` (the sweeper queries each shard)",
        "invoices and events under `MERCHANT#<ubn>#<n>` / `EVENTS#<ubn>#<n>` in gsi1 (a list queries each shard)",
        "the outbox shows its results on the invoice (allowance) once, at the end of the pass, not after every step",
        f"{changes.totals_shards} totals shards instead of {m.TOTALS_SHARDS}",
    ]
    return "\n\n".join(
        [
            "### The proposed changes, applied to the model",
            "\n".join(f"{i}. {line}" for i, line in enumerate(what, 1)),
            "Shards (outbox index / invoice index / totals) are the fewest powers of two that keep every index "
            "shard at half its limit or less (16 and 8 at least):",
            table(
                ("load", "model", "hottest table partition (WCU/s)", "hottest index partition (WCU/s)", "its verdict"),
                rows,
            ),
            (
                f"Write units per invoice: {before_usage.wru:.1f} now, {after_usage.wru:.1f} changed "
                f"(${saved:.2f} less per million invoices). Conflicts per issue at the largest merchant's totals: "
                f"{conflict_now:.1%} now, {conflict_after:.1%} with {changes.totals_shards} shards."
            ),
        ]
    )


def findings_section(load: m.Workload) -> str:
    """The findings, with the model's numbers (the prose around them is in docs/scale.md)."""
    ops = m.operations(load.lease, load.order_id_share)
    loads = m.loads(load, ops)
    parts = loads.partitions
    first = m.merchants(load)[0]
    base = parts[("invoices", "MERCHANT#<merchant #1>")]
    pending = parts[("invoices/gsi1", "OUTBOX#PENDING")]
    index = parts[("invoices/gsi1", "MERCHANT#<merchant #1>")]
    events = parts[("invoices/gsi1", "EVENTS#<merchant #1>")]
    tracks = parts[("tracks", "MERCHANT#<merchant #1>")]
    reads = max(parts.values(), key=lambda p: p.rcu)
    hot_item = max(loads.items.values(), key=lambda i: i.wcu)
    limit = m.tolerated_rate(load.conflict_tolerance, load.transaction_seconds)
    shard = next(c for c in conflicts(load, loads) if "merchant #1" in c.item and "#07#" in c.item)
    needed = math.ceil(shard.writes * m.TOTALS_SHARDS / limit)
    usage = m.usage_per_invoice(load, ops)
    million = m.monthly_bill(usage, 1e6, stored_months=1)
    month = m.monthly_bill(usage, load.average_rate * m.SECONDS_PER_MONTH, stored_months=12)
    outbox_share = (
        sum(
            ops[n].wcu() * f.per_invoice
            for f in m.flows(load, load.b2b_share)
            for n in f.operations
            if ops[n].function == "outbox"
        )
        / usage.wru
    )
    publish = sum(
        w.all_units * w.count * f.per_invoice
        for f in m.flows(load, load.b2b_share)
        for n in f.operations
        if ops[n].function == "outbox"
        for w in ops[n].writes
        if w.sk in ("INV#{number}", "ALW#{allowance}")
    )
    changes, changes10 = m.changes_for(load, ops), m.changes_for(load.scaled(10), ops)
    after = m.changed(ops, changes)
    after_usage = m.usage_per_invoice(load, after)
    base_after = m.loads(load, after, shards=changes.shards).partitions[("invoices", "MERCHANT#<merchant #1>")]
    a4 = m.A4_PDF / (usage.s3_bytes or 1)
    keep_events = sum(
        size + m.ITEM_OVERHEAD for size in (m.EVENT_B2C, m.EVENT_B2C, m.OUTBOX_B2C)
    )  # the event, its gsi1 copy, the finished outbox item
    items = [
        (
            f"**The sweeper's index is the hottest key of the platform.** Every outbox item of every merchant is "
            f"in gsi1 under the one key `OUTBOX#PENDING`, projected ALL, so its put, every step's move and its "
            f"removal are index writes: {pending.wcu / load.platform_rate:.1f} WCU per invoice, "
            f"**{_n(pending.wcu)} WCU/s** at {_n(load.platform_rate)} invoices/s, {pending.wcu / m.PARTITION_WCU:.1f}× "
            "a partition's limit, on a sort key that grows with time (no split can spread it). A throttled index "
            "throttles the table writes that feed it: every issue. Fix: a sparse index of its own, KEYS_ONLY (a "
            "step's move then writes nothing to it), keyed `OUTBOX#PENDING#<n>` with n = hash(number) mod "
            f"{changes.outbox_shards} ({changes10.outbox_shards} at 10×); the sweeper queries each shard."
        ),
        (
            f"**The largest merchant's invoice list (gsi1 `MERCHANT#<ubn>`) is over the limit too:** "
            f"{_n(index.wcu)} WCU/s ({index.wcu / m.PARTITION_WCU:.1f}×), time-ordered. Its invoice is rewritten "
            "by the outbox after every step (two updates each: make sure the maps exist, set the key), each a "
            f"full copy into gsi1 (and gsi2 for B2B): {publish:.1f} of the {usage.wru:.1f} write units of an "
            "invoice. Fix: show the outbox's results on the invoice once, at the end of the pass, and shard "
            f"gsi1's key (`MERCHANT#<ubn>#<n>`, {changes.invoice_index_shards} at 1×, "
            f"{changes10.invoice_index_shards} at 10×; a list queries the shards and merges by date). Its "
            f"events' list (`EVENTS#<ubn>`, {_n(events.wcu)} WCU/s) is over the limit past "
            f"{m.PARTITION_WCU / events.wcu:.1f}× and is sharded the same way."
        ),
        (
            f"**The largest merchant's own partition key (`MERCHANT#<ubn>` in the invoices table) takes "
            f"{_n(base.wcu)} WCU/s**, {base.wcu / m.PARTITION_WCU:.1f}× one partition; the proposed changes "
            f"leave {base_after.wcu / base.wcu:.0%} of it. Its sort keys are spread (invoice numbers from "
            f"{first.channels:,} tills' booklets, random event ids), so DynamoDB can split it by sort key, but only "
            "after sustained load (split for heat, ⚠️ minutes, not documented as guaranteed): a morning rush on "
            "a cold table may throttle first. Past 10× put invoices under `MERCHANT#<ubn>#<hash(number) mod n>` "
            "(a read by number computes n; lists use gsi1)."
        ),
        (
            f"**The totals shards are the hottest items written in transactions.** The largest merchant's "
            f"{m.TOTALS_SHARDS} shards take "
            f"{shard.writes:.1f} transactional writes/s each: a {shard.probability:.0%} chance that an issue "
            f"meets another on its shard (t = {load.transaction_seconds * 1000:.0f} ms), "
            f"{m.attempts(shard.probability):.2f} attempts per issue, over the {load.conflict_tolerance:.0%} the "
            f"retries are sized for (λ ≤ {limit:.1f}/s). "
            f"It needs ≥ {needed} shards; the filing guard's one transaction allows at most "
            f"{(m.TRANSACTION_ACTIONS - 3) // 3} (3 × S + 3 ≤ 100 actions): use 32. Past ~{32 * limit:.0f} "
            "invoices/s for one merchant no shard count is enough: the totals must leave the issuing "
            "transaction (added from the table's stream, idempotent per sequence number)."
        ),
        (
            f"**One counter per channel is enough for tills** ({first.rate / first.channels:.3f} invoices/s each), "
            f"**not for a web shop on one API channel**: above {limit:.0f} invoices/s on one channel more than "
            f"{load.conflict_tolerance:.0%} of issues lose the race, and one counter cannot pass ~"
            f"{1 / load.transaction_seconds:.0f}/s at all (see the table). The lead's booklets in parallel per "
            f"channel fix it: ⌈λ / {limit:.1f}⌉ of them."
        ),
        (
            f"**The hottest single item** is `{hot_item.key}` ({hot_item.table}): {hot_item.writes:.0f} conditional "
            f"updates/s ({_n(hot_item.wcu)} WCU/s of the 1,000 one item can take) if all the largest chain's tills "
            "share one API key; outside any transaction, so it never conflicts, only serialises. One key per store "
            "(or per store group) spreads it."
        ),
        (
            f"**Reads are far from their limit:** the hottest read key is `{reads.key}` ({reads.table}) at "
            f"{_n(reads.rcu)} RCU/s of 3,000. The tracks partition of the largest merchant (its "
            f"{first.channels:,} counters) takes {_n(tracks.wcu)} WCU/s: it fits until "
            f"{m.PARTITION_WCU / tracks.wcu:.1f}×, then splits by channel (its sort keys are spread)."
        ),
        (
            f"**Whole tables:** the invoices table needs {_n(loads.tables['invoices'].wcu)} WCU/s at the peak hour, "
            f"{loads.tables['invoices'].wcu / m.TABLE_ON_DEMAND_UNITS:.0%} of DynamoDB's default on-demand quota "
            "per table: raise the quota (and set warm throughput, ⚠️) before launch."
        ),
        (
            f"**The bill: ${sum(million.values()):,.0f} per million invoices** (a month of storage included), "
            f"**${sum(month.values()):,.0f} a month** at {_n(load.average_rate)}/s in the first year. DynamoDB "
            f"writes are the largest line ({usage.wru:.1f} write units per invoice; the outbox pass is "
            f"{outbox_share:.0%} of them), then storage, which grows every month: "
            f"{usage.ddb_bytes / 1024:.1f} KB per invoice in DynamoDB "
            f"(+{m.PRICES['pitr'].usd / m.PRICES['ddb_storage'].usd:.0%} for point-in-time recovery) and "
            f"{usage.s3_bytes / 1024:.0f} KB in S3, {a4:.0%} of it the A4 PDF. The changes above bring the writes "
            f"to {after_usage.wru:.1f} units per invoice. Events and finished outbox items are kept for good "
            f"(~{keep_events / 1024:.1f} KB per invoice): a TTL on them, the A4 PDF rendered on request instead "
            "of stored for B2C, and the HTTP API instead of the REST API (⚠️ about a third of the price) are the "
            "next savings."
        ),
    ]
    return "\n\n".join(["### Findings", "\n".join(f"{i}. {text}" for i, text in enumerate(items, 1))])


def paper(load: m.Workload) -> str:
    ops = m.operations(load.lease, load.order_id_share)
    loads = m.loads(load, ops)
    return "\n\n".join(
        [
            findings_section(load),
            workload_section(load),
            operations_section(load, ops),
            partitions_section(load, loads, f"### Hottest partitions at {_n(load.platform_rate)} invoices/s"),
            conflicts_section(load, loads, ops),
            cost_section(load, ops),
            tenfold_section(load, ops),
            changes_section(load),
        ]
    )


# --- the checks against the code and DynamoDB Local ------------------------------------------------------


@dataclass
class Checked:
    differences: list[str]
    traced_operations: int
    accesses: int
    metered_calls: int
    computed_units: float
    metered_units: float
    meter_differences: list[str]
    sim: Any  # bench.scale_sim.SimResult

    @property
    def key_mismatches(self) -> list[tuple[str, str, str, int, int]]:
        return [row for row in self.sim.rows if row[3] != row[4]] + [
            (kind, table, "", want, got)
            for kind, (table, want, got) in (("total", t) for t in self.sim.totals)
            if want != got
        ]


def run_checks(load: m.Workload, *, seconds: float = 20.0) -> Checked:
    """The trace and the simulation, against the local parts already running."""
    from bench.scale_sim import simulate
    from bench.scale_trace import compare, meter_check, run_trace

    traced = run_trace()
    differences = [d.text for d in compare(traced, m.operations(lease=1, orders=0))]
    meter = meter_check(traced)
    accesses = sum(len(c.accesses) + (c.service != "dynamodb") for calls in traced.operations.values() for c in calls)
    sim = simulate(load, seconds=seconds)
    return Checked(
        differences,
        len(traced.operations),
        accesses,
        meter.calls,
        meter.computed,
        meter.metered,
        list(meter.differing),
        sim,
    )


def checks_section(checked: Checked, machine: str) -> str:
    sim = checked.sim
    rows = [
        (
            kind,
            f"`{where}`",
            f"`{key}`",
            f"{want:,}",
            f"{got:,}",
            f"{got / want:.2f}" if want else ("—" if not got else "∞"),
        )
        for kind, where, key, want, got in sim.rows
    ]
    totals = [(f"`{t}`", f"{want:,}", f"{got:,}", f"{got / want:.2f}" if want else "—") for t, want, got in sim.totals]
    ramp = ", ".join(f"{threads} threads {rate:.1f}/s" for threads, rate in sim.ramp)
    differences = "\n".join(f"- {d}" for d in checked.differences) or "none"
    meters = "\n".join(f"- {d}" for d in checked.meter_differences) or "none"
    model_share, run_share = sim.hot_share
    return "\n\n".join(
        [
            f"### The model against the code (bench/scale_trace.py, {machine})",
            (
                f"{checked.traced_operations} operations run once each on the real code (the Chalice test client "
                "with a till's API key, the real rate limiter, the outbox processor) against DynamoDB Local and "
                f"moto: {checked.accesses} item accesses and calls recorded and compared one by one (table, index, "
                "partition key, sort key, kind, transactional, count and units) with the model's. "
                f"Differences: {len(checked.differences)}."
            ),
            differences,
            (
                f"The recorder's units (from each item before and after) against DynamoDB Local's own metering "
                f"(ReturnConsumedCapacity=INDEXES) on {checked.metered_calls} non-transactional calls: "
                f"{checked.computed_units:g} against {checked.metered_units:g}. Differences:"
            ),
            meters,
            "DynamoDB Local meters a whole TransactWriteItems as if it were one item (three 20-byte puts in one "
            "transaction meter 2.0, not the documented 6), so transactions are sized by the documented rule alone.",
            f"### The key distribution on DynamoDB Local (bench/scale_sim.py, {machine})",
            (
                f"Short ramp ({ramp}), then {sim.threads} threads for {sim.seconds:.0f} s: **{sim.flows:,} flows, "
                f"{sim.invoices:,} invoices, {sim.invoices_per_second:.1f} invoices/s, "
                f"{sim.requests_per_second:.0f} DynamoDB requests/s** (each invoice is one transaction and ~20 single "
                f"writes and reads). The largest merchant took {run_share:.1%} of the invoices table's writes "
                f"(the model at full scale: {model_share:.1%}). Read back per key (Σ of each item's write counter; for "
                f"an index, the entries left and Σ of their counters) against the model's prediction for the flows "
                f"that ran:"
            ),
            table(("count", "table / index", "partition key", "model", "read back", "ratio"), rows),
            table(("table (Σ over every item)", "model", "read back", "ratio"), totals),
            (
                f"Conflict probe: {sim.conflicts[0]:,} transactions from 8 threads on one item; DynamoDB Local "
                f"cancelled {sim.conflicts[1]:,} for a conflict. It runs transactions one at a time, so it cannot "
                "show conflicts: the conflict table above is paper only."
            ),
        ]
    )


# --- the document -----------------------------------------------------------------------------------------


def rewrite(doc: Path, begin: str, end: str, body: str) -> None:
    text = doc.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise ValueError(f"{doc} has no {begin} … {end} section")
    text = pattern.sub(lambda _: f"{begin}\n\n{body}\n\n{end}", text)
    doc.write_text(text, encoding="utf-8")


def _machine() -> str:
    from bench.harness import machine

    info = machine()
    return f"{info['cpu']}, {info['cores']} cores, {info['date'][:10]}"


def figures(checked: Checked) -> list[Figure]:
    sim = checked.sim
    rates = [rate for _, rate in sim.ramp]
    return [
        Figure(
            benchmark="scale",
            name="model's key distribution on DynamoDB Local",
            unit="invoices/s",
            median=sim.invoices_per_second,
            spread=(min(rates), max(rates)),
            runs=1,
            baseline_name=f"the same flows from {sim.ramp[0][0]} threads (the ramp's first step)",
            baseline=sim.ramp[0][1],
            higher_is_better=True,
            notes=(
                f"{sim.requests_per_second:.0f} DynamoDB requests/s from {sim.threads} threads; write counts read "
                "back per key against the model's (docs/scale.md). The model itself was checked against the code "
                "access by access, and against DynamoDB Local's metering."
            ),
            checks={
                "model-vs-code differences": len(checked.differences),
                "metering differences": len(checked.meter_differences),
                "key count mismatches": len(checked.key_mismatches),
            },
            checked=f"{checked.accesses} traced accesses, {len(sim.rows)} keys, {sim.flows:,} flows",
        )
    ]


def run() -> list[Figure]:
    """For bench/run.py: the local parts are running; checks, then the document."""
    load = m.Workload()
    checked = run_checks(load)
    rewrite(DOC, BEGIN, END, paper(load))
    rewrite(DOC, CHECKS_BEGIN, CHECKS_END, checks_section(checked, _machine()))
    print(paper(load))
    print(checks_section(checked, _machine()))
    return figures(checked)


def main(argv: Sequence[str]) -> int:
    load = m.Workload()
    if "--paper" in argv:
        rewrite(DOC, BEGIN, END, paper(load))
        print(paper(load))
        return 0
    from bench.run import main as run_benchmarks

    return run_benchmarks(["scale"])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""What rate limiting adds to a request, measured in the same run with it on and off.

1. ``POST /v1/invoices`` through the Chalice test client with the container's real limiter (leases
   over DynamoDB Local: client IP, API key and the key's issue limit are counted on every request)
   against the same request with a limiter that grants everything without looking. The two are
   interleaved in blocks so that DynamoDB Local's warm-up and the table's growth hit both alike.
2. The limiter alone for one busy subject: ``RateLimiter.check`` (leases) against asking DynamoDB
   for every request (``DynamoRateLimits.take`` of one), the design leasing replaced.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench.fixtures import B2C_BODY, ready_merchant
from bench.harness import Figure
from bench.issuing import _aws_calls

BLOCKS = 15
PER_BLOCK = 20  # requests per block; on and off alternate block by block
WARMUP = 20
CHECKS = 2000  # limiter calls per variant in the second figure


class _Unlimited:
    """A limiter that grants every request without any bookkeeping: the "off" baseline."""

    def check(self, policy, subject):  # type: ignore[no-untyped-def]  # duck-typed RateLimiter.check
        from chalicelib.services.rate_limiter import Decision

        return Decision(policy, True, policy.burst, 0)


@contextmanager
def _transaction_sizes() -> Iterator[list[int]]:
    """How many items each TransactWriteItems made meanwhile carried."""
    import botocore.client

    sizes: list[int] = []
    original = botocore.client.BaseClient._make_api_call

    def counted(client: Any, operation: str, params: Any) -> Any:
        if operation == "TransactWriteItems":
            sizes.append(len(params["TransactItems"]))
        return original(client, operation, params)

    botocore.client.BaseClient._make_api_call = counted
    try:
        yield sizes
    finally:
        botocore.client.BaseClient._make_api_call = original


def _request_figures() -> list[Figure]:
    from chalice.test import Client

    from app import app
    from chalicelib.api import deps

    total = BLOCKS * PER_BLOCK * 2 + WARMUP
    _ubn, token = ready_merchant(booklets=total // 50 + 1)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    body = json.dumps(B2C_BODY)
    real = deps.rate_limiter()
    times: dict[str, list[float]] = {"on": [], "off": []}
    updates = {"on": 0, "off": 0}
    with (
        Client(app, stage_name="local") as client,
        _aws_calls() as calls,
        _transaction_sizes() as sizes,
    ):

        def post() -> float:
            started = time.perf_counter()
            response = client.http.post("/v1/invoices", headers=headers, body=body)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 201:
                raise RuntimeError(f"{response.status_code}: {response.body!r}")
            return elapsed

        for _ in range(WARMUP):
            post()
        try:
            for _block in range(BLOCKS):
                for mode in ("on", "off"):
                    deps._rate_limiter = real if mode == "on" else _Unlimited()  # type: ignore[assignment]
                    before = len(calls.get("UpdateItem", []))
                    times[mode].extend(post() for _ in range(PER_BLOCK))
                    updates[mode] += len(calls.get("UpdateItem", [])) - before
        finally:
            deps._rate_limiter = real
    on, off = times["on"], times["off"]
    # UpdateItem calls the limiter made: those of the on blocks beyond the off blocks' (which come
    # from elsewhere in the request, e.g. an API key's last-used time).
    per_request = (updates["on"] - updates["off"]) / len(on)
    added = statistics.median(on) - statistics.median(off)
    items = sorted(set(sizes))
    return [
        Figure(
            benchmark="rate limits",
            name="POST /v1/invoices, limits on, median",
            unit="ms",
            median=statistics.median(on),
            spread=(min(on), max(on)),
            runs=len(on),
            baseline_name="the same request with limits off (a limiter granting everything), median",
            baseline=statistics.median(off),
            higher_is_better=False,
            target="adds under 2 ms to the median",
            notes=(
                f"Added to the median: {added:.2f} ms. Three limits are counted per request (client IP, API "
                f"key, the key's issue limit); the limiter made {per_request:.2f} DynamoDB UpdateItem calls per "
                f"request (leases). Interleaved in blocks of {PER_BLOCK}; {WARMUP} warm-up requests first; the "
                "outbox wake-ups are consumed meanwhile, so moto's growing queue does not slow later blocks. "
                f"Event writing adds nothing to the request: each issue's TransactWriteItems held {items} items "
                "(counter, invoice, totals, outbox), the outbox item being the events' source, which the "
                "worker turns into events after the commit (docs/events.md)."
            ),
            extra={
                "added_ms": round(added, 3),
                "limiter_updates_per_request": round(per_request, 3),
                "transact_items_per_issue": items,
            },
        )
    ]


def _limiter_figure() -> Figure:
    from chalicelib.adapters.dynamo_rate_limits import DynamoRateLimits
    from chalicelib.api import deps
    from chalicelib.domain.rate_limits import Policy
    from chalicelib.services.rate_limiter import RateLimiter, micros

    # Generous enough that neither variant is ever refused while measuring.
    policy = Policy("bench", burst=100_000, per_minute=10_000_000)
    store = DynamoRateLimits()
    limiter = RateLimiter(store=store, clock=deps.clock)
    leased_subject = f"bench-{uuid.uuid4().hex}"
    direct_subject = f"bench-{uuid.uuid4().hex}"
    leased: list[float] = []
    direct: list[float] = []
    for index in range(CHECKS + WARMUP):
        started = time.perf_counter()
        if not limiter.check(policy, leased_subject).allowed:
            raise RuntimeError("refused while measuring")
        middle = time.perf_counter()
        store.take(policy, direct_subject, micros(deps.clock), 1, busy=True)
        ended = time.perf_counter()
        if index >= WARMUP:
            leased.append((middle - started) * 1000)
            direct.append((ended - middle) * 1000)
    return Figure(
        benchmark="rate limits",
        name="one limit counted, leased (RateLimiter.check), mean",
        unit="ms",
        median=statistics.mean(leased),
        spread=(min(leased), max(leased)),
        runs=len(leased),
        baseline_name="one DynamoDB UpdateItem per request (DynamoRateLimits.take of 1), mean",
        baseline=statistics.mean(direct),
        higher_is_better=False,
        target="a small fraction of one UpdateItem",
        notes=(
            "Means, not medians: most leased checks are served from memory in microseconds and the cost is "
            "the occasional UpdateItem that takes the next lease, so the mean is the honest per-request "
            f"figure (leased median {statistics.median(leased) * 1000:.0f} µs; one UpdateItem's median "
            f"{statistics.median(direct):.2f} ms). Burst 100,000, so leases grow to their cap of 50."
        ),
    )


def run() -> list[Figure]:
    return [*_request_figures(), _limiter_figure()]

"""Issue latency through the whole API (Chalice test client → DynamoDB Local), per invoice, against
the floor: one bare TransactWriteItems of the same four items (counter, invoice, totals, outbox)."""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench.fixtures import B2C_BODY, bare_issue, ready_merchant
from bench.harness import Figure

COUNT = 300
WARMUP = 20


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@contextmanager
def _aws_calls() -> Iterator[dict[str, list[float]]]:
    """Time every AWS call made meanwhile, by operation (wall ms, botocore's own work included)."""
    import botocore.client

    calls: dict[str, list[float]] = defaultdict(list)
    original = botocore.client.BaseClient._make_api_call

    def timed(client: Any, operation: str, params: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(client, operation, params)
        finally:
            calls[operation].append((time.perf_counter() - started) * 1000)

    botocore.client.BaseClient._make_api_call = timed
    try:
        yield calls
    finally:
        botocore.client.BaseClient._make_api_call = original


def _api_latencies() -> tuple[list[float], str, str, dict[str, list[float]]]:
    from chalice.test import Client

    from app import app

    ubn, token = ready_merchant(booklets=(COUNT + WARMUP) // 50 + 1)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    body = json.dumps(B2C_BODY)
    latencies = []
    number = ""
    with Client(app, stage_name="local") as client, _aws_calls() as calls:
        for index in range(COUNT + WARMUP):
            if index == WARMUP:
                calls.clear()
            started = time.perf_counter()
            response = client.http.post("/v1/invoices", headers=headers, body=body)
            elapsed = time.perf_counter() - started
            if response.status_code != 201:
                raise RuntimeError(response.body)
            number = json.loads(response.body)["invoice_number"]
            if index >= WARMUP:
                latencies.append(elapsed * 1000)
    return latencies, ubn, number, dict(calls)


def _steps(api: list[float], calls: dict[str, list[float]]) -> str:
    """Where a request's time goes: AWS calls per request and their mean, and the rest."""
    per_request = {op: sum(times) / len(api) for op, times in calls.items()}
    shown = [
        f"{op} {len(calls[op]) / len(api):.2f}×, {per_request[op]:.1f} ms"
        for op in sorted(per_request, key=lambda op: -per_request[op])
        if per_request[op] >= 0.05
    ]
    rest = statistics.mean(api) - sum(per_request.values())
    return "; ".join([*shown, f"everything else {rest:.1f} ms"])


def _floor_latencies(ubn: str, number: str) -> list[float]:
    write = bare_issue(ubn, number)
    latencies = []
    for index in range(COUNT + WARMUP):
        started = time.perf_counter()
        write(index)
        if index >= WARMUP:
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def run() -> list[Figure]:
    api, ubn, number, calls = _api_latencies()
    floor = _floor_latencies(ubn, number)
    figures = []
    for label, pick in (("median", statistics.median), ("p99", lambda v: _p(v, 0.99))):
        figures.append(
            Figure(
                benchmark="issue latency",
                name=f"POST /v1/invoices, {label}",
                unit="ms",
                median=pick(api),
                spread=(min(api), max(api)),
                runs=len(api),
                baseline_name=f"bare TransactWriteItems of the same 4 items, {label}",
                baseline=pick(floor),
                higher_is_better=False,
                target="within 1.5× of the floor",
                notes=(
                    f"Per request, mean of this run: {_steps(api, calls)} (AWS calls in wall time, botocore's "
                    "signing and parsing included). A warm container reads nothing: the counter is remembered "
                    "from its last issue and checked by the transaction's condition, the profile is "
                    "remembered for 5 s (services/issuing_cache.py); the session check reads only once "
                    "per 5 s per session. No wake-up is "
                    "sent: the outbox item's write reaches the outbox function through the invoices "
                    "table's stream. Everything else: JWT check, validation, amounts, the AES QR field, the "
                    "item, JSON and the Chalice test client."
                    if label == "median"
                    else ""
                ),
            )
        )
    return figures

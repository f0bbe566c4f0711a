"""Issue latency through the whole API (Chalice test client → DynamoDB Local), per invoice, against
the floor: one bare TransactWriteItems of the same four items (counter, invoice, totals, outbox)."""

from __future__ import annotations

import json
import statistics
import time

from bench.fixtures import B2C_BODY, bare_issue, ready_merchant
from bench.harness import Figure

COUNT = 300
WARMUP = 20


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _api_latencies() -> tuple[list[float], str, str]:
    from chalice.test import Client

    from app import app

    ubn, token = ready_merchant(booklets=(COUNT + WARMUP) // 50 + 1)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    body = json.dumps(B2C_BODY)
    latencies = []
    number = ""
    with Client(app, stage_name="local") as client:
        for index in range(COUNT + WARMUP):
            started = time.perf_counter()
            response = client.http.post("/v1/invoices", headers=headers, body=body)
            elapsed = time.perf_counter() - started
            if response.status_code != 201:
                raise RuntimeError(response.body)
            number = json.loads(response.body)["invoice_number"]
            if index >= WARMUP:
                latencies.append(elapsed * 1000)
    return latencies, ubn, number


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
    api, ubn, number = _api_latencies()
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
                    "The API also reads the profile and the counter, verifies the session, computes amounts, "
                    "the AES QR field and the payloads, and renders JSON."
                    if label == "median"
                    else ""
                ),
            )
        )
    return figures

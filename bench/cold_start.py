"""Cold start: importing `app` in a fresh interpreter, against importing boto3 alone."""

from __future__ import annotations

import statistics
import subprocess
import sys

from bench.harness import Figure

RUNS = 7


def _import_ms(statement: str) -> float:
    code = f"import time; t=time.perf_counter(); {statement}; print((time.perf_counter()-t)*1000)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def run() -> list[Figure]:
    app = [_import_ms("import app") for _ in range(RUNS)]
    boto = [_import_ms("import boto3") for _ in range(RUNS)]
    return [
        Figure(
            "cold start",
            "import app",
            "ms",
            statistics.median(app),
            (min(app), max(app)),
            RUNS,
            "import boto3 alone",
            statistics.median(boto),
            False,
            target="< 300 ms",
            notes="fpdf2, fontTools, segno and lxml stay out of the request path's imports.",
        ),
    ]

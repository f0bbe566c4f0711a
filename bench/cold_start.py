"""Cold start: `import app` in a fresh interpreter set up as Lambda sets up the API function, against
`import boto3` alone in the same set-up; and the first request that follows.

The interpreter does not inherit the benchmark runner's environment (which turns tracing off and
points at the local parts). It gets what Lambda gives the function: LAMBDA_TASK_ROOT,
AWS_LAMBDA_FUNCTION_NAME, AWS_EXECUTION_ENV and AWS_REGION, and the stage's variables from
.chalice/config.json. Stage `prod` has `xray: true` and no POWERTOOLS_TRACE_DISABLED, so there the
Powertools Tracer loads the X-Ray SDK; the second figure is the same function with tracing off.

Bytecode: Lambda cannot write any (its code is read-only), so it runs what the package ships.
`make package` adds it (infra/bytecode.py); each variant is imported once into a private pycache
before it is timed, which gives every module bytecode, as that package does. The third figure
compiles every module from source instead: what Lambda did with the zips `chalice package` makes.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.harness import Figure

RUNS = 7
FIRST_REQUEST_RUNS = 5
ROOT = Path(__file__).resolve().parent.parent
STAGE = "prod"
LAMBDA_RUNTIME = {
    "LAMBDA_TASK_ROOT": str(ROOT),
    "AWS_LAMBDA_FUNCTION_NAME": f"einvoice-{STAGE}",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
    "AWS_REGION": "ap-northeast-1",
    "AWS_DEFAULT_REGION": "ap-northeast-1",
}
# What the timing code itself needs from the runner's environment (the local parts' endpoints and
# credentials only matter to the first-request figure).
_PASSED_ON = ("PATH", "HOME", "LANG", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "SECRET_KEY")


def stage_environment(stage: str) -> dict[str, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    return {**config.get("environment_variables", {}), **config["stages"][stage].get("environment_variables", {})}


def _environment(pycache: str, *, tracing: bool, bytecode: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in _PASSED_ON}
    env.update(LAMBDA_RUNTIME)
    env.update(stage_environment(STAGE))
    if not tracing:
        env["POWERTOOLS_TRACE_DISABLED"] = "true"
    env["PYTHONPYCACHEPREFIX"] = pycache  # the only place bytecode is read from (and written to)
    if not bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _import_ms(statement: str, env: dict[str, str]) -> float:
    code = f"import time; t=time.perf_counter(); {statement}; print((time.perf_counter()-t)*1000)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def _imports(env: dict[str, str], warm: bool) -> tuple[list[float], list[float]]:
    if warm:  # compile everything both statements import into the private pycache
        _import_ms("import app", env)
    app, boto = [], []
    for _ in range(RUNS):  # interleaved, so a busy moment of the machine hits both alike
        app.append(_import_ms("import app", env))
        boto.append(_import_ms("import boto3", env))
    return app, boto


_FIRST_REQUEST = """
import json, os, time
started = time.perf_counter()
import app
imported = time.perf_counter()
from chalice.test import Client
headers = {"Authorization": "Bearer " + os.environ["BENCH_TOKEN"], "Content-Type": "application/json"}
times = []
with Client(app.app, stage_name="local") as client:
    for _ in range(2):
        began = time.perf_counter()
        response = client.http.post("/v1/invoices", headers=headers, body=os.environ["BENCH_BODY"])
        assert response.status_code == 201, response.body
        times.append((time.perf_counter() - began) * 1000)
print(json.dumps(times))
"""


def _first_requests(pycache: str) -> tuple[list[float], list[float]]:
    """(first, second) POST /v1/invoices in fresh interpreters, right after `import app`, tracing off,
    against the local parts (their endpoints come from the runner's environment)."""
    from bench.fixtures import B2C_BODY, ready_merchant

    _, token = ready_merchant(booklets=1)
    env = _environment(pycache, tracing=False, bytecode=True)
    env.update({k: v for k, v in os.environ.items() if k.startswith(("AWS_ENDPOINT_URL", "TRUSTED_CA"))})
    env.update({"BENCH_TOKEN": token, "BENCH_BODY": json.dumps(B2C_BODY)})
    first, second = [], []
    for _ in range(FIRST_REQUEST_RUNS):
        result = subprocess.run(
            [sys.executable, "-c", _FIRST_REQUEST], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        )
        one, two = json.loads(result.stdout.strip().splitlines()[-1])
        first.append(one)
        second.append(two)
    return first, second


def _figure(name: str, app: list[float], boto: list[float], notes: str = "") -> Figure:
    return Figure(
        "cold start",
        name,
        "ms",
        statistics.median(app),
        (min(app), max(app)),
        len(app),
        "import boto3 alone, same set-up",
        statistics.median(boto),
        False,
        target="< 300 ms",
        notes=notes,
    )


def run() -> list[Figure]:
    with tempfile.TemporaryDirectory() as traced, tempfile.TemporaryDirectory() as plain:
        with tempfile.TemporaryDirectory() as empty:
            source = _imports(_environment(empty, tracing=True, bytecode=False), warm=False)
        xray = _imports(_environment(traced, tracing=True, bytecode=True), warm=True)
        untraced = _imports(_environment(plain, tracing=False, bytecode=True), warm=True)
        first, second = _first_requests(plain)
    figures = [
        _figure(
            f"import app, Lambda env of stage {STAGE} (X-Ray tracing on)",
            *xray,
            "A fresh interpreter with Lambda's variables and the prod stage's (xray: true), and bytecode for "
            "every module as `make package` ships it. The Powertools Tracer loads the X-Ray SDK (~50 ms here; "
            "its recorder builds botocore clients for sampling rules), so it is only created where tracing is on.",
        ),
        _figure(
            "import app, Lambda env, tracing off (POWERTOOLS_TRACE_DISABLED=true)",
            *untraced,
            "As above without the X-Ray SDK. Every route is registered, but lxml/MIG, PyJWT, cryptography, "
            "argon2, fpdf2 and the outbox load on first use, pydantic models build their validators on first "
            "use (defer_build), boto3 is not imported (botocore clients), and the garbage collector waits "
            "until the import is done (chalicelib/cold_start.py). What the first request needs, it loads: "
            "see the last figure.",
        ),
        _figure(
            f"import app, Lambda env of stage {STAGE}, no bytecode (compiled from source)",
            *source,
            "What Lambda did with the packages `chalice package` makes alone: /var/task and /opt are read-only, "
            "so every cold start compiled every module it imported; infra/bytecode.py now adds the bytecode.",
        ),
        Figure(
            "cold start",
            "first POST /v1/invoices after import (tracing off)",
            "ms",
            statistics.median(first),
            (min(first), max(first)),
            len(first),
            "the second request in the same interpreter",
            statistics.median(second),
            False,
            notes=(
                "The first request of a fresh interpreter, through the Chalice test client against the local "
                "parts: it creates the botocore clients, loads PyJWT and cryptography, and builds the models it uses."
            ),
        ),
    ]
    return figures

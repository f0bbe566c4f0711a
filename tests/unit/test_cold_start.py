"""What `import app` loads: every route, but no library that only some requests need (cold start).

Each check imports the app in a fresh interpreter, as Lambda does on a cold start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Imported on first use by the routes and functions that need them, never by `import app`.
ON_DEMAND = (
    "aws_xray_sdk",  # only where X-Ray tracing is on
    "lxml",
    "jwt",
    "cryptography",
    "argon2",
    "fpdf",
    "fontTools",
    "PIL",
    "segno",
    "chalicelib.documents.mig",
    "chalicelib.documents.pdf",
    "chalicelib.services.outbox",
    "chalicelib.services.mig_intake",
)

_PROBE = """
import gc, json, sys
import app
from chalicelib.observability import tracing_enabled
from chalicelib.domain.invoice_record import InvoiceRecord
loaded = sorted({name for name in sys.modules if name.split(".")[0] in ON_DEMAND_ROOTS or name in ON_DEMAND})
print(json.dumps({
    "loaded": [n for n in loaded if any(n == m or n.startswith(m + ".") for m in ON_DEMAND)],
    "routes": sum(len(methods) for methods in app.app.routes.values()),
    "middleware": len(app.app.middleware_handlers),
    "tracing": tracing_enabled(),
    "model_built": InvoiceRecord.__pydantic_complete__,
    "gc": [gc.isenabled(), gc.get_freeze_count() > 10_000],
}))
"""


def _import_app(**env: str) -> dict[str, object]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "LAMBDA_", "AWS_LAMBDA"))}
    environment.update({"SECRET_KEY": "test-secret-key-with-at-least-32-characters!", **env})
    code = f"ON_DEMAND = {ON_DEMAND!r}\nON_DEMAND_ROOTS = {{m.split('.')[0] for m in ON_DEMAND}}\n{_PROBE}"
    result = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, check=True
    )
    found: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


def test_import_app_registers_every_route_and_loads_no_on_demand_library() -> None:
    found = _import_app(POWERTOOLS_TRACE_DISABLED="true")
    assert found["loaded"] == []
    assert isinstance(found["routes"], int) and found["routes"] > 60
    assert found["tracing"] is False
    assert found["middleware"] == 3  # logger, metrics, request context: no tracer


def test_models_are_built_on_first_use_not_at_import() -> None:
    assert _import_app(POWERTOOLS_TRACE_DISABLED="true")["model_built"] is False


def test_garbage_collection_resumes_after_the_import_without_what_it_loaded() -> None:
    # chalicelib.cold_start: paused during the import, then on again with the imported objects frozen.
    assert _import_app(POWERTOOLS_TRACE_DISABLED="true")["gc"] == [True, True]


def test_in_lambda_with_tracing_on_the_tracer_wraps_every_invocation() -> None:
    found = _import_app(
        LAMBDA_TASK_ROOT=str(ROOT), AWS_LAMBDA_FUNCTION_NAME="einvoice-dev", AWS_REGION="ap-northeast-1"
    )
    assert found["tracing"] is True
    assert found["middleware"] == 4
    assert isinstance(found["loaded"], list)
    assert {name.split(".")[0] for name in found["loaded"]} == {"aws_xray_sdk"}

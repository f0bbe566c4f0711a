"""Shared fixtures. Unit tests need none of them; integration and API tests get DynamoDB Local
(in memory) and moto's server, started once per test session on free ports."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# No test may reach real AWS: fake credentials, and the Tracer off outside Lambda.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "ap-northeast-1",
        "AWS_REGION": "ap-northeast-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "EInvoice",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        # A fixed test secret: tokens, code hashes and cursors are derived from it.
        "SECRET_KEY": "test-secret-key-with-at-least-32-characters!",
        # Thousands of requests from one address and one session: the limits at 1,000× their size,
        # so that only the rate-limit tests (which lower it) meet them.
        "RATE_LIMIT_SCALE": "1000",
        # Where the invoice mail's look-up link points (deployed stages set their own domain).
        "PUBLIC_URL": "http://127.0.0.1:8000",
    }
)
for _var in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
    os.environ.pop(_var, None)


@pytest.fixture(scope="session")
def test_ca() -> object:
    """The CA trusted for certificate sign-up in tests (the MOEA CA's stand-in)."""
    from tests.unit.security.certs import make_ca

    return make_ca("Test MOEA CA")


@pytest.fixture(scope="session")
def local_aws(test_ca) -> Iterator[object]:
    from infra.local import running

    with running(stage="local") as stack:
        os.environ.update(stack.environment())
        os.environ["TRUSTED_CA_PEMS"] = test_ca.pem.decode()
        yield stack


@pytest.fixture(scope="session")
def local_http_server(local_aws: object) -> Iterator[str]:
    """The app behind the same HTTP server `make run` uses, on a free port: its base URL."""
    import threading

    from infra.run import local_server

    server = local_server(0)
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server.server_address[1]}"
    finally:
        server.server.shutdown()
        server.server.server_close()

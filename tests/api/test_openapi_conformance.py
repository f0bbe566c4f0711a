"""Schemathesis against the served `/openapi.json`, over real HTTP to the server `make run` uses.

Requests are generated from the documented schemas (valid and invalid), as four callers: anonymous
on every route, a signed-in merchant on the merchant routes, an API key holding every scope on the
routes that name a scope, and tax-office staff on the staff routes. Every answer must be a non-5xx
whose status, content type, headers and body are the ones the document promises. The example count
per operation is bounded (EXAMPLES) so the run stays within a minute or two.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from requests.adapters import HTTPAdapter
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import post_json, sign_up_merchant
from tests.api.test_route_access import SCOPES

EXAMPLES = int(os.environ.get("CONFORMANCE_EXAMPLES", "10"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
SOURCE_ADDRESS = "127.0.0.77"
# Ending the caller's own session would turn the rest of the run into 401s.
ENDS_SESSION = r"^/v1/auth/(staff/)?logout$"


class _FromAddress(HTTPAdapter):
    """Connects from its own loopback address: the server sees its own client IP, so the failed
    sign-ins this run makes count against that address, not against the rest of the suite's."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["source_address"] = (SOURCE_ADDRESS, 0)
        super().init_poolmanager(*args, **kwargs)


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        s.mount("http://", _FromAddress())
        yield s


@pytest.fixture(scope="module")
def api_schema(local_http_server: str) -> Any:
    return schemathesis.openapi.from_url(f"{local_http_server}/openapi.json")


@pytest.fixture(scope="module")
def callers(client, staff_headers, local_http_server) -> dict[str, dict[str, str]]:
    from tests.api.test_invoices import make_issuer

    issuer = make_issuer(client, staff_headers, functools.partial(sign_up_merchant, client, staff_headers))
    key = post_json(client, "/v1/api-keys", {"name": "fuzz", "scopes": list(SCOPES)}, issuer.headers)
    return {
        "anonymous": {},
        "merchant": issuer.headers,
        "api_key": {"X-Api-Key": json.loads(key.body)["api_key"]},
        "staff": staff_headers,
    }


def _operations() -> list[tuple[str, str, Any]]:
    """(method, path, security) of every documented operation, read at collection time."""
    from app import app
    from chalicelib.api.openapi import build_openapi

    spec = build_openapi(app)
    return [
        (method.upper(), path, operation.get("security") or [])
        for path, methods in sorted(spec["paths"].items())
        for method, operation in sorted(methods.items())
    ]


OPERATIONS = _operations()


def _for(caller: str) -> list[tuple[str, str]]:
    chosen = []
    for method, path, security in OPERATIONS:
        staff_route = path.startswith("/v1/admin/") or path == "/v1/auth/staff/logout"
        if caller == "anonymous":
            keep = True
        elif caller == "staff":
            keep = staff_route
        elif caller == "api_key":
            keep = any("apiKey" in requirement for requirement in security)
        else:
            keep = not staff_route
        if caller != "anonymous" and re.match(ENDS_SESSION, path):
            keep = False
        if keep:
            chosen.append((method, path))
    return chosen


CASES = [
    (caller, method, path) for caller in ("anonymous", "merchant", "api_key", "staff") for method, path in _for(caller)
]


@pytest.mark.parametrize(("caller", "method", "path"), CASES, ids=[f"{c}-{m}-{p}" for c, m, p in CASES])
def test_every_answer_is_the_documented_one(api_schema, session, callers, caller, method, path):
    operation = api_schema[path][method]
    strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=strategy)
    def run(case: Any) -> None:
        case.call_and_validate(session=session, headers=callers[caller], checks=CHECKS)

    run()

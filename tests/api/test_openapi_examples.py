"""The OpenAPI document shows what to send: an example of every request body and response that is
valid for its own schema, every header the routes read, and the formats of the files and keys a user
must produce."""

from __future__ import annotations

import inspect
from typing import Any

import jsonschema
import pytest

from chalicelib.api.routing import OPERATIONS
from tests.api.conftest import body_of


@pytest.fixture(scope="module")
def spec(client) -> dict[str, Any]:
    return body_of(client.http.get("/openapi.json"))


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, obj) for path, methods in spec["paths"].items() for method, obj in methods.items()]


def _validate(spec: dict[str, Any], schema: dict[str, Any], instance: Any) -> None:
    # Component references resolve against the document itself.
    jsonschema.validate(instance, {**schema, "components": spec["components"]}, cls=jsonschema.Draft202012Validator)


def test_every_request_body_and_response_has_an_example_valid_for_its_schema(spec):
    bodies = responses = 0
    by_route = {(op.method, op.path): op for op in OPERATIONS}
    for method, path, obj in _operations(spec):
        for content in obj.get("requestBody", {}).get("content", {}).values():
            if "$ref" not in content["schema"]:
                continue  # a document body (CSV, XML) described in words
            assert "example" in content, (method, path)
            _validate(spec, content["schema"], content["example"])
            # The route's own model accepts it too (its validators, not only its shape).
            by_route[(method, path)].body.model_validate(content["example"])  # type: ignore[union-attr]
            bodies += 1
        for status, answer in obj["responses"].items():
            for content in answer.get("content", {}).values():
                if status.startswith("2") and "$ref" in content["schema"]:
                    assert "example" in content, (method, path, status)
                    _validate(spec, content["schema"], content["example"])
                    responses += 1
    assert bodies >= 30 and responses >= 50


def test_the_contract_examples_are_the_ones_shown(spec):
    issue = spec["paths"]["/v1/invoices"]["post"]["requestBody"]["content"]["application/json"]["example"]
    assert issue["carrier"] == {"type": "3J0002", "id": "/ABC+123"} and "buyer" in issue


def _parameters(spec: dict[str, Any], method: str, path: str) -> dict[str, dict[str, Any]]:
    obj = spec["paths"][path][method.lower()]
    return {p["name"]: p for p in obj.get("parameters", []) if p["in"] == "header"}


def test_every_route_that_reads_idempotency_key_declares_it(client, spec):
    from app import app

    readers = set()
    for path, methods in app.routes.items():
        for method, entry in methods.items():
            view = getattr(entry.view_function, "__wrapped__", None)
            if view is not None and "idempotency_key(" in inspect.getsource(view):
                readers.add((method, path))
    assert {("POST", "/v1/invoices"), ("POST", "/v1/allowances"), ("POST", "/v1/filings/{period}/submit")} <= readers
    for method, path in readers:
        header = _parameters(spec, method, path).get("Idempotency-Key")
        assert header is not None, (method, path)
        assert "255" in header["description"] and "IDEMPOTENCY_KEY_REUSED" in header["description"]


def test_the_other_headers_are_declared(spec):
    for method, path, obj in _operations(spec):
        if path == "/openapi.json" or "x-console" in obj:
            continue
        declared = _parameters(spec, method, path)
        if any(op.method == method and op.path == path for op in OPERATIONS):
            assert "X-Request-Id" in declared, (method, path)
        if any("apiKey" in scheme for scheme in obj.get("security", [])):
            assert "X-Api-Key" in declared, (method, path)
    notify = _parameters(spec, "POST", "/v1/payments/notify")
    assert {"X-Merchant-Ubn", "X-Timestamp", "X-Signature"} <= set(notify)


def test_the_formats_a_user_must_produce_are_documented_where_they_are_sent(spec):
    tracks = spec["paths"]["/v1/tracks/import"]["post"]["description"]
    assert "InvoiceAssignNo" in tracks  # the E0501 root element
    assert "113/11 ~ 113/12" in tracks and "begin number" in tracks  # the CSV layout
    certificate = spec["paths"]["/v1/registrations/certificate"]["post"]["description"]
    assert "serialNumber" in certificate and "2.5.4.5" in certificate and "TRUSTED_CA_FILE" in certificate
    merchant = spec["paths"]["/v1/merchant"]["patch"]
    text = str(spec["components"]["schemas"]) + str(merchant)
    assert "32 hexadecimal" in text and "AES-128" in text

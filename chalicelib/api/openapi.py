"""OpenAPI 3.1 built from the registered routes and their pydantic models.

Every Chalice route appears but the web console's pages; routes declared with ``operation`` carry
their request, query and response schemas, so the document grows with the code and cannot drift
from it.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from chalice.app import Chalice
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chalicelib.api import rate_limits
from chalicelib.api.openapi_docs import FORMAT_NOTES, HEADERS, REQUEST_EXAMPLES, example_of
from chalicelib.api.routing import OPERATIONS, Operation

_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    400: "Malformed input; `error.field` names the field",
    401: "Missing or invalid credentials",
    403: "Authenticated but not allowed",
    404: "Not found (or another merchant's object)",
    409: "Conflicts with the current state",
    413: "Request body too large",
    415: "Unsupported content type",
    422: "Breaks a business rule, or Idempotency-Key reused with another body",
    429: "Rate limited; see Retry-After",
    503: "A dependency is unavailable; retry later",
}
_ALWAYS = (400, 413, 415, 429, 503)
_RATE_HEADERS = {name: {"$ref": f"#/components/headers/{name}"} for name in rate_limits.RESPONSE_HEADERS}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "message_zh"],
            "properties": {
                "code": {"type": "string", "examples": ["INVALID_UBN"]},
                "message": {"type": "string"},
                "message_zh": {"type": "string"},
                "field": {"type": ["string", "null"], "examples": ["buyer.ubn"]},
                "mof_code": {
                    "type": "string",
                    "pattern": "^E[0-9]{4}$",
                    "examples": ["E0201"],
                    "description": (
                        "The MOF's official result code (財政部電子發票平台處理結果代碼) this error stands for, "
                        "present only where one applies, e.g. E0201 duplicate message, E0209 dates and "
                        "numbers out of order, E0213 the invoice cannot be cancelled, E0221 the allowance "
                        "exceeds what remains, E0304/E0305 MIG XML that fails the official schema. "
                        "The whole mapping: docs/mof-codes.md."
                    ),
                },
            },
        }
    },
}


def _models() -> list[type[BaseModel]]:
    seen: dict[str, type[BaseModel]] = {}
    for op in OPERATIONS:
        for model in (op.body, op.response, op.query):
            if model is not None:
                seen[model.__name__] = model
    return list(seen.values())


def _query_parameters(model: type[BaseModel], refs: Refs, schemas: dict[str, Any]) -> list[dict[str, Any]]:
    # The query model's own schema lives in components (so enum references resolve there);
    # its properties become individual parameters.
    name = str(refs[(model, "validation")]["$ref"]).rsplit("/", 1)[-1]
    schema = schemas[name]
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema.get("properties", {}).items():
        params.append(
            {
                "name": name,
                "in": "query",
                "required": name in required,
                "description": prop.get("description", ""),
                "schema": {k: v for k, v in prop.items() if k not in {"title", "description"}},
            }
        )
    return params


def _header_parameters(op: Operation) -> list[dict[str, Any]]:
    """The request headers ``op`` reads: its own, X-Request-Id (every route), X-Api-Key (scoped)."""
    names = [*op.headers, "X-Request-Id", *(["X-Api-Key"] if op.scope else [])]
    return [{"name": name, "in": "header", "required": False, **HEADERS[name]} for name in dict.fromkeys(names)]


Mode = Literal["validation", "serialization"]
Refs = dict[tuple[Any, Mode], Any]


def _operation_object(op: Operation, refs: Refs, schemas: dict[str, Any]) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "summary": op.summary,
        "tags": [op.tag],
        "operationId": f"{op.method.lower()}{re.sub(r'[^A-Za-z0-9]+', '_', op.path)}".rstrip("_"),
    }
    limits = rate_limits.describe(op.auth, op.rate, op.rate_account, op.scope is not None)
    description = "\n\n".join(filter(None, (op.description, FORMAT_NOTES.get((op.method, op.path)), limits)))
    if description:
        obj["description"] = description
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", op.path)
    ]
    if op.query is not None:
        parameters += _query_parameters(op.query, refs, schemas)
    parameters += _header_parameters(op)
    if parameters:
        obj["parameters"] = parameters
    if op.body is not None:
        body_schema = refs[(op.body, "validation")]
        example = REQUEST_EXAMPLES.get(op.body.__name__)
        if example is None:
            example = example_of(body_schema, schemas, request=True)
        obj["requestBody"] = {
            "required": True,
            "content": {op.content_types[0]: {"schema": body_schema, "example": example}},
        }
    elif op.raw_body:
        # A document body (CSV, MIG XML) the view reads itself.
        obj["requestBody"] = {
            "required": True,
            "description": op.raw_body,
            "content": {ct: {"schema": {"type": "string"}} for ct in op.content_types},
        }
    success: dict[str, Any] = {"description": _STATUS_TEXT.get(op.status, "OK")}
    if op.response is not None:
        response_schema = refs[(op.response, "serialization")]
        success["content"] = {
            op.response_content_type: {
                "schema": response_schema,
                "example": example_of(response_schema, schemas, request=False),
            }
        }
    success["headers"] = _RATE_HEADERS
    responses: dict[str, Any] = {str(op.status): success}
    error_ref = {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        "headers": _RATE_HEADERS,
    }
    statuses = set(op.errors) | set(_ALWAYS)
    if op.auth != "public":
        statuses |= {401, 403, 404}
        # OpenAPI 3.1 lets a non-OAuth scheme list roles: an API key needs the named scope.
        obj["security"] = [{"bearerAuth": []}] + ([{"apiKey": [op.scope]}] if op.scope else [])
    for status in sorted(statuses):
        responses[str(status)] = {"description": _STATUS_TEXT.get(status, "Error"), **error_ref}
    responses["429"]["headers"] = {**_RATE_HEADERS, "Retry-After": {"$ref": "#/components/headers/Retry-After"}}
    obj["responses"] = responses
    return obj


def build_openapi(app: Chalice, server_url: str | None = None) -> dict[str, Any]:
    models = _models()
    modes: tuple[Mode, ...] = ("validation", "serialization")
    keys = [(model, mode) for mode in modes for model in models]
    found, defs = models_json_schema(keys, ref_template="#/components/schemas/{model}")
    refs: Refs = dict(found)
    schemas: dict[str, Any] = dict(defs.get("$defs", {}))
    schemas["Error"] = ERROR_SCHEMA

    paths: dict[str, dict[str, Any]] = {}
    documented = set()
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation_object(op, refs, schemas)
        documented.add((op.path, op.method.upper()))
    for path, methods in app.routes.items():
        for method, entry in methods.items():
            # The web console's pages are HTML for people, not part of the API (docs/console.md).
            if getattr(entry.view_function, "is_console_page", False):
                continue
            if (path, method) not in documented:
                paths.setdefault(path, {})[method.lower()] = {
                    "summary": path,
                    "responses": {"200": {"description": "OK"}},
                }

    spec: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "E-invoice platform API (電子發票平台 API)",
            "version": "1.0.0",
            "description": (
                "Issue and manage Taiwan e-invoices (電子發票). Money is a decimal string; errors are "
                '`{"error": {"code", "message", "message_zh", "field"}}`. Every response carries '
                "`X-Request-Id`; send your own to correlate logs.\n\n"
                f"{rate_limits.INTRODUCTION}\n\n{rate_limits.policy_table()}"
            ),
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
            },
            "headers": {
                name: {"description": text, "schema": {"type": "string" if name == "RateLimit-Policy" else "integer"}}
                for name, text in {**rate_limits.RESPONSE_HEADERS, "Retry-After": rate_limits.RETRY_AFTER}.items()
            },
        },
    }
    if server_url:
        spec["servers"] = [{"url": server_url}]
    return spec

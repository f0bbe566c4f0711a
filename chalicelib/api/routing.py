"""One decorator per route: registers it with Chalice, documents it for OpenAPI, parses the
request with pydantic, and maps every failure to the API's error model.

Views stay small: they receive validated models and return a model (or a Response); they
never see raw JSON and never build error bodies.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError
from chalice.app import Blueprint, Response
from pydantic import BaseModel, ValidationError

from chalicelib.api import deps, rate_limits
from chalicelib.api.authentication import authenticate
from chalicelib.api.errors import (
    ApiError,
    from_domain,
    internal_error,
    json_response,
    unavailable,
)
from chalicelib.api.json_body import parse_json
from chalicelib.domain.errors import DomainError
from chalicelib.domain.validation import invalid_input_from
from chalicelib.observability import logger
from chalicelib.security.api_keys import ApiScope
from chalicelib.security.tokens import Role

#: Who may call a route. ``public``: anyone, no credential read. ``merchant``: a merchant's signed-in
#: person (bearer token) and, only where the route names a ``scope``, an API key holding that scope.
#: ``staff``: tax-office staff. Every route states one: there is no default, so a new route cannot
#: slip out open by omission, and a merchant route that names no scope refuses every API key.
Auth = Literal["public", "merchant", "staff"]

_UNAVAILABLE_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "ServiceUnavailable",
    "InternalServerError",
    "ResourceNotFoundException",
    "NoSuchBucket",
    "SlowDown",
}


@dataclass(frozen=True)
class Operation:
    """What OpenAPI says about a route; filled by the ``operation`` decorator."""

    method: str
    path: str
    summary: str
    tag: str
    description: str = ""
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    auth: Auth = "public"
    content_types: tuple[str, ...] = ("application/json",)
    response_content_type: str = "application/json"
    errors: tuple[int, ...] = field(default=())
    scope: str | None = None
    allow_password_change: bool = False
    raw_body: str | None = None  # description of a non-JSON body the view reads itself
    # Request headers the view reads (openapi_docs.HEADERS describes each); ``idempotency_key``
    # refuses to read Idempotency-Key on a route that does not declare it, so the document cannot lag.
    headers: tuple[str, ...] = ()
    rate: rate_limits.RateClass | None = None  # which rate limit applies (api/rate_limits.py)
    rate_account: bool = False  # also limited per the account (or invoice) the body or query names


OPERATIONS: list[Operation] = []


def accepted_content_types(path: str, method: str) -> tuple[str, ...]:
    """The request content types of the route at ``path`` (its template, ``/v1/mig/{message_type}``)."""
    for op in OPERATIONS:
        if op.path == path and op.method == method:
            return op.content_types
    return ("application/json",)


_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")


def idempotency_key(request: Any) -> str | None:
    """The request's ``Idempotency-Key`` header, if any: 1-255 printable ASCII characters."""
    header = request.headers.get("idempotency-key")
    if header is None:
        return None
    key = str(header)
    if not _IDEMPOTENCY_KEY.fullmatch(key):
        raise ApiError(
            400,
            "INVALID_IDEMPOTENCY_KEY",
            "Idempotency-Key is 1-255 printable ASCII characters",
            "Idempotency-Key 須為 1 至 255 個可見 ASCII 字元",
            "Idempotency-Key",
        )
    return key


def _render(result: Any, status: int) -> Response:
    if isinstance(result, Response):
        return result
    if isinstance(result, BaseModel):
        return json_response(result.model_dump(mode="json"), status)
    return json_response(result, status)


def _infrastructure_failure(exc: Exception) -> Response:
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code not in _UNAVAILABLE_CODES:
            logger.exception("AWS call failed")
            return internal_error()
        logger.warning("dependency unavailable", extra={"aws_error": code})
        return unavailable(code)
    logger.warning("dependency unreachable", extra={"error": type(exc).__name__})
    return unavailable(type(exc).__name__)


def operation(
    bp: Blueprint,
    path: str,
    method: str = "GET",
    *,
    summary: str,
    tag: str,
    description: str = "",
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: int = 200,
    auth: Auth,
    content_types: tuple[str, ...] = ("application/json",),
    response_content_type: str = "application/json",
    errors: tuple[int, ...] = (),
    scope: str | None = None,
    allow_password_change: bool = False,
    raw_body: str | None = None,
    headers: tuple[str, ...] = (),
    rate: rate_limits.RateClass | None = None,
    rate_account: Callable[[Any], str] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``fn`` as a route. For ``auth`` other than public the view receives ``principal``;
    with ``body``/``query`` models it receives ``body``/``query``; path parameters by name.

    ``scope`` opens a merchant route to API keys that hold it; without one, keys are refused.
    ``rate`` picks the route's rate limit; ``rate_account`` names the account in the body (or, on
    a route without one, the query) that the sign-in, recovery and look-up limits also count by."""
    if scope is not None:
        if auth != "merchant":
            raise ValueError(f"{method} {path}: only merchant routes can be opened to API keys")
        ApiScope(scope)  # an unknown scope name fails at import, not at the first request
    op = Operation(
        method=method,
        path=path,
        summary=summary,
        tag=tag,
        description=description,
        body=body,
        query=query,
        response=response,
        status=status,
        auth=auth,
        content_types=content_types,
        response_content_type=response_content_type,
        errors=errors,
        scope=scope,
        allow_password_change=allow_password_change,
        raw_body=raw_body,
        headers=headers,
        rate=rate,
        rate_account=rate_account is not None,
    )

    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        OPERATIONS.append(op)

        @functools.wraps(fn)
        def view(**path_params: str) -> Response:
            request = bp.current_request
            try:
                kwargs: dict[str, Any] = dict(path_params)
                if auth == "public":
                    rate_limits.check_public(deps.request_source(request)["ip"], rate)
                else:
                    kwargs["principal"] = principal = authenticate(
                        request, role=Role(auth), scope=scope, allow_password_change=allow_password_change
                    )
                    rate_limits.check_credential(principal, rate)
                if query is not None:
                    kwargs["query"] = query.model_validate(dict(request.query_params or {}))
                if body is not None:
                    raw = request.raw_body
                    kwargs["body"] = body.model_validate(parse_json(raw.encode() if isinstance(raw, str) else raw))
                if rate_account is not None:
                    rate_limits.check_account(rate_account(kwargs.get("body", kwargs.get("query"))), rate)
                return _render(fn(**kwargs), status)
            except ApiError as exc:
                return exc.response()
            except DomainError as exc:
                return from_domain(exc)
            except ValidationError as exc:
                return from_domain(invalid_input_from(exc))
            except (BotoCoreError, ClientError) as exc:
                return _infrastructure_failure(exc)
            except Exception:
                logger.exception("unhandled error in view")
                return internal_error()

        bp.route(path, methods=[method], content_types=list(content_types))(view)
        return view

    return decorator

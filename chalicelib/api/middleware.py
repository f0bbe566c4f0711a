"""HTTP middleware: correlation id, body-size limit, and one error shape for Chalice's own errors."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from chalice.app import Request, Response

from chalicelib.api import rate_limits
from chalicelib.api.errors import CHALICE_ERRORS, JSON_CONTENT_TYPE, error_body, from_domain
from chalicelib.api.routing import accepted_content_types
from chalicelib.domain.errors import RateLimited
from chalicelib.observability import logger, metrics
from chalicelib.settings import get_settings

REQUEST_ID_HEADER = "X-Request-Id"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def _request_id(request: Request) -> str:
    supplied = request.headers.get(REQUEST_ID_HEADER.lower()) or ""
    if _VALID_REQUEST_ID.match(supplied):
        return supplied
    gateway_id = (request.context or {}).get("requestId")
    return str(gateway_id) if gateway_id else str(uuid.uuid4())


def unsupported_media_type(event: Request) -> dict[str, Any]:
    """The 415 body naming the content types the requested route accepts."""
    sent = str(event.headers.get("content-type") or "").split(";")[0].strip() or "none"
    accepted = accepted_content_types(str((event.context or {}).get("resourcePath") or event.path), event.method)
    return error_body(
        "UNSUPPORTED_MEDIA_TYPE",
        f"This route takes {' or '.join(accepted)} (Content-Type); the request was sent as {sent}.",
        f"此路徑接受的內容類型（Content-Type）為 {'、'.join(accepted)}，此請求為 {sent}。",
        "Content-Type",
    )


def _reshape_chalice_error(response: Response, event: Request) -> Response:
    """Chalice answers 405/415/400 itself as {"Code", "Message"}; give them the API's shape."""
    body = response.body
    if isinstance(body, str) and body.startswith("{"):
        try:
            body = json.loads(body)
        except json.JSONDecodeError:
            return response
    if not (isinstance(body, dict) and set(body) == {"Code", "Message"}):
        return response
    code, message_zh = CHALICE_ERRORS.get(str(body["Code"]), ("BAD_REQUEST", "請求有誤"))
    if code == "UNSUPPORTED_MEDIA_TYPE":
        # Say what this route takes: the MIG routes take XML, not the JSON the others take.
        error = unsupported_media_type(event)
    else:
        error = error_body(code, str(body["Message"]), message_zh)
    response.body = json.dumps(error, ensure_ascii=False)
    response.headers["Content-Type"] = JSON_CONTENT_TYPE
    return response


def _too_large(limit: int) -> Response:
    body = error_body(
        "PAYLOAD_TOO_LARGE",
        f"The request body exceeds {limit} bytes",
        f"請求內容超過 {limit} 位元組上限",
    )
    return Response(
        body=json.dumps(body, ensure_ascii=False),
        status_code=413,
        headers={"Content-Type": JSON_CONTENT_TYPE},
    )


def _client_ip(event: Request) -> str:
    # API Gateway's sourceIp: the peer it saw, which no header can set.
    return str(((event.context or {}).get("identity") or {}).get("sourceIp") or "unknown")


def request_context(event: Request, get_response: Callable[[Request], Response]) -> Response:
    request_id = _request_id(event)
    logger.append_keys(correlation_id=request_id, path=event.path, method=event.method)
    limit = get_settings().max_body_bytes
    raw: Any = event.raw_body
    rate_limits.begin_request()
    try:
        rate_limits.check("client-ip", f"ip:{_client_ip(event)}")
    except RateLimited as exc:
        response = from_domain(exc)
    else:
        if raw is not None and len(raw) > limit:
            response = _too_large(limit)
        else:
            response = _reshape_chalice_error(get_response(event), event)
    response.headers.update(rate_limits.headers())
    response.headers[REQUEST_ID_HEADER] = request_id
    metrics.add_metric(name="ApiRequests", unit=MetricUnit.Count, value=1)
    if response.status_code >= 500:
        metrics.add_metric(name="ApiServerErrors", unit=MetricUnit.Count, value=1)
    logger.info("request", extra={"status": response.status_code})
    return response

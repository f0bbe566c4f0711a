"""The error model of the public API: ``{"error": {code, message, message_zh, field[, mof_code]}}``.

Every 4xx the platform produces, whether from a view, a domain rule, Chalice's own routing or
API Gateway, has this one shape, so a client needs one error handler.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from chalice.app import Response

from chalicelib.api.mof_codes import mof_code_for
from chalicelib.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    RuleViolation,
    Unauthenticated,
)
from chalicelib.domain.timestamps import in_taiwan_time

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


def error_body(
    code: str, message: str, message_zh: str, field: str | None = None, *, mof_code: str | None = None
) -> dict[str, Any]:
    """The error object; ``mof_code`` (the MOF's official result code, e.g. E0201) is added where
    one applies (chalicelib/api/mof_codes.py), beside our own ``code``."""
    body: dict[str, Any] = {"code": code, "message": message, "message_zh": message_zh, "field": field}
    official = mof_code_for(code, mof_code)
    if official is not None:
        body["mof_code"] = official
    return {"error": body}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    # Serialised here (not by Chalice) so Chinese text stays readable instead of \u escapes.
    merged: dict[str, str | list[str]] = {"Content-Type": JSON_CONTENT_TYPE, **(headers or {})}
    # Every timestamp in Taiwan time (+08:00), whichever layer wrote it: see api/timestamps.py.
    return Response(body=json.dumps(in_taiwan_time(body), ensure_ascii=False), status_code=status, headers=merged)


def xml_response(
    document: bytes, filename: str, *, attachment: bool = False, headers: dict[str, str] | None = None
) -> Response:
    """A MIG document as the body, named for the browser (inline, or as a download)."""
    disposition = "attachment" if attachment else "inline"
    merged: dict[str, str | list[str]] = {
        "Content-Type": "application/xml; charset=utf-8",
        "Content-Disposition": f'{disposition}; filename="{filename}"',
        **(headers or {}),
    }
    return Response(body=document.decode("utf-8"), status_code=200, headers=merged)


def file_response(
    content: bytes, filename: str, media_type: str, *, attachment: bool = True, headers: dict[str, str] | None = None
) -> Response:
    """A text file to download (CSV, an XML list): UTF-8, named for the browser."""
    disposition = "attachment" if attachment else "inline"
    merged: dict[str, str | list[str]] = {
        "Content-Type": f"{media_type}; charset=utf-8",
        "Content-Disposition": f'{disposition}; filename="{filename}"',
        **(headers or {}),
    }
    return Response(body=content.decode("utf-8"), status_code=200, headers=merged)


class ApiError(Exception):
    """An HTTP-level error raised by the API layer itself (auth, body, query problems)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        message_zh: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.message_zh = message_zh
        self.field = field
        self.headers = headers or {}

    def response(self) -> Response:
        return json_response(
            error_body(self.code, self.message, self.message_zh, self.field), self.status, self.headers
        )


_STATUS_BY_KIND: tuple[tuple[type[DomainError], int], ...] = (
    (InvalidInput, 400),
    (RuleViolation, 422),
    (NotFound, 404),
    (Conflict, 409),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (RateLimited, 429),
)


def status_for(error: DomainError) -> int:
    for kind, status in _STATUS_BY_KIND:
        if isinstance(error, kind):
            return status
    return 422


def from_domain(error: DomainError) -> Response:
    headers: dict[str, str] = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, Unauthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="einvoice"'
    body = error_body(error.code, error.message, error.message_zh, error.field, mof_code=error.mof_code)
    return json_response(body, status_for(error), headers)


@dataclass(frozen=True)
class GatewayError:
    """An error produced before any function runs (API Gateway, or its local stand-in)."""

    response_type: str
    status: int
    code: str
    message: str
    message_zh: str


# API Gateway answers an unknown path with 403 "Missing Authentication Token"; we answer 404
# like any REST API, here and in the deployed template (infra/template.py uses this table).
GATEWAY_ERRORS: tuple[GatewayError, ...] = (
    GatewayError("MISSING_AUTHENTICATION_TOKEN", 404, "NOT_FOUND", "No such route", "查無此路徑"),
    GatewayError("RESOURCE_NOT_FOUND", 404, "NOT_FOUND", "No such route", "查無此路徑"),
    GatewayError("UNAUTHORIZED", 401, "UNAUTHENTICATED", "Authentication required", "請先登入或提供 API 金鑰"),
    GatewayError("ACCESS_DENIED", 403, "FORBIDDEN", "Not allowed", "沒有權限"),
    GatewayError("THROTTLED", 429, "RATE_LIMITED", "Too many requests, retry later", "請求過於頻繁，請稍後再試"),
    GatewayError("REQUEST_TOO_LARGE", 413, "PAYLOAD_TOO_LARGE", "Request body too large", "請求內容過大"),
    GatewayError(
        "UNSUPPORTED_MEDIA_TYPE",
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "Unsupported content type",
        "不支援的內容類型",
    ),
    GatewayError("DEFAULT_4XX", 400, "BAD_REQUEST", "Bad request", "請求有誤"),
    GatewayError(
        "DEFAULT_5XX",
        503,
        "SERVICE_UNAVAILABLE",
        "Service unavailable, retry later",
        "服務暫時無法使用，請稍後再試",
    ),
)

ROUTE_NOT_FOUND = GATEWAY_ERRORS[0]

# Chalice's own error responses ({"Code": ..., "Message": ...}) in the platform's shape.
CHALICE_ERRORS: dict[str, tuple[str, str]] = {
    "MethodNotAllowedError": ("METHOD_NOT_ALLOWED", "此路徑不支援這個 HTTP 方法"),
    "UnsupportedMediaType": ("UNSUPPORTED_MEDIA_TYPE", "不支援的內容類型，請使用 application/json"),
    "BadRequestError": ("BAD_REQUEST", "請求有誤"),
    "BadRequest": ("BAD_REQUEST", "請求有誤"),
    "NotFoundError": ("NOT_FOUND", "查無資料"),
    "UnauthorizedError": ("UNAUTHENTICATED", "請先登入或提供 API 金鑰"),
    "ForbiddenError": ("FORBIDDEN", "沒有權限"),
    "TooManyRequestsError": ("RATE_LIMITED", "請求過於頻繁，請稍後再試"),
    "RequestTimeoutError": ("TIMEOUT", "請求逾時"),
    "ConflictError": ("CONFLICT", "與目前狀態衝突"),
    "UnprocessableEntityError": ("UNPROCESSABLE", "無法處理"),
    "InternalServerError": ("INTERNAL_ERROR", "系統錯誤"),
}


def internal_error() -> Response:
    return json_response(
        error_body("INTERNAL_ERROR", "An internal error occurred; it has been logged", "系統錯誤，已記錄"),
        500,
    )


def unavailable(detail: str) -> Response:
    return json_response(
        error_body(
            "SERVICE_UNAVAILABLE",
            f"A dependency is unavailable ({detail}); retry later",
            "相依服務暫時無法使用，請稍後再試",
        ),
        503,
        {"Retry-After": "5"},
    )

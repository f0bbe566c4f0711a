"""Local stand-in for the API Gateway "gateway responses" the deployed template configures.

API Gateway answers a path no route matches before any function runs; the template
(infra/template.py) makes it answer in the platform's error shape. Chalice's local gateway
(used by ``chalice local`` and the test client) answers 403 "Missing Authentication Token"
instead, so this subclass gives the same answer the deployed API gives.
"""

from __future__ import annotations

import json
from typing import Any

from chalice.local import ForbiddenError, LocalGateway

from chalicelib.api.errors import JSON_CONTENT_TYPE, ROUTE_NOT_FOUND, error_body


def route_not_found_body() -> str:
    return json.dumps(
        error_body(ROUTE_NOT_FOUND.code, ROUTE_NOT_FOUND.message, ROUTE_NOT_FOUND.message_zh),
        ensure_ascii=False,
    )


class GatewayResponsesLocalGateway(LocalGateway):
    def handle_request(self, method: str, path: str, headers: Any, body: bytes | None) -> Any:
        try:
            return super().handle_request(method=method, path=path, headers=headers, body=body)
        except ForbiddenError as exc:
            if b"Missing Authentication Token" not in (exc.body or b"") and b"Authorization header" not in (
                exc.body or b""
            ):
                raise
            return {
                "statusCode": ROUTE_NOT_FOUND.status,
                "headers": {"Content-Type": JSON_CONTENT_TYPE},
                "multiValueHeaders": {},
                "body": route_not_found_body(),
            }

"""Allowance routes (折讓, G0401) and their cancellation (作廢折讓, G0501)."""

from __future__ import annotations

import re

from chalice.app import Blueprint, Response

from chalicelib.adapters.dynamo_allowances import DynamoAllowances, S3AllowanceArtifacts
from chalicelib.adapters.notify import SesMailer
from chalicelib.api import deps
from chalicelib.api.errors import ApiError, json_response
from chalicelib.api.routing import operation, parse_json
from chalicelib.documents.mig import build_xml
from chalicelib.domain.errors import NotFound
from chalicelib.services.allowances import (
    ALLOWANCE_NUMBER_PATTERN,
    AllowancePage,
    AllowanceQuery,
    AllowanceRecord,
    AllowanceRequest,
    AllowanceService,
    AllowanceView,
    CancelRequest,
    allowance_view,
    find_allowances,
    g0401,
)
from chalicelib.services.principal import Principal

bp = Blueprint(__name__)
TAG = "Allowances"
_KEY = re.compile(r"[\x21-\x7e]{1,255}")
_NUMBER = re.compile(ALLOWANCE_NUMBER_PATTERN)


def allowance_service() -> AllowanceService:
    # TODO(lead): move into deps.py with the other composition-root factories.
    return AllowanceService(
        invoices=deps.invoices(),
        allowances=DynamoAllowances(),
        merchants=deps.merchants(),
        clock=deps.clock,
        artifacts=S3AllowanceArtifacts(),
        mailer=SesMailer(),
    )


def _idempotency_key() -> str | None:
    header = bp.current_request.headers.get("idempotency-key")
    if header is None:
        return None
    key = str(header)
    if not _KEY.fullmatch(key):
        raise ApiError(
            400,
            "INVALID_IDEMPOTENCY_KEY",
            "Idempotency-Key is 1-255 printable ASCII characters",
            "Idempotency-Key 須為 1 至 255 個可見 ASCII 字元",
            "Idempotency-Key",
        )
    return key


def _own(principal: Principal, number: str) -> AllowanceRecord:
    """The merchant's own allowance; anything else, including a malformed number, is 404."""
    if not _NUMBER.fullmatch(number):
        raise NotFound("ALLOWANCE_NOT_FOUND", "No such allowance", "查無此折讓單", "allowance_number")
    return allowance_service().get(principal.ubn, number)


@operation(
    bp,
    "/v1/allowances",
    "POST",
    summary="Issue an allowance (折讓, G0401) against one or more of your invoices to the same buyer",
    tag=TAG,
    body=AllowanceRequest,
    response=AllowanceView,
    status=201,
    auth="merchant",
    scope="allowances:write",
    errors=(404, 409, 422),
)
def issue_allowance(body: AllowanceRequest, principal: Principal) -> Response:
    raw = parse_json(bp.current_request.raw_body)
    issued = allowance_service().issue(principal.ubn, raw, actor=principal.actor, idempotency_key=_idempotency_key())
    headers = {"Location": f"/v1/allowances/{issued.record.allowance_number}"}
    if issued.replayed:
        headers["Idempotent-Replayed"] = "true"
    return json_response(issued.body(), 201, headers)


@operation(
    bp,
    "/v1/allowances",
    summary="Find allowances, newest first: period, dates; cursor pagination",
    tag=TAG,
    query=AllowanceQuery,
    response=AllowancePage,
    auth="merchant",
    scope="allowances:read",
)
def list_allowances(query: AllowanceQuery, principal: Principal) -> AllowancePage:
    return find_allowances(principal.ubn, query, deps.cursor_codec(), DynamoAllowances())


@operation(
    bp,
    "/v1/allowances/{allowance_number}",
    summary="One allowance with its history",
    tag=TAG,
    response=AllowanceView,
    auth="merchant",
    scope="allowances:read",
    errors=(404,),
)
def get_allowance(allowance_number: str, principal: Principal) -> AllowanceView:
    return allowance_view(_own(principal, allowance_number), with_history=True)


@operation(
    bp,
    "/v1/allowances/{allowance_number}/xml",
    summary="The allowance's MIG 4.1 G0401 XML",
    tag=TAG,
    auth="merchant",
    scope="allowances:read",
    response_content_type="application/xml",
    errors=(404,),
)
def allowance_xml(allowance_number: str, principal: Principal) -> Response:
    record = _own(principal, allowance_number)
    return Response(
        body=build_xml(g0401(record)).decode("utf-8"),
        status_code=200,
        headers={
            "Content-Type": "application/xml; charset=utf-8",
            "Content-Disposition": f'inline; filename="{record.allowance_number}-G0401.xml"',
        },
    )


@operation(
    bp,
    "/v1/allowances/{allowance_number}/cancel",
    "POST",
    summary="Cancel an allowance (作廢折讓, G0501): the invoices and period totals get the amount back",
    tag=TAG,
    body=CancelRequest,
    response=AllowanceView,
    auth="merchant",
    scope="allowances:write",
    errors=(404, 409),
)
def cancel_allowance(allowance_number: str, body: CancelRequest, principal: Principal) -> AllowanceView:
    _own(principal, allowance_number)
    record = allowance_service().cancel(principal.ubn, allowance_number, body, actor=principal.actor)
    return allowance_view(record, with_history=True)

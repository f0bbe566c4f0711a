"""Allowance routes (折讓, G0401), their cancellation (作廢折讓, G0501) and void and re-issue
(註銷重開, G0701 then the corrected G0401)."""

from __future__ import annotations

import re

from chalice.app import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.adapters.s3_artifacts import DEFAULT_LINK_SECONDS
from chalicelib.api import deps
from chalicelib.api.errors import json_response, xml_response
from chalicelib.api.invoices import DownloadLink
from chalicelib.api.json_body import parse_json
from chalicelib.api.routing import idempotency_key, operation
from chalicelib.domain.allowance_record import (
    ALLOWANCE_NUMBER_PATTERN,
    AllowanceRecord,
    AllowanceRequest,
    AllowanceVoidRequest,
    CancelRequest,
)
from chalicelib.domain.errors import NotFound
from chalicelib.services.allowance_documents import g0401
from chalicelib.services.allowance_query import (
    AllowancePage,
    AllowanceQuery,
    AllowanceView,
    allowance_view,
    find_allowances,
)
from chalicelib.services.principal import Principal

bp = Blueprint(__name__)
TAG = "Allowances"
_NUMBER = re.compile(ALLOWANCE_NUMBER_PATTERN)


def _idempotency_key() -> str | None:
    return idempotency_key(bp.current_request)


def _own(principal: Principal, number: str) -> AllowanceRecord:
    """The merchant's own allowance; anything else, including a malformed number, is 404."""
    if not _NUMBER.fullmatch(number):
        raise NotFound("ALLOWANCE_NOT_FOUND", "No such allowance", "查無此折讓單", "allowance_number")
    return deps.allowance_service().get(principal.ubn, number)


@operation(
    bp,
    "/v1/allowances",
    "POST",
    rate="issue",
    summary="Issue an allowance (折讓, G0401) against one or more of your invoices to the same buyer",
    tag=TAG,
    body=AllowanceRequest,
    response=AllowanceView,
    status=201,
    auth="merchant",
    scope="allowances:write",
    errors=(404, 409, 422),
    headers=("Idempotency-Key",),
)
def issue_allowance(body: AllowanceRequest, principal: Principal) -> Response:
    raw = parse_json(bp.current_request.raw_body)
    issued = deps.allowance_service().issue(
        principal.ubn, raw, actor=principal.actor, idempotency_key=_idempotency_key()
    )
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
    return find_allowances(principal.ubn, query, deps.cursor_codec(), deps.allowances())


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
    summary="The allowance's MIG 4.1 G0401 XML (its B0101 when issued by exchange)",
    tag=TAG,
    auth="merchant",
    scope="allowances:read",
    response_content_type="application/xml",
    errors=(404,),
)
def allowance_xml(allowance_number: str, principal: Principal) -> Response:
    from chalicelib.documents.mig import build_xml

    record = _own(principal, allowance_number)
    if record.exchange is not None:  # an allowance by exchange is its B0101
        from chalicelib.services.exchange_allowance_documents import b0101

        return xml_response(build_xml(b0101(record)), f"{record.allowance_number}-B0101.xml")
    return xml_response(build_xml(g0401(record)), f"{record.allowance_number}-G0401.xml")


@operation(
    bp,
    "/v1/allowances/{allowance_number}/cancel",
    "POST",
    rate="issue",
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
    record = deps.allowance_service().cancel(principal.ubn, allowance_number, body, actor=principal.actor)
    return allowance_view(record, with_history=True)


@operation(
    bp,
    "/v1/allowances/{allowance_number}/void",
    "POST",
    rate="issue",
    summary="Void (註銷, G0701) and re-issue the allowance under the same number and date with corrected lines",
    description=(
        "Within 48 hours of the allowance's first issue and in the period it was issued in (the invoice void's "
        "rule; no MOF text gives G0701 a time limit), while it is issued and its period's return is not filed. "
        "In one transaction what it took goes back to its invoices and the correction's amounts are taken, "
        "and the period totals and the buyer's purchases move by the difference. The correction must reduce "
        "invoices of the same buyer and invoice type. Then the G0701, the new G0401 and PDF are written and the "
        "buyer is mailed; webhooks allowance.voided and allowance.reissued."
    ),
    tag=TAG,
    body=AllowanceVoidRequest,
    response=AllowanceView,
    auth="merchant",
    scope="allowances:write",
    errors=(400, 404, 409, 422),
)
def void_allowance(allowance_number: str, body: AllowanceVoidRequest, principal: Principal) -> AllowanceView:
    _own(principal, allowance_number)
    record = deps.allowance_service().void(principal.ubn, allowance_number, body, actor=principal.actor)
    return allowance_view(record, with_history=True)


class AllowancePdfQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    download: bool = Field(default=False, description="Ask the browser to save rather than show it")


@operation(
    bp,
    "/v1/allowances/{allowance_number}/pdf",
    summary="The allowance's A4 PDF: a redirect to a 5-minute link (also in the JSON body)",
    tag=TAG,
    query=AllowancePdfQuery,
    response=DownloadLink,
    status=302,
    auth="merchant",
    scope="allowances:read",
    errors=(404,),
)
def allowance_pdf(allowance_number: str, query: AllowancePdfQuery, principal: Principal) -> Response:
    record = _own(principal, allowance_number)
    url = deps.document_links().allowance_pdf(record, principal.ubn, download=query.download)
    body = DownloadLink(url=url, expires_in=DEFAULT_LINK_SECONDS).model_dump()
    # A redirect works for browsers; the JSON body serves API clients that do not follow it.
    return json_response(body, 302, {"Location": url, "Cache-Control": "no-store"})

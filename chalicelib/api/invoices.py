"""Invoice routes: issue one or many, find, read, download."""

from __future__ import annotations

import re
from typing import Any

from chalice.app import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.api import deps
from chalicelib.api.errors import ApiError, json_response, status_for, xml_response
from chalicelib.api.json_body import parse_json
from chalicelib.api.routing import idempotency_key, operation
from chalicelib.domain.channels import ONLINE, validate_channel
from chalicelib.domain.errors import DomainError, NotFound
from chalicelib.domain.invoice import InvoiceDraft
from chalicelib.services.invoice_query import InvoicePage, InvoiceQuery, find_invoices
from chalicelib.services.invoice_view import InvoiceView, view
from chalicelib.services.principal import Principal

bp = Blueprint(__name__)
TAG = "Invoices"
MAX_BATCH = 500
_NUMBER = re.compile(r"[A-Z]{2}[0-9]{8}")


class IssueRequest(InvoiceDraft):
    """The invoice to issue. ``channel`` is for API keys: ``api`` (default) or ``pos:<device>``."""

    channel: str | None = Field(default=None, description="api (default) or pos:<device>; people issue online")


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    invoices: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_BATCH)


class BatchResult(BaseModel):
    index: int
    status: int
    invoice: InvoiceView | None = None
    error: dict[str, Any] | None = None


class BatchResponse(BaseModel):
    results: list[BatchResult]
    issued: int
    failed: int


def _idempotency_key() -> str | None:
    return idempotency_key(bp.current_request)


def _channel(principal: Principal, body: dict[str, Any]) -> str:
    requested = body.pop("channel", None)
    if principal.via != "api_key":
        if requested not in (None, ONLINE):
            raise ApiError(
                422,
                "CHANNEL_NOT_ALLOWED",
                "People issue on the online channel",
                "網頁登入者僅能使用 online 通路",
                "channel",
            )
        return ONLINE
    return validate_channel(requested or "api")


def _issue_one(principal: Principal, body: dict[str, Any], key: str | None, draft: InvoiceDraft | None = None) -> Any:
    channel = _channel(principal, body)
    return deps.invoicing_service().issue(
        principal.ubn, body, channel=channel, actor=principal.actor, idempotency_key=key, draft=draft
    )


@operation(
    bp,
    "/v1/invoices",
    "POST",
    rate="issue",
    summary="Issue one invoice (B2C or B2B); Idempotency-Key and order_id make retries return the first invoice",
    tag=TAG,
    body=IssueRequest,
    response=InvoiceView,
    status=201,
    auth="merchant",
    scope="invoices:write",
    errors=(409, 422),
    headers=("Idempotency-Key",),
)
def issue(body: IssueRequest, principal: Principal) -> Response:
    # The raw JSON is what the idempotency fingerprint covers; ``body`` is it validated already
    # (an IssueRequest is an InvoiceDraft plus the channel), so it is not validated a second time.
    raw = parse_json(bp.current_request.raw_body)
    return issued_response(_issue_one(principal, dict(raw), _idempotency_key(), draft=body))


def issued_response(issued: Any) -> Response:
    """201 with the invoice; a replay of an earlier request says so in ``Idempotent-Replayed``."""
    headers = {"Location": f"/v1/invoices/{issued.record.invoice_number}"}
    if issued.replayed:
        headers["Idempotent-Replayed"] = "true"
    return json_response(issued.body(), 201, headers)


@operation(
    bp,
    "/v1/invoices/batch",
    "POST",
    rate="issue",
    summary="Issue up to 500 invoices; each has its own result, a bad one takes no number and stops nothing",
    tag=TAG,
    body=BatchRequest,
    response=BatchResponse,
    auth="merchant",
    scope="invoices:write",
    headers=("Idempotency-Key",),
)
def issue_batch(body: BatchRequest, principal: Principal) -> BatchResponse:
    key = _idempotency_key()
    results: list[BatchResult] = []
    for index, payload in enumerate(body.invoices):
        try:
            issued = _issue_one(principal, dict(payload), f"{key}#{index}" if key else None)
            results.append(BatchResult(index=index, status=201, invoice=view(issued.record)))
        except DomainError as error:
            results.append(BatchResult(index=index, status=status_for(error), error=_error(error)))
        except ApiError as error:
            results.append(
                BatchResult(
                    index=index,
                    status=error.status,
                    error={
                        "code": error.code,
                        "message": error.message,
                        "message_zh": error.message_zh,
                        "field": error.field,
                    },
                )
            )
    issued_count = sum(1 for r in results if r.status == 201)
    return BatchResponse(results=results, issued=issued_count, failed=len(results) - issued_count)


def _error(error: DomainError) -> dict[str, Any]:
    return {"code": error.code, "message": error.message, "message_zh": error.message_zh, "field": error.field}


@operation(
    bp,
    "/v1/invoices",
    summary="Find invoices, newest first: period, dates, buyer, status, carrier, totals; cursor pagination",
    tag=TAG,
    query=InvoiceQuery,
    response=InvoicePage,
    auth="merchant",
    scope="invoices:read",
)
def list_invoices(query: InvoiceQuery, principal: Principal) -> InvoicePage:
    return find_invoices(principal.ubn, query, deps.cursor_codec(), deps.invoice_search())


def _own(principal: Principal, invoice_number: str) -> Any:
    record = deps.invoices().get(principal.ubn, invoice_number) if _NUMBER.fullmatch(invoice_number) else None
    if record is None:
        raise NotFound("INVOICE_NOT_FOUND", "No such invoice", "查無此發票")
    return record


@operation(
    bp,
    "/v1/invoices/{invoice_number}",
    summary="One invoice with its history",
    tag=TAG,
    response=InvoiceView,
    auth="merchant",
    scope="invoices:read",
    errors=(404,),
)
def get_invoice(invoice_number: str, principal: Principal) -> InvoiceView:
    return view(_own(principal, invoice_number), with_history=True)


class PdfQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    layout: str = Field(default="proof", pattern="^(proof|a4)$", description="proof (5.7 cm 證明聯) or a4")
    download: bool = Field(default=False, description="Ask the browser to save rather than show it")


class DownloadLink(BaseModel):
    url: str
    expires_in: int


def _link(principal: Principal, invoice_number: str, kind_name: str, download: bool) -> Response:
    return artifact_link(_own(principal, invoice_number), principal.ubn, kind_name, download)


def artifact_link(record: Any, ubn: str, kind_name: str, download: bool) -> Response:
    """302 to a short-lived link to ``record``'s artifact under ``ubn`` (the seller's prefix), built
    on demand first. The caller has checked who may see the invoice (received.py: buyer or seller)."""
    from chalicelib.domain.artifacts import ArtifactKind

    return link_response(deps.document_links().invoice(record, ubn, ArtifactKind(kind_name), download=download))


def link_response(url: str) -> Response:
    """302 to a short-lived S3 link: a redirect works for browsers; the JSON body serves API clients
    that do not follow it."""
    from chalicelib.adapters.s3_artifacts import DEFAULT_LINK_SECONDS

    body = DownloadLink(url=url, expires_in=DEFAULT_LINK_SECONDS).model_dump()
    return json_response(body, 302, {"Location": url, "Cache-Control": "no-store"})


@operation(
    bp,
    "/v1/invoices/{invoice_number}/pdf",
    summary="The 5.7 cm proof (證明聯) or A4 PDF: a redirect to a 5-minute link (also in the JSON body)",
    tag=TAG,
    query=PdfQuery,
    response=DownloadLink,
    status=302,
    auth="merchant",
    scope="invoices:read",
    errors=(404,),
)
def invoice_pdf(invoice_number: str, query: PdfQuery, principal: Principal) -> Response:
    kind = "proof_pdf" if query.layout == "proof" else "a4_pdf"
    return _link(principal, invoice_number, kind, query.download)


@operation(
    bp,
    "/v1/invoices/{invoice_number}/xml",
    summary="The invoice's MIG 4.1 XML: its F0401, or its A0101 when it was issued for exchange (交換)",
    tag=TAG,
    auth="merchant",
    scope="invoices:read",
    response_content_type="application/xml",
    errors=(404,),
)
def invoice_xml(invoice_number: str, principal: Principal) -> Response:
    return invoice_message(_own(principal, invoice_number))


def invoice_message(record: Any, *, attachment: bool = False) -> Response:
    """The invoice's own MIG message: an exchanged invoice is its A0101, any other its F0401."""
    from chalicelib.documents.mig import build_xml
    from chalicelib.services.exchange_documents import a0101
    from chalicelib.services.invoice_documents import f0401

    if record.exchange is not None:
        return xml_response(build_xml(a0101(record)), f"{record.invoice_number}-A0101.xml", attachment=attachment)
    return xml_response(build_xml(f0401(record)), f"{record.invoice_number}-F0401.xml", attachment=attachment)

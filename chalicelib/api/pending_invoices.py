"""Pay then issue: pending invoices, the payment notice that issues them, and the webhook secret
that signs those notices."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from chalice.app import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.adapters.dynamo_webhook_secrets import WebhookSecrets
from chalicelib.api import deps
from chalicelib.api.errors import ApiError, json_response
from chalicelib.api.invoices import issued_response
from chalicelib.api.json_body import parse_json
from chalicelib.api.routing import operation
from chalicelib.domain.fields import printable
from chalicelib.domain.pending_invoice import PendingView
from chalicelib.services.invoice_view import InvoiceView
from chalicelib.services.payment_notices import NoticeResult, PaymentNotice
from chalicelib.services.pending_invoices import PendingInvoiceService, not_found
from chalicelib.services.principal import Principal

bp = Blueprint(__name__)
TAG = "Pending invoices"
_ID = re.compile(r"pnd_[0-9a-f]{24}")


class PendingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_id: Annotated[str, *printable(20, min_length=1), Field(description="The order the invoice is held for")]
    invoice: dict[str, Any] = Field(description="The same body as POST /v1/invoices (channel defaults to api)")


class WebhookSecretView(BaseModel):
    webhook_secret: str = Field(description="Shown once; sign notices with HMAC-SHA256 over '<timestamp>.<body>'")
    rotated_at: str


def _service() -> PendingInvoiceService:
    return deps.pending_invoice_service()


def _secrets() -> WebhookSecrets:
    return deps.webhook_secrets()


def _pending_id(pending_id: str) -> str:
    # A malformed id cannot exist: answer 404 without a read, and never a 400 that tells ids apart.
    if not _ID.fullmatch(pending_id):
        raise not_found()
    return pending_id


@operation(
    bp,
    "/v1/pending-invoices",
    "POST",
    rate="issue",
    summary="Hold a fully validated invoice for an order until it is paid; takes no number",
    tag=TAG,
    body=PendingRequest,
    response=PendingView,
    status=201,
    auth="merchant",
    scope="invoices:write",
    errors=(400, 409, 422),
)
def create_pending(body: PendingRequest, principal: Principal) -> Response:
    # Re-read the raw JSON so money keeps the exact form the client sent (Decimal, not float).
    raw = parse_json(bp.current_request.raw_body)
    invoice = raw.get("invoice") if isinstance(raw, dict) else None
    pending, created = _service().create(principal.ubn, body.order_id, dict(invoice or body.invoice))
    headers = {"Location": f"/v1/pending-invoices/{pending.pending_id}"}
    if not created:
        headers["Idempotent-Replayed"] = "true"
    return json_response(pending.view().model_dump(mode="json"), 201 if created else 200, headers)


@operation(
    bp,
    "/v1/pending-invoices/{pending_id}",
    summary="One pending invoice: status pending or issued (with its invoice number)",
    tag=TAG,
    response=PendingView,
    auth="merchant",
    scope="invoices:read",
    errors=(404,),
)
def get_pending(pending_id: str, principal: Principal) -> PendingView:
    return _service().get(principal.ubn, _pending_id(pending_id)).view()


@operation(
    bp,
    "/v1/pending-invoices/{pending_id}/trigger",
    "POST",
    rate="issue",
    summary="Issue the pending invoice now; repeating answers the same invoice",
    tag=TAG,
    response=InvoiceView,
    status=201,
    auth="merchant",
    scope="invoices:write",
    errors=(404, 409, 422),
)
def trigger_pending(pending_id: str, principal: Principal) -> Response:
    service = _service()
    pending = service.get(principal.ubn, _pending_id(pending_id))
    return issued_response(service.trigger(pending, actor=principal.actor))


@operation(
    bp,
    "/v1/pending-invoices/{pending_id}",
    "DELETE",
    summary="Drop a pending invoice (409 once it has been issued)",
    tag=TAG,
    status=204,
    auth="merchant",
    scope="invoices:write",
    errors=(404, 409),
)
def delete_pending(pending_id: str, principal: Principal) -> Response:
    _service().delete(principal.ubn, _pending_id(pending_id))
    return Response(body="", status_code=204)


@operation(
    bp,
    "/v1/merchant/webhook-secret",
    "POST",
    summary="Create or rotate the webhook secret that signs payment notices; shown once",
    tag=TAG,
    response=WebhookSecretView,
    status=201,
    auth="merchant",  # account control: never an API key (a key could otherwise forge payment notices)
)
def rotate_webhook_secret(principal: Principal) -> Response:
    at = deps.clock.now().isoformat()
    secret = _secrets().rotate(principal.ubn, at)
    deps.audit_log().record(principal.owner, "webhook_secret_rotated", principal.actor, {})
    body = WebhookSecretView(webhook_secret=secret, rotated_at=at).model_dump()
    return json_response(body, 201, {"Cache-Control": "no-store"})


@operation(
    bp,
    "/v1/payments/notify",
    "POST",
    rate="issue",
    summary="Payment notice: issues the order's pending invoice exactly once",
    description=(
        "Headers X-Merchant-Ubn, X-Timestamp (unix seconds, within 5 minutes) and X-Signature = "
        "hex(HMAC-SHA256(webhook secret, '<timestamp>.<raw body>')). An identical notice again is a replay: "
        "it issues nothing and answers the first result."
    ),
    tag=TAG,
    response=NoticeResult,
    auth="public",
    raw_body="JSON {order_id, amount?, paid_at?, ...}, signed",
    errors=(400, 401, 404, 409, 422),
    headers=("X-Merchant-Ubn", "X-Timestamp", "X-Signature"),
)
def payment_notice() -> NoticeResult:
    request = bp.current_request
    raw = request.raw_body or b""
    return receive_notice(request.headers, raw.encode() if isinstance(raw, str) else raw)


def receive_notice(headers: Mapping[str, str], raw_bytes: bytes) -> NoticeResult:
    """Authenticate, parse and act on one payment notice (headers are looked up in lower case)."""
    service = deps.payment_notice_service()
    ubn = headers.get("x-merchant-ubn")
    # The signature is checked before the body is even parsed: nothing of an unsigned request is read.
    digest = service.authenticate(ubn, headers.get("x-timestamp"), headers.get("x-signature"), raw_bytes)
    assert ubn is not None  # noqa: S101 - authenticate refused a missing one
    payload = parse_json(raw_bytes)
    if not isinstance(payload, dict):
        raise ApiError(400, "MALFORMED_JSON", "The notice must be a JSON object", "付款通知須為 JSON 物件")
    notice = PaymentNotice.model_validate(payload)
    return service.handle(ubn, notice, first_time=service.first_time(ubn, digest))

"""Invoice routes after issuing: cancel (作廢), void and re-issue (註銷重開), send again."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from chalice.app import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.api import deps
from chalicelib.api.routing import operation
from chalicelib.domain.errors import NotFound
from chalicelib.domain.fields import printable
from chalicelib.services.invoice_lifecycle import Recipients
from chalicelib.services.invoice_view import InvoiceView, view
from chalicelib.services.principal import Principal

bp = Blueprint(__name__)
TAG = "Invoices"
_NUMBER = re.compile(r"[A-Z]{2}[0-9]{8}")
Channel = Literal["email", "sms"]
CHANNELS: tuple[Channel, ...] = ("email", "sms")


class InvoiceCancelRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # MIG F0501 CancelReason is 1-20 characters; ReturnTaxDocumentNumber ≤ 60; Remark ≤ 200.
    reason: Annotated[str, *printable(20, min_length=1), Field(description="作廢原因 (MIG CancelReason)")]
    return_tax_document_number: Annotated[str, *printable(60, min_length=1)] | None = Field(
        default=None, description="專案作廢核准文號; needed after the filing deadline"
    )
    remark: Annotated[str, *printable(200, min_length=1)] | None = None


class InvoiceReplacement(BaseModel):
    """What the re-issued invoice corrects; a field left out stays as issued."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    buyer: dict[str, Any] | None = None
    carrier: dict[str, Any] | None = None
    donation_code: str | None = None
    print_proof: bool | None = Field(default=None, alias="print")

    def given(self) -> dict[str, Any]:
        """Only the fields the caller sent (an explicit null removes a carrier or donation)."""
        return self.model_dump(by_alias=True, include=self.model_fields_set)


class InvoiceVoidRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, *printable(20, min_length=1), Field(description="註銷原因 (MIG VoidReason)")]
    remark: Annotated[str, *printable(200, min_length=1)] | None = None
    replacement: InvoiceReplacement


class InvoiceNotifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channels: list[Channel] = Field(default_factory=lambda: list(CHANNELS), min_length=1)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    mobile: str | None = Field(default=None, pattern=r"^09[0-9]{8}$")


class InvoiceNotifyAccepted(BaseModel):
    invoice_number: str
    event: str
    channels: list[str]


def _number(invoice_number: str) -> str:
    # A malformed number is simply not one of the merchant's invoices (and never reaches a key).
    if not _NUMBER.fullmatch(invoice_number):
        raise NotFound("INVOICE_NOT_FOUND", "No such invoice", "查無此發票")
    return invoice_number


@operation(
    bp,
    "/v1/invoices/{invoice_number}/cancel",
    "POST",
    rate="issue",
    summary="Cancel (作廢, F0501) an issued invoice; after the filing deadline only with the approval number",
    tag=TAG,
    body=InvoiceCancelRequest,
    response=InvoiceView,
    auth="merchant",
    scope="invoices:write",
    errors=(404, 409, 422),
)
def cancel_invoice(invoice_number: str, body: InvoiceCancelRequest, principal: Principal) -> InvoiceView:
    record = deps.lifecycle_service().cancel(
        principal.ubn,
        _number(invoice_number),
        reason=body.reason,
        return_tax_document_number=body.return_tax_document_number,
        remark=body.remark,
        actor=principal.actor,
    )
    return view(record, with_history=True)


@operation(
    bp,
    "/v1/invoices/{invoice_number}/void",
    "POST",
    rate="issue",
    summary="Void (註銷, F0701) and re-issue under the same number with corrected buyer/carrier/donation",
    tag=TAG,
    body=InvoiceVoidRequest,
    response=InvoiceView,
    auth="merchant",
    scope="invoices:write",
    errors=(400, 404, 409, 422),
)
def void_invoice(invoice_number: str, body: InvoiceVoidRequest, principal: Principal) -> InvoiceView:
    record = deps.lifecycle_service().void(
        principal.ubn,
        _number(invoice_number),
        reason=body.reason,
        remark=body.remark,
        replacement=body.replacement.given(),
        actor=principal.actor,
    )
    return view(record, with_history=True)


@operation(
    bp,
    "/v1/invoices/{invoice_number}/notify",
    "POST",
    summary="Send the invoice again by email and/or SMS (queued; 202)",
    tag=TAG,
    body=InvoiceNotifyRequest,
    response=InvoiceNotifyAccepted,
    status=202,
    auth="merchant",
    scope="invoices:write",
    errors=(404, 409, 422),
)
def notify_invoice(invoice_number: str, body: InvoiceNotifyRequest, principal: Principal) -> InvoiceNotifyAccepted:
    channels = tuple(dict.fromkeys(body.channels))
    number = _number(invoice_number)
    event = deps.lifecycle_service().notify(
        principal.ubn,
        number,
        Recipients(channels=channels, email=body.email, mobile=body.mobile),
        actor=principal.actor,
    )
    return InvoiceNotifyAccepted(invoice_number=number, event=event, channels=list(channels))

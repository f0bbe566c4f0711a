"""The signed-in merchant's own profile, receivers and audit trail."""

from __future__ import annotations

from typing import Literal

from chalice.app import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.api import deps
from chalicelib.api.routing import operation
from chalicelib.services.merchant_profile import MerchantView, ProfileUpdate, view
from chalicelib.services.principal import Principal
from chalicelib.services.receivers import ReceiversInput

bp = Blueprint(__name__)
TAG = "Merchant"


class ReceiverVerification(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: Literal["email", "mobile"]
    code: str = Field(min_length=1, max_length=12)


class AuditEntry(BaseModel):
    event: str
    actor: str
    at: str
    detail: dict[str, object]


class AuditLogPage(BaseModel):
    items: list[AuditEntry]


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=50, ge=1, le=500)


@operation(
    bp,
    "/v1/merchant",
    summary="Your profile, receivers and settings",
    tag=TAG,
    response=MerchantView,
    auth="merchant",
)
def get_profile(principal: Principal) -> MerchantView:
    return view(deps.profile_service().get(principal.ubn))


@operation(
    bp,
    "/v1/merchant",
    "PATCH",
    summary="Update contact details and settings (UBN and registered name are read-only)",
    tag=TAG,
    body=ProfileUpdate,
    response=MerchantView,
    auth="merchant",
)
def update_profile(body: ProfileUpdate, principal: Principal) -> MerchantView:
    return view(deps.profile_service().update(principal.ubn, body, actor=principal.actor))


@operation(
    bp,
    "/v1/merchant/receivers",
    "PUT",
    summary="Set where invoices and notices go; each new email/mobile gets a 6-digit code to confirm",
    tag=TAG,
    body=ReceiversInput,
    response=MerchantView,
    auth="merchant",
)
def set_receivers(body: ReceiversInput, principal: Principal) -> MerchantView:
    deps.receiver_service().set_receivers(principal.ubn, body, actor=principal.actor)
    return view(deps.profile_service().get(principal.ubn))


@operation(
    bp,
    "/v1/merchant/receivers/verify",
    "POST",
    summary="Confirm an email or mobile with the code it received",
    tag=TAG,
    body=ReceiverVerification,
    response=MerchantView,
    auth="merchant",
    errors=(422, 429),
)
def verify_receiver(body: ReceiverVerification, principal: Principal) -> MerchantView:
    deps.receiver_service().verify(principal.ubn, body.channel, body.code, actor=principal.actor)
    return view(deps.profile_service().get(principal.ubn))


@operation(
    bp,
    "/v1/merchant/audit-log",
    summary="Sign-ins, failures, password and settings changes, newest first",
    tag=TAG,
    query=AuditQuery,
    response=AuditLogPage,
    auth="merchant",
)
def audit_log(query: AuditQuery, principal: Principal) -> AuditLogPage:
    entries = deps.audit_log().recent(principal.owner, query.limit)
    return AuditLogPage(items=[AuditEntry.model_validate(e) for e in entries])

"""Sign-up routes: with a business certificate (工商憑證), or with a tax-office issued account."""

from __future__ import annotations

from datetime import datetime

from chalice.app import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.api import deps
from chalicelib.api.errors import json_response
from chalicelib.api.routing import operation
from chalicelib.services.receivers import ReceiversInput

bp = Blueprint(__name__)
TAG = "Sign-up"


class ChallengeResponse(BaseModel):
    nonce: str = Field(description="Sign these ASCII bytes with the certificate's private key")
    expires_at: datetime
    algorithm: str = "RSA PKCS#1 v1.5 SHA-256 or ECDSA P-256 SHA-256, base64"


class CertificateSignup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    certificate: str = Field(min_length=1, max_length=20_000, description="PEM of the business certificate")
    nonce: str = Field(min_length=1, max_length=100)
    signature: str = Field(min_length=1, max_length=2_000, description="base64 signature over the nonce")
    password: str = Field(min_length=1, max_length=128)
    receivers: ReceiversInput = Field(default_factory=ReceiversInput)


class AccountActivation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ubn: str = Field(min_length=1, max_length=8)
    initial_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(min_length=1, max_length=128)
    receivers: ReceiversInput = Field(default_factory=ReceiversInput)


class SignupResponse(BaseModel):
    ubn: str
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    refresh_token: str
    must_change_password: bool
    receivers_to_verify: list[str] = Field(
        description="Channels that got a code: confirm each with /v1/merchant/receivers/verify"
    )


def _signup_response(ubn: str, pair: object, body_receivers: ReceiversInput) -> Response:
    pending = [c for c in ("email", "mobile") if getattr(body_receivers, c)]
    payload = {"ubn": ubn, **pair.as_response(), "receivers_to_verify": pending}  # type: ignore[attr-defined]
    return json_response(payload, 201, {"Cache-Control": "no-store"})


@operation(
    bp,
    "/v1/registrations/certificate/challenge",
    "POST",
    rate="recovery",
    summary="A single-use nonce (5 minutes) to sign with the business certificate",
    tag=TAG,
    auth="public",
    response=ChallengeResponse,
    status=201,
)
def challenge() -> ChallengeResponse:
    nonce, expires_at = deps.registration_service().challenge()
    return ChallengeResponse(nonce=nonce, expires_at=expires_at)


@operation(
    bp,
    "/v1/registrations/certificate",
    "POST",
    rate="recovery",
    summary="Sign up with a 工商憑證: certificate, signature over the nonce, password, receivers",
    description="The UBN comes from the certificate; only businesses active in the tax registry may sign up.",
    tag=TAG,
    auth="public",
    body=CertificateSignup,
    response=SignupResponse,
    status=201,
    errors=(409, 422),
)
def certificate_signup(body: CertificateSignup) -> Response:
    source = deps.request_source(bp.current_request)
    ubn, pair = deps.registration_service().register_with_certificate(
        body.certificate, body.nonce, body.signature, body.password, body.receivers, source=source
    )
    return _signup_response(ubn, pair, body.receivers)


@operation(
    bp,
    "/v1/registrations/account",
    "POST",
    rate="recovery",
    rate_account=lambda body: body.ubn,
    summary="Activate a tax-office issued account: initial password → your own password and receivers",
    tag=TAG,
    auth="public",
    body=AccountActivation,
    response=SignupResponse,
    status=201,
    errors=(401, 409, 422, 429),
)
def account_activation(body: AccountActivation) -> Response:
    source = deps.request_source(bp.current_request)
    pair = deps.registration_service().activate_account(
        body.ubn, body.initial_password, body.new_password, body.receivers, source=source
    )
    return _signup_response(body.ubn, pair, body.receivers)

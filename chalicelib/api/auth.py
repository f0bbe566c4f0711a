"""Sign-in routes for merchants (營業人) and tax-office staff (稽徵機關)."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.api import deps
from chalicelib.api.errors import json_response
from chalicelib.api.routing import operation
from chalicelib.security.tokens import Role
from chalicelib.services.principal import Principal

bp = Blueprint(__name__)

TAG = "Sign-in"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class LoginRequest(_Strict):
    ubn: str = Field(min_length=1, max_length=8, description="統一編號 (UBN)")
    password: str = Field(min_length=1, max_length=128)


class StaffLoginRequest(_Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=128)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int = Field(description="Seconds until the access token expires")
    refresh_token: str
    must_change_password: bool = Field(
        description="True after signing in with a tax-office initial password: only the password change works"
    )


class RefreshRequest(_Strict):
    refresh_token: str = Field(min_length=1, max_length=200)


class PasswordChangeRequest(_Strict):
    current_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(min_length=1, max_length=128)


def _tokens(pair: Any) -> Response:
    return json_response(pair.as_response(), 200, {"Cache-Control": "no-store"})


@operation(
    bp,
    "/v1/auth/login",
    "POST",
    summary="Merchant sign-in with UBN and password → access and refresh tokens",
    tag=TAG,
    body=LoginRequest,
    response=TokenResponse,
    errors=(401, 429),
)
def login(body: LoginRequest) -> Response:
    source = deps.request_source(bp.current_request)
    return _tokens(deps.auth_service().login(Role.MERCHANT, body.ubn, body.password, source=source))


@operation(
    bp,
    "/v1/auth/staff/login",
    "POST",
    summary="Tax-office staff sign-in → a token with the staff role",
    tag=TAG,
    body=StaffLoginRequest,
    response=TokenResponse,
    errors=(401, 429),
)
def staff_login(body: StaffLoginRequest) -> Response:
    source = deps.request_source(bp.current_request)
    return _tokens(deps.auth_service().login(Role.STAFF, body.username, body.password, source=source))


@operation(
    bp,
    "/v1/auth/refresh",
    "POST",
    summary="Exchange a refresh token for a new pair; the old refresh token stops working",
    tag=TAG,
    body=RefreshRequest,
    response=TokenResponse,
    errors=(401,),
)
def refresh(body: RefreshRequest) -> Response:
    source = deps.request_source(bp.current_request)
    return _tokens(deps.auth_service().refresh(body.refresh_token, source=source))


@operation(
    bp,
    "/v1/auth/logout",
    "POST",
    summary="End this session: its access and refresh tokens stop working at once",
    tag=TAG,
    status=204,
    auth="merchant",
    allow_password_change=True,
)
def logout(principal: Principal) -> Response:
    deps.auth_service().logout(principal)
    return Response(body="", status_code=204)


@operation(
    bp,
    "/v1/auth/staff/logout",
    "POST",
    summary="End this staff session",
    tag=TAG,
    status=204,
    auth="staff",
)
def staff_logout(principal: Principal) -> Response:
    deps.auth_service().logout(principal)
    return Response(body="", status_code=204)


@operation(
    bp,
    "/v1/auth/password",
    "POST",
    summary="Change the password; every other session ends, a fresh token pair is returned",
    tag=TAG,
    body=PasswordChangeRequest,
    response=TokenResponse,
    auth="merchant",
    allow_password_change=True,
    errors=(401, 422),
)
def change_password(body: PasswordChangeRequest, principal: Principal) -> Response:
    source = deps.request_source(bp.current_request)
    pair = deps.auth_service().change_password(principal, body.current_password, body.new_password, source=source)
    return _tokens(pair)


class ForgotPasswordRequest(_Strict):
    ubn: str = Field(min_length=1, max_length=8)
    email: str = Field(min_length=1, max_length=80)


class ResetPasswordRequest(_Strict):
    ubn: str = Field(min_length=1, max_length=8)
    code: str = Field(min_length=1, max_length=12)
    new_password: str = Field(min_length=1, max_length=128)


class Accepted(BaseModel):
    message: str
    message_zh: str


@operation(
    bp,
    "/v1/auth/password/forgot",
    "POST",
    summary="Ask for a reset code; always 202 with the same answer, whether or not UBN and email match",
    tag=TAG,
    body=ForgotPasswordRequest,
    response=Accepted,
    status=202,
)
def forgot_password(body: ForgotPasswordRequest) -> Accepted:
    deps.password_reset_service().forgot(body.ubn, body.email, source=deps.request_source(bp.current_request))
    return Accepted(
        message="If the UBN and email match an account, a reset code has been sent to that email.",
        message_zh="若統一編號與 Email 相符，重設密碼驗證碼已寄至該信箱。",
    )


@operation(
    bp,
    "/v1/auth/password/reset",
    "POST",
    summary="Set a new password with the emailed code; every session ends, a fresh token pair is returned",
    tag=TAG,
    body=ResetPasswordRequest,
    response=TokenResponse,
    errors=(422,),
)
def reset_password(body: ResetPasswordRequest) -> Response:
    source = deps.request_source(bp.current_request)
    return _tokens(deps.password_reset_service().reset(body.ubn, body.code, body.new_password, source=source))

"""Sign-in routes for merchants (營業人) and tax-office staff (稽徵機關)."""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.api import deps
from chalicelib.api.errors import json_response
from chalicelib.api.routing import operation
from chalicelib.security import throttling
from chalicelib.security.tokens import Role
from chalicelib.services.captcha import CaptchaAnswer
from chalicelib.services.password_reset import GUESSES_PER_HOUR
from chalicelib.services.principal import Principal

bp = Blueprint(__name__)

TAG = "Sign-in"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class _WithCaptcha(_Strict):
    captcha_id: str | None = Field(
        default=None, max_length=64, description="From POST /v1/auth/captcha; needed after CAPTCHA_REQUIRED"
    )
    captcha_answer: str | None = Field(
        default=None, max_length=16, description="The characters in the challenge's image (case does not matter)"
    )

    def captcha(self) -> CaptchaAnswer | None:
        if self.captcha_id is None:
            return None
        return CaptchaAnswer(self.captcha_id, self.captcha_answer or "")


class LoginRequest(_WithCaptcha):
    ubn: str = Field(min_length=1, max_length=8, description="統一編號 (UBN)")
    password: str = Field(min_length=1, max_length=128)


class StaffLoginRequest(_WithCaptcha):
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


class PasswordChangeRequest(_WithCaptcha):
    current_password: str = Field(min_length=1, max_length=128)
    new_password: str = Field(min_length=1, max_length=128)


def _tokens(pair: Any) -> Response:
    return json_response(pair.as_response(), 200, {"Cache-Control": "no-store"})


def _minutes(limit: throttling.Limit) -> int:
    return int(limit.window.total_seconds() // 60)


SIGN_IN_LIMITS = (
    "Answers are the same whether or not the account exists. Errors: 401 `INVALID_CREDENTIALS` (wrong "
    "account or password); 401 `CAPTCHA_REQUIRED` after "
    f"{throttling.PER_SUBJECT_BEFORE_CAPTCHA.attempts} failed sign-ins of the account within "
    f"{_minutes(throttling.PER_SUBJECT_BEFORE_CAPTCHA)} minutes, from anywhere: get a challenge from "
    "`POST /v1/auth/captcha`, show its image and send `captcha_id` and `captcha_answer` with the password "
    "(the right password with a solved CAPTCHA always signs in); 401 `CAPTCHA_INVALID` when the answer is "
    "wrong or the challenge expired or was used (each challenge answers one attempt); 429 "
    f"`TOO_MANY_SIGN_IN_ATTEMPTS` with `Retry-After` after {throttling.PER_SOURCE.attempts} failed sign-ins "
    f"from one client IP, or {throttling.PER_SOURCE_AND_SUBJECT.attempts} of one account from one client IP, "
    f"within a {_minutes(throttling.PER_SOURCE)}-minute window."
)


@operation(
    bp,
    "/v1/auth/login",
    "POST",
    rate="sign-in",
    rate_account=lambda body: body.ubn,
    summary="Merchant sign-in with UBN and password → access and refresh tokens",
    description=SIGN_IN_LIMITS,
    tag=TAG,
    auth="public",
    body=LoginRequest,
    response=TokenResponse,
    errors=(401, 429),
)
def login(body: LoginRequest) -> Response:
    source = deps.request_source(bp.current_request)
    pair = deps.auth_service().login(Role.MERCHANT, body.ubn, body.password, source=source, captcha=body.captcha())
    return _tokens(pair)


@operation(
    bp,
    "/v1/auth/staff/login",
    "POST",
    rate="sign-in",
    rate_account=lambda body: body.username,
    summary="Tax-office staff sign-in → a token with the staff role",
    description=SIGN_IN_LIMITS.replace("account", "staff account"),
    tag=TAG,
    auth="public",
    body=StaffLoginRequest,
    response=TokenResponse,
    errors=(401, 429),
)
def staff_login(body: StaffLoginRequest) -> Response:
    source = deps.request_source(bp.current_request)
    pair = deps.auth_service().login(Role.STAFF, body.username, body.password, source=source, captcha=body.captcha())
    return _tokens(pair)


class CaptchaResponse(BaseModel):
    captcha_id: str = Field(description="Send back as captcha_id with the sign-in")
    image: str = Field(description="The challenge as a data: URL (PNG) for an <img src>")
    expires_in: int = Field(description="Seconds the challenge can be answered; it answers one attempt")


@operation(
    bp,
    "/v1/auth/captcha",
    "POST",
    summary="A CAPTCHA challenge for signing in after CAPTCHA_REQUIRED",
    description=(
        "Five characters drawn distorted in a PNG image; a person types them as `captcha_answer`. "
        "Each challenge answers one sign-in attempt, right or wrong. 429 `TOO_MANY_REQUESTS` with "
        f"`Retry-After` after {throttling.CAPTCHAS_PER_SOURCE.attempts} challenges from one client IP within "
        f"{_minutes(throttling.CAPTCHAS_PER_SOURCE)} minutes."
    ),
    tag=TAG,
    auth="public",
    response=CaptchaResponse,
    errors=(429,),
)
def captcha() -> Response:
    challenge = deps.captcha_service().issue(source=deps.request_source(bp.current_request))
    body = CaptchaResponse(
        captcha_id=challenge.captcha_id, image=challenge.image, expires_in=challenge.expires_in
    ).model_dump(mode="json")
    return json_response(body, 200, {"Cache-Control": "no-store"})


@operation(
    bp,
    "/v1/auth/refresh",
    "POST",
    rate="sign-in",
    summary="Exchange a refresh token for a new pair; the old refresh token stops working",
    tag=TAG,
    auth="public",
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
    description="The current password is checked like a sign-in: " + SIGN_IN_LIMITS,
    tag=TAG,
    body=PasswordChangeRequest,
    response=TokenResponse,
    auth="merchant",
    allow_password_change=True,
    errors=(401, 422, 429),
)
def change_password(body: PasswordChangeRequest, principal: Principal) -> Response:
    source = deps.request_source(bp.current_request)
    pair = deps.auth_service().change_password(
        principal, body.current_password, body.new_password, source=source, captcha=body.captcha()
    )
    deps.registration_service().initial_password_replaced(principal)
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
    rate="recovery",
    rate_account=lambda body: body.ubn,
    summary="Ask for a reset code; always 202 with the same answer, whether or not UBN and email match",
    tag=TAG,
    auth="public",
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
    rate="recovery",
    rate_account=lambda body: body.ubn,
    summary="Set a new password with the emailed code; every session ends, a fresh token pair is returned",
    description=(
        "Errors: 422 `INVALID_RESET_CODE` (wrong, expired or used code; a code allows 5 attempts), 422 "
        "`WEAK_PASSWORD` (checked first, costs no attempt), 429 `TOO_MANY_RESET_ATTEMPTS` with `Retry-After` "
        f"after {GUESSES_PER_HOUR.attempts} codes tried for one UBN in the hour that starts with the first, "
        "however many codes were sent; counted for every UBN, so it says nothing about which have accounts."
    ),
    tag=TAG,
    auth="public",
    body=ResetPasswordRequest,
    response=TokenResponse,
    errors=(422, 429),
)
def reset_password(body: ResetPasswordRequest) -> Response:
    source = deps.request_source(bp.current_request)
    return _tokens(deps.password_reset_service().reset(body.ubn, body.code, body.new_password, source=source))

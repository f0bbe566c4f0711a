"""Getting in and out of the console, for merchants (營業人) and staff (稽徵機關).

- sign-in, with the picture code (圖形驗證碼, web.auth_captcha) once an account has failed too often,
  as the sign-in guard decides (services.sign_in_guard); sign-out; the password change;
- a forgotten password: a code mailed to the registered address, then a new password;
- activation of a tax-office issued account (initial password → own password and receivers);
- sign-up with a business certificate (工商憑證): sign the server's challenge with the
  certificate's key, in this browser (static/auth.js, WebCrypto) or with OpenSSL.

Each form calls the use case its JSON route calls, validated by the same request models.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from chalice.app import Blueprint, Response
from pydantic import ValidationError

from chalicelib.api import deps, rate_limits
from chalicelib.api.auth import ForgotPasswordRequest, ResetPasswordRequest
from chalicelib.api.registration import AccountActivation, CertificateSignup
from chalicelib.domain.errors import DomainError, InvalidInput, NotFound, RateLimited
from chalicelib.domain.ubn import validate_ubn
from chalicelib.domain.validation import invalid_input_from
from chalicelib.security.tokens import Role
from chalicelib.services.auth import TokenPair
from chalicelib.services.captcha import CaptchaAnswer
from chalicelib.services.receivers import ReceiversInput
from chalicelib.settings import get_settings
from chalicelib.web import auth_captcha
from chalicelib.web.i18n import error_text
from chalicelib.web.pages import HOME_PAGE, PASSWORD_PAGE, SIGN_IN_PAGE, PageContext, page

bp = Blueprint(__name__)

_CAPTCHA_CODES = frozenset({"CAPTCHA_REQUIRED", "CAPTCHA_INVALID"})
_BAD_CREDENTIALS = "INVALID_CREDENTIALS"


# --- shared pieces ---------------------------------------------------------------------------------


def _missing(ctx: PageContext, **values: str) -> dict[str, str]:
    """``Fill in this field`` for each empty one, in form order."""
    return {name: ctx.t("請填寫此欄位", "Fill in this field") for name, value in values.items() if not value}


def _confirmation_error(ctx: PageContext, new_password: str) -> dict[str, str]:
    # Only when the form has the field: a typo in a hidden password is caught before it locks one out.
    if "confirm_password" in ctx.form and ctx.form.get("confirm_password") != new_password:
        return {"confirm_password": ctx.t("兩次輸入的新密碼不一致", "The two new passwords differ")}
    return {}


def _error_of(ctx: PageContext, error: DomainError, renamed: dict[str, str] | None = None) -> dict[str, str]:
    """The error keyed by the form input it belongs to (``renamed`` maps service fields to inputs)."""
    name = error.field or "_"
    return {(renamed or {}).get(name, name): error_text(error, ctx.lang)}


def _validation_error(ctx: PageContext, exc: ValidationError, renamed: dict[str, str] | None = None) -> dict[str, str]:
    return _error_of(ctx, invalid_input_from(exc), renamed)


def _limit(ctx: PageContext, rate: rate_limits.RateClass, account: str | None) -> None:
    """The same per-IP and per-account limits as the API's sign-in and recovery routes."""
    rate_limits.check_public(str(ctx.source().get("ip") or ""), rate)
    if account is not None:
        rate_limits.check_account(account, rate)


def _status(error: DomainError) -> tuple[int, dict[str, str]]:
    if isinstance(error, RateLimited):
        return 429, {"Retry-After": str(error.retry_after)}
    return 422, {}


def _signed_in(ctx: PageContext, pair: TokenPair, role: Role, next_path: str = "") -> Response:
    ctx.sign_in(pair)
    if pair.must_change_password:
        return ctx.redirect(PASSWORD_PAGE[role])
    return ctx.redirect(_safe_next(next_path, role))


def _safe_next(value: str, role: Role) -> str:
    """Only a path of this console may follow sign-in (no open redirect to another site)."""
    home = HOME_PAGE[role]
    if value.startswith(home) and not value.startswith("//") and "\\" not in value:
        return value
    return home


# --- the picture code ------------------------------------------------------------------------------


def _submitted_captcha(ctx: PageContext) -> CaptchaAnswer | None:
    captcha_id = ctx.form.get("captcha_id")
    if not captcha_id:
        return None
    return CaptchaAnswer(captcha_id[:64], ctx.form.get("captcha_answer")[:16])


def _new_picture(ctx: PageContext, errors: dict[str, str]) -> auth_captcha.PictureCode | None:
    """A fresh challenge, or None with the reason in ``errors`` (too many asked from this address)."""
    try:
        return auth_captcha.issue(ctx.source())
    except RateLimited as exc:
        errors.setdefault("_", error_text(exc, ctx.lang))
        return None


def _password_errors(ctx: PageContext, error: DomainError, password_field: str) -> dict[str, str]:
    if error.code == "CAPTCHA_REQUIRED":
        text = ctx.t(
            "登入失敗次數過多：請輸入圖中的 5 個字元，並重新輸入密碼。",
            "Too many failed sign-ins: type the 5 characters in the picture, and your password again.",
        )
        return {"captcha_answer": text}
    if error.code == "CAPTCHA_INVALID":
        text = ctx.t(
            "驗證碼錯誤或已失效：請輸入這張新圖中的字元，並重新輸入密碼。",
            "That code was wrong or has expired: type the characters in this new picture, and your password again.",
        )
        return {"captcha_answer": text}
    if error.code == _BAD_CREDENTIALS:
        return {password_field: error_text(error, ctx.lang)}
    return _error_of(ctx, error)


def _needs_picture(ctx: PageContext, error: DomainError) -> bool:
    # A failure that came with a solved picture keeps the gate up (sign_in_guard): show the next one.
    return error.code in _CAPTCHA_CODES or (error.code == _BAD_CREDENTIALS and bool(ctx.form.get("captcha_id")))


@dataclass(frozen=True)
class _Answer:
    """How a password form comes back: its errors, the status and headers, and whether it shows a
    new picture code."""

    errors: dict[str, str] = field(default_factory=dict)
    status: int = 200
    headers: dict[str, str] | None = None
    picture: bool = False


def _refused(ctx: PageContext, error: DomainError, password_field: str) -> _Answer:
    """A refused password (sign-in or change): why, and a new picture when the guard asks for one."""
    status, headers = _status(error)
    return _Answer(_password_errors(ctx, error, password_field), status, headers, _needs_picture(ctx, error))


def _picture_form(ctx: PageContext, template: str, answer: _Answer, **variables: Any) -> Response:
    """The form, with a fresh picture when one is due (if none may be drawn now, the errors say why)."""
    errors = dict(answer.errors)
    picture = _new_picture(ctx, errors) if answer.picture else None
    return ctx.render(template, answer.status, answer.headers, errors=errors, picture=picture, **variables)


@page(bp, "/captcha/new", ("POST",), auth="public")
def new_captcha(ctx: PageContext) -> Response:
    """A new picture for a sign-in form, swapped in by htmx (the form's own "new picture" submit
    does the same without JavaScript)."""
    errors: dict[str, str] = {}
    picture = _new_picture(ctx, errors)
    return ctx.render("auth/captcha_media.html", picture=picture, errors=errors)


@page(bp, "/captcha/audio/{captcha_id}", ("GET",), auth="public")
def captcha_audio(ctx: PageContext, captcha_id: str) -> Response:
    wav = auth_captcha.spoken_answer(captcha_id, ctx.query.get("t", ""), ctx.source())
    if wav is None:
        raise NotFound(
            "CAPTCHA_NOT_FOUND",
            "This code has expired; ask for a new picture",
            "此驗證碼已失效，請換一張圖",
        )
    return Response(
        body=wav,
        status_code=200,
        headers={"Content-Type": "audio/wav", "Content-Disposition": 'inline; filename="captcha.wav"'},
    )


# --- sign-in and sign-out --------------------------------------------------------------------------


def _sign_in_form(ctx: PageContext, role: Role, answer: _Answer = _Answer()) -> Response:
    template = "login.html" if role is Role.MERCHANT else "staff_login.html"
    values = {k: ctx.form.get(k) for k in ("ubn", "username")}
    return _picture_form(ctx, template, answer, values=values, next=ctx.query.get("next") or ctx.form.get("next"))


def _sign_in(ctx: PageContext, role: Role) -> Response:
    if ctx.form.get("new_captcha"):
        return _sign_in_form(ctx, role, _Answer(picture=True))
    subject_field = "ubn" if role is Role.MERCHANT else "username"
    subject = ctx.form.get(subject_field).strip()
    password = ctx.form.get("password")
    captcha = _submitted_captcha(ctx)
    missing = _missing(ctx, **{subject_field: subject, "password": password})
    if captcha is not None and not captcha.answer.strip():
        missing.setdefault("captcha_answer", ctx.t("請輸入圖中的字元", "Type the characters in the picture"))
    if missing:
        return _sign_in_form(ctx, role, _Answer(missing, 422, picture=captcha is not None))
    try:
        _limit(ctx, "sign-in", subject)
        pair = deps.auth_service().login(role, subject, password, source=ctx.source(), captcha=captcha)
    except DomainError as exc:
        return _sign_in_form(ctx, role, _refused(ctx, exc, "password"))
    return _signed_in(ctx, pair, role, ctx.form.get("next"))


def _sign_in_page(ctx: PageContext, role: Role) -> Response:
    if ctx.request.method == "POST":
        return _sign_in(ctx, role)
    if ctx.principal is not None and ctx.principal.role is role:
        return ctx.redirect(HOME_PAGE[role])
    return _sign_in_form(ctx, role)


@page(bp, "/login", ("GET", "POST"), auth="public")
def login(ctx: PageContext) -> Response:
    return _sign_in_page(ctx, Role.MERCHANT)


@page(bp, "/staff/login", ("GET", "POST"), auth="public")
def staff_login(ctx: PageContext) -> Response:
    return _sign_in_page(ctx, Role.STAFF)


@page(bp, "/logout", ("POST",), auth="public")
def logout(ctx: PageContext) -> Response:
    role = ctx.principal.role if ctx.principal is not None else Role.MERCHANT
    if ctx.principal is not None:
        deps.auth_service().logout(ctx.principal)
    ctx.sign_out()
    return ctx.redirect(SIGN_IN_PAGE[role])


# --- the password change ---------------------------------------------------------------------------


def _password_form(ctx: PageContext, role: Role, answer: _Answer = _Answer()) -> Response:
    return _picture_form(ctx, "password.html", answer, action=PASSWORD_PAGE[role])


def _password_page(ctx: PageContext, role: Role) -> Response:
    if ctx.request.method == "GET":
        return _password_form(ctx, role)
    if ctx.form.get("new_captcha"):
        return _password_form(ctx, role, _Answer(picture=True))
    principal = ctx.principal
    if principal is None:  # the decorator signed the caller in; this keeps the type checker told
        return ctx.redirect(SIGN_IN_PAGE[role])
    current, new = ctx.form.get("current_password"), ctx.form.get("new_password")
    captcha = _submitted_captcha(ctx)
    problems = _missing(ctx, current_password=current, new_password=new) or _confirmation_error(ctx, new)
    if problems:
        return _password_form(ctx, role, _Answer(problems, 422, picture=captcha is not None))
    try:
        pair = deps.auth_service().change_password(principal, current, new, source=ctx.source(), captcha=captcha)
        deps.registration_service().initial_password_replaced(principal)
    except DomainError as exc:
        return _password_form(ctx, role, _refused(ctx, exc, "current_password"))
    ctx.sign_in(pair)
    return ctx.redirect(HOME_PAGE[role])


@page(bp, "/console/password", ("GET", "POST"), auth="merchant", allow_password_change=True)
def merchant_password(ctx: PageContext) -> Response:
    return _password_page(ctx, Role.MERCHANT)


@page(bp, "/staff/password", ("GET", "POST"), auth="staff", allow_password_change=True)
def staff_password(ctx: PageContext) -> Response:
    return _password_page(ctx, Role.STAFF)


# --- forgotten password ----------------------------------------------------------------------------


@page(bp, "/password/forgot", ("GET", "POST"), auth="public")
def forgot_password(ctx: PageContext) -> Response:
    values = {"ubn": ctx.form.get("ubn").strip(), "email": ctx.form.get("email").strip()}
    if ctx.request.method == "GET":
        return ctx.render("auth/forgot.html", values=values)
    errors = _missing(ctx, **values)
    if not errors:
        try:
            ForgotPasswordRequest(**values)
            # A mistyped UBN is told at once: its check digit says nothing about who has an account.
            validate_ubn(values["ubn"], "ubn")
        except ValidationError as exc:
            errors = _validation_error(ctx, exc)
        except InvalidInput as exc:
            errors = _error_of(ctx, exc)
    if errors:
        return ctx.render("auth/forgot.html", status=422, values=values, errors=errors)
    try:
        _limit(ctx, "recovery", values["ubn"])
    except RateLimited as exc:
        status, headers = _status(exc)
        return ctx.render("auth/forgot.html", status=status, headers=headers, values=values, errors=_error_of(ctx, exc))
    deps.password_reset_service().forgot(values["ubn"], values["email"], source=ctx.source())
    # The same answer whether or not the UBN and email belong to an account.
    return ctx.redirect(f"/password/reset?ubn={quote(values['ubn'])}&sent=1")


def _reset_form(
    ctx: PageContext, errors: dict[str, str] | None = None, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return ctx.render(
        "auth/reset.html",
        status=status,
        headers=headers,
        values={"ubn": ctx.form.get("ubn").strip() or ctx.query.get("ubn", "")[:8], "code": ctx.form.get("code")},
        errors=errors or {},
        sent=ctx.query.get("sent") == "1" and ctx.request.method == "GET",
    )


@page(bp, "/password/reset", ("GET", "POST"), auth="public")
def reset_password(ctx: PageContext) -> Response:
    if ctx.request.method == "GET":
        return _reset_form(ctx)
    ubn, code, new = ctx.form.get("ubn").strip(), ctx.form.get("code").strip(), ctx.form.get("new_password")
    errors = _missing(ctx, ubn=ubn, code=code, new_password=new) or _confirmation_error(ctx, new)
    if not errors:
        try:
            ResetPasswordRequest(ubn=ubn, code=code, new_password=new)
        except ValidationError as exc:
            errors = _validation_error(ctx, exc)
    if errors:
        return _reset_form(ctx, errors, 422)
    try:
        _limit(ctx, "recovery", ubn)
        pair = deps.password_reset_service().reset(ubn, code, new, source=ctx.source())
    except DomainError as exc:
        status, headers = _status(exc)
        return _reset_form(ctx, _error_of(ctx, exc), status, headers)
    return _signed_in(ctx, pair, Role.MERCHANT)


# --- activating a tax-office issued account --------------------------------------------------------


def _receivers(ctx: PageContext) -> ReceiversInput:
    """The optional email and mobile of a sign-up form (``ValidationError`` on a malformed one)."""
    return ReceiversInput(email=ctx.form.get("email").strip() or None, mobile=ctx.form.get("mobile").strip() or None)


_RECEIVER_FIELDS = {"receivers.email": "email", "receivers.mobile": "mobile"}


def _activation_form(
    ctx: PageContext, errors: dict[str, str] | None = None, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    values = {k: ctx.form.get(k).strip() for k in ("ubn", "email", "mobile")}
    return ctx.render("auth/activate.html", status=status, headers=headers, values=values, errors=errors or {})


@page(bp, "/activate", ("GET", "POST"), auth="public")
def activate(ctx: PageContext) -> Response:
    if ctx.request.method == "GET":
        return _activation_form(ctx)
    ubn, initial, new = ctx.form.get("ubn").strip(), ctx.form.get("initial_password"), ctx.form.get("new_password")
    errors = _missing(ctx, ubn=ubn, initial_password=initial, new_password=new) or _confirmation_error(ctx, new)
    if errors:
        return _activation_form(ctx, errors, 422)
    try:
        body = AccountActivation(ubn=ubn, initial_password=initial, new_password=new, receivers=_receivers(ctx))
        _limit(ctx, "recovery", body.ubn)
        pair = deps.registration_service().activate_account(
            body.ubn, body.initial_password, body.new_password, body.receivers, source=ctx.source()
        )
    except ValidationError as exc:
        return _activation_form(ctx, _validation_error(ctx, exc, _RECEIVER_FIELDS), 422)
    except DomainError as exc:
        if exc.code == "CAPTCHA_REQUIRED":  # activation has no picture: the sign-in page has one
            text = ctx.t(
                "此帳號登入失敗次數過多，請改由登入頁以初始密碼及圖形驗證碼登入後設定新密碼。",
                "This account failed to sign in too often: sign in on the sign-in page with the initial "
                "password and the picture code, then set your new password.",
            )
            return _activation_form(ctx, {"initial_password": text}, 422)
        status, headers = _status(exc)
        return _activation_form(ctx, _password_errors(ctx, exc, "initial_password"), status, headers)
    return _signed_in(ctx, pair, Role.MERCHANT)


# --- sign-up with a business certificate -----------------------------------------------------------


def _certificate_text(ctx: PageContext) -> str:
    """The certificate from the chosen file (PEM, or DER as a .cer export often is), else as pasted."""
    upload = ctx.form.file("certificate_file")
    if upload is None:
        return ctx.form.get("certificate").strip()
    if b"-----BEGIN" in upload.data:
        return upload.data.decode("ascii", "replace").strip()
    from cryptography import x509  # this page only
    from cryptography.hazmat.primitives.serialization import Encoding

    try:
        return x509.load_der_x509_certificate(upload.data).public_bytes(Encoding.PEM).decode("ascii").strip()
    except ValueError:
        return upload.data.decode("ascii", "replace").strip()


def _certificate_form(
    ctx: PageContext, nonce: str, errors: dict[str, str] | None = None, status: int = 200, certificate: str = ""
) -> Response:
    values = {k: ctx.form.get(k).strip() for k in ("signature", "email", "mobile")}
    return ctx.render(
        "auth/certificate.html",
        status=status,
        nonce=nonce,
        certificate=certificate,
        values=values,
        errors=errors or {},
        local_demo=get_settings().is_local,
    )


# The UBN is read from the certificate: what the service says of it belongs next to the certificate.
_CERTIFICATE_FIELDS = {"ubn": "certificate", **_RECEIVER_FIELDS}


def _register_with_certificate(ctx: PageContext) -> Response:
    nonce, certificate = ctx.form.get("nonce"), _certificate_text(ctx)
    signature, password = ctx.form.get("signature").strip(), ctx.form.get("password")
    errors = _missing(ctx, certificate=certificate, signature=signature, password=password)
    errors = errors or _confirmation_error(ctx, password)
    if errors:
        return _certificate_form(ctx, nonce, errors, 422, certificate)
    try:
        body = CertificateSignup(
            certificate=certificate, nonce=nonce, signature=signature, password=password, receivers=_receivers(ctx)
        )
        _limit(ctx, "recovery", None)
        _, pair = deps.registration_service().register_with_certificate(
            body.certificate, body.nonce, body.signature, body.password, body.receivers, source=ctx.source()
        )
    except ValidationError as exc:
        return _certificate_form(ctx, nonce, _validation_error(ctx, exc, _CERTIFICATE_FIELDS), 422, certificate)
    except DomainError as exc:
        errors = _error_of(ctx, exc, _CERTIFICATE_FIELDS)
        if exc.field == "nonce":  # spent or expired: a new one to sign
            nonce, _ = deps.registration_service().challenge()
            errors = {
                "signature": ctx.t(
                    "挑戰碼已失效，已換上新的挑戰碼：請對新的挑戰碼重新簽章。",
                    "The challenge had expired or was used: sign the new challenge above.",
                )
            }
        status, _ = _status(exc)
        return _certificate_form(ctx, nonce, errors, status, certificate)
    return _signed_in(ctx, pair, Role.MERCHANT)


@page(bp, "/signup/certificate", ("GET", "POST"), auth="public")
def certificate_signup(ctx: PageContext) -> Response:
    if ctx.request.method == "GET":
        return _certificate_form(ctx, "")
    if ctx.form.get("action") == "challenge":
        nonce, _ = deps.registration_service().challenge()
        return _certificate_form(ctx, nonce, certificate=_certificate_text(ctx))
    return _register_with_certificate(ctx)

"""Sign-in, sign-out and the password change, for merchants (營業人) and staff (稽徵機關)."""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.api import deps
from chalicelib.domain.errors import DomainError
from chalicelib.security.tokens import Role
from chalicelib.web.pages import HOME_PAGE, PASSWORD_PAGE, SIGN_IN_PAGE, PageContext, page

bp = Blueprint(__name__)


def _safe_next(value: str, role: Role) -> str:
    """Only a path of this console may follow sign-in (no open redirect to another site)."""
    home = HOME_PAGE[role]
    if value.startswith(home) and not value.startswith("//") and "\\" not in value:
        return value
    return home


def _sign_in_form(ctx: PageContext, role: Role, errors: dict[str, str] | None = None, status: int = 200) -> Response:
    template = "login.html" if role is Role.MERCHANT else "staff_login.html"
    values = {k: ctx.form.get(k) for k in ("ubn", "username")}
    return ctx.render(
        template, status=status, errors=errors or {}, values=values, next=ctx.query.get("next") or ctx.form.get("next")
    )


def _sign_in(ctx: PageContext, role: Role) -> Response:
    subject_field = "ubn" if role is Role.MERCHANT else "username"
    subject = ctx.form.get(subject_field).strip()
    password = ctx.form.get("password")
    if not subject or not password:
        missing = subject_field if not subject else "password"
        return _sign_in_form(ctx, role, {missing: ctx.t("請填寫此欄位", "Fill in this field")}, 422)
    try:
        pair = deps.auth_service().login(role, subject, password, source=ctx.source(), captcha=None)
    except DomainError as exc:
        field = "password" if exc.code == "INVALID_CREDENTIALS" else exc.field
        return _sign_in_form(ctx, role, {field or "_": ctx.field_errors(exc)[exc.field or "_"]}, 422)
    ctx.sign_in(pair)
    if pair.must_change_password:
        return ctx.redirect(PASSWORD_PAGE[role])
    return ctx.redirect(_safe_next(ctx.form.get("next"), role))


@page(bp, "/login", ("GET", "POST"), auth="public")
def login(ctx: PageContext) -> Response:
    if ctx.request.method == "POST":
        return _sign_in(ctx, Role.MERCHANT)
    if ctx.principal is not None and ctx.principal.role is Role.MERCHANT:
        return ctx.redirect(HOME_PAGE[Role.MERCHANT])
    return _sign_in_form(ctx, Role.MERCHANT)


@page(bp, "/staff/login", ("GET", "POST"), auth="public")
def staff_login(ctx: PageContext) -> Response:
    if ctx.request.method == "POST":
        return _sign_in(ctx, Role.STAFF)
    if ctx.principal is not None and ctx.principal.role is Role.STAFF:
        return ctx.redirect(HOME_PAGE[Role.STAFF])
    return _sign_in_form(ctx, Role.STAFF)


@page(bp, "/logout", ("POST",), auth="public")
def logout(ctx: PageContext) -> Response:
    role = ctx.principal.role if ctx.principal is not None else Role.MERCHANT
    if ctx.principal is not None:
        deps.auth_service().logout(ctx.principal)
    ctx.sign_out()
    return ctx.redirect(SIGN_IN_PAGE[role])


def _password_page(ctx: PageContext, role: Role) -> Response:
    action = PASSWORD_PAGE[role]
    if ctx.request.method == "GET":
        return ctx.render("password.html", action=action)
    principal = ctx.principal
    if principal is None:  # the decorator signed the caller in; this keeps the type checker told
        return ctx.redirect(SIGN_IN_PAGE[role])
    try:
        pair = deps.auth_service().change_password(
            principal, ctx.form.get("current_password"), ctx.form.get("new_password"), source=ctx.source()
        )
    except DomainError as exc:
        field = "current_password" if exc.code == "INVALID_CREDENTIALS" else exc.field
        return ctx.render(
            "password.html", status=422, action=action, errors={field or "_": ctx.field_errors(exc)[exc.field or "_"]}
        )
    ctx.sign_in(pair)
    return ctx.redirect(HOME_PAGE[role])


@page(bp, "/console/password", ("GET", "POST"), auth="merchant", allow_password_change=True)
def merchant_password(ctx: PageContext) -> Response:
    return _password_page(ctx, Role.MERCHANT)


@page(bp, "/staff/password", ("GET", "POST"), auth="staff", allow_password_change=True)
def staff_password(ctx: PageContext) -> Response:
    return _password_page(ctx, Role.STAFF)

"""One decorator per console page: session from cookies, CSRF on every state change, language,
and every failure rendered as a page in the reader's language (never a stack trace, never JSON).

Views receive a ``PageContext`` and return ``ctx.render(...)`` or ``ctx.redirect(...)``. They call
the same services the JSON routes call.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal
from urllib.parse import quote, urlencode

from botocore.exceptions import BotoCoreError, ClientError
from chalice.app import Blueprint, Request, Response
from pydantic import ValidationError

from chalicelib.api import deps
from chalicelib.api.errors import ApiError, status_for
from chalicelib.domain.errors import DomainError, InvalidInput, NotFound, Unauthenticated
from chalicelib.domain.validation import invalid_input_from
from chalicelib.observability import logger
from chalicelib.security.tokens import Role
from chalicelib.services.auth import TokenPair
from chalicelib.services.principal import Principal
from chalicelib.settings import get_settings
from chalicelib.web import cookies as names
from chalicelib.web.cookies import CookiePolicy, csrf_matches, new_csrf_token, parse_cookies
from chalicelib.web.forms import Form, parse_form
from chalicelib.web.i18n import DEFAULT_LANG, Lang, error_text, parse_lang, pick
from chalicelib.web.maintenance_banner import banners_for
from chalicelib.web.rendering import render_template

PageAuth = Literal["public", "merchant", "staff"]
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
HTML = "text/html; charset=utf-8"

# No inline script or style anywhere: htmx's own indicator style is off (see base.html), and the
# console's scripts are files under /static.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

SIGN_IN_PAGE = {Role.MERCHANT: "/login", Role.STAFF: "/staff/login"}
HOME_PAGE = {Role.MERCHANT: "/console", Role.STAFF: "/staff"}
PASSWORD_PAGE = {Role.MERCHANT: "/console/password", Role.STAFF: "/staff/password"}


@functools.lru_cache(maxsize=32)
def asset_version(name: str) -> str:
    """A short hash of a static file, so its URL changes when it does and it can be cached for a year."""
    data = resources.files("chalicelib.web").joinpath("static", name).read_bytes()
    return hashlib.sha256(data).hexdigest()[:12]


def stage_prefix(request: Request) -> str:
    """API Gateway's stage (or base path) before the route, e.g. ``/api``; empty locally.

    The event's ``path`` is the route's path; ``requestContext.path`` is what the browser asked for."""
    asked = str((request.context or {}).get("path") or "")
    route_path = str(getattr(request, "_event_dict", {}).get("path") or "")
    if route_path and asked.endswith(route_path):
        return asked[: len(asked) - len(route_path)].rstrip("/")
    return ""


@dataclass
class PageContext:
    request: Request
    lang: Lang
    prefix: str
    policy: CookiePolicy
    csrf: str
    form: Form
    query: dict[str, str]
    principal: Principal | None = None
    set_cookies: list[str] = field(default_factory=list)

    # --- text and links ----------------------------------------------------------------------

    def t(self, zh: str, en: str) -> str:
        return pick(self.lang, zh, en)

    def url(self, path: str) -> str:
        return self.prefix + path

    @property
    def is_htmx(self) -> bool:
        return self.request.headers.get("hx-request") == "true"

    @property
    def me(self) -> Principal:
        """Who is signed in, on a merchant or staff page (the decorator admitted no one else)."""
        if self.principal is None:
            raise Unauthenticated("UNAUTHENTICATED", "Sign in first", "請先登入")
        return self.principal

    @property
    def ubn(self) -> str:
        return self.me.ubn

    @property
    def actor(self) -> str:
        """How the audit trail names the signed-in person."""
        return self.me.actor

    def source(self) -> dict[str, Any]:
        return deps.request_source(self.request)

    # --- answers -----------------------------------------------------------------------------

    def render(
        self, template: str, status: int = 200, headers: dict[str, str] | None = None, **variables: Any
    ) -> Response:
        body = render_template(template, {**self.template_globals(), **variables})
        return Response(body=body, status_code=status, headers={"Content-Type": HTML, **(headers or {})})

    def redirect(self, path: str) -> Response:
        """See other: after a form, the browser loads ``path`` (htmx follows it as a full page)."""
        target = self.url(path)
        if self.is_htmx:
            return Response(body="", status_code=204, headers={"HX-Redirect": target})
        return Response(body="", status_code=303, headers={"Location": target})

    def field_errors(self, error: DomainError | ValidationError) -> dict[str, str]:
        """The error (a model's: its first problem) keyed by the field it names (``_`` when it names
        none), in the reader's language."""
        refused = invalid_input_from(error) if isinstance(error, ValidationError) else error
        return {refused.field or "_": error_text(refused, self.lang)}

    def attempt(self, action: Callable[[], object]) -> dict[str, str]:
        """Run a form's ``action``; its refusal keyed by the field it names (empty when it succeeded)."""
        try:
            action()
        except (ValidationError, DomainError) as exc:
            return self.field_errors(exc)
        return {}

    def sign_in(self, pair: TokenPair) -> None:
        """Put a fresh session in the cookies, with a new CSRF token (no fixation across sign-in)."""
        self.set_cookies.append(self.policy.set(names.ACCESS, pair.access_token))
        self.set_cookies.append(self.policy.set(names.REFRESH, pair.refresh_token))
        self.csrf = new_csrf_token()
        self.set_cookies.append(self.policy.set(names.CSRF, self.csrf))

    def sign_out(self) -> None:
        self.set_cookies.extend([self.policy.clear(names.ACCESS), self.policy.clear(names.REFRESH)])
        self.principal = None

    def template_globals(self) -> dict[str, Any]:
        return {
            "ctx": self,
            "t": self.t,
            "url": self.url,
            "lang": self.lang,
            "csrf": self.csrf,
            "csrf_field": CSRF_FIELD,
            "principal": self.principal,
            "static": lambda name: f"{self.prefix}/static/{name}?v={asset_version(name)}",
            "errors": {},
            "values": {},
            "htmx_headers": json.dumps({"X-CSRF-Token": self.csrf}),
            "other_lang_query": self.other_lang_query(),
            # called by base.html only: pages that do not extend it cost nothing
            "maintenance_banners": lambda: banners_for(self.principal),
            "unread_notices": self._unread_notices,
        }

    def _unread_notices(self) -> int:
        """The nav badge's count (base.html asks only on merchants' pages)."""
        from chalicelib.api.deps import notices

        return notices().unread(self.ubn)

    def other_lang_query(self) -> str:
        """The current page's query with the other language: a search keeps its filters on switching."""
        other = "zh-TW" if self.lang == "en" else "en"
        return "?" + urlencode({**{k: v for k, v in self.query.items() if k != "lang"}, "lang": other})


def _language(request: Request, stored: str | None) -> tuple[Lang, bool]:
    asked = parse_lang(request.query_params.get("lang") if request.query_params else None)
    if asked is not None:
        return asked, asked != parse_lang(stored)
    return parse_lang(stored) or DEFAULT_LANG, False


def _context(request: Request, *, stateless: bool = False) -> tuple[PageContext, dict[str, str]]:
    jar = parse_cookies(request.headers.get("cookie"))
    prefix = stage_prefix(request)
    policy = CookiePolicy.for_request(
        is_local=get_settings().is_local,
        host=str(request.headers.get("host") or ""),
        forwarded_proto=request.headers.get("x-forwarded-proto"),
        prefix=prefix,
    )
    lang, remember = _language(request, policy.read(jar, names.LANG))
    csrf = None if stateless else policy.read(jar, names.CSRF)
    ctx = PageContext(
        request=request,
        lang=lang,
        prefix=prefix,
        policy=policy,
        csrf=csrf or ("" if stateless else new_csrf_token()),
        form=Form(),
        query={k: str(v) for k, v in (request.query_params or {}).items()},
    )
    if remember:
        ctx.set_cookies.append(policy.set(names.LANG, lang, max_age=365 * 86400))
    if not csrf and not stateless:
        ctx.set_cookies.append(policy.set(names.CSRF, ctx.csrf))
    return ctx, jar


def session_principal(ctx: PageContext, jar: dict[str, str]) -> Principal | None:
    """Who the cookies say is signed in, renewing an expired access token with the refresh token
    (rotated, as ``POST /v1/auth/refresh`` does). None when there is no live session."""
    auth = deps.auth_service()
    access = ctx.policy.read(jar, names.ACCESS)
    if access:
        try:
            return auth.authenticate_bearer(access)
        except Unauthenticated as exc:
            if exc.code == "SESSION_ENDED":
                return None
    refresh = ctx.policy.read(jar, names.REFRESH)
    if not refresh:
        return None
    try:
        pair = auth.refresh(refresh, source=ctx.source())
    except Unauthenticated:
        ctx.sign_out()
        return None
    ctx.set_cookies.append(ctx.policy.set(names.ACCESS, pair.access_token))
    ctx.set_cookies.append(ctx.policy.set(names.REFRESH, pair.refresh_token))
    return auth.authenticate_bearer(pair.access_token)


def error_page(ctx: PageContext, status: int, title_zh: str, title_en: str, detail: str = "") -> Response:
    return ctx.render("error.html", status=status, title=ctx.t(title_zh, title_en), detail=detail)


def _domain_error_page(ctx: PageContext, error: DomainError) -> Response:
    if isinstance(error, NotFound):
        return error_page(ctx, 404, "查無此頁面或資料", "Not found", error_text(error, ctx.lang))
    return error_page(ctx, status_for(error), "無法完成", "This could not be done", error_text(error, ctx.lang))


def _finish(ctx: PageContext, response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if ctx.set_cookies:
        existing = response.headers.get("Set-Cookie")
        extra = [existing] if isinstance(existing, str) else list(existing or [])
        response.headers["Set-Cookie"] = [*extra, *ctx.set_cookies]
    return response


def _not_signed_in(ctx: PageContext, role: Role) -> Response:
    target = SIGN_IN_PAGE[role]
    if ctx.request.method == "GET" and not ctx.is_htmx:
        asked = str((ctx.request.context or {}).get("path") or "")
        here = asked[len(ctx.prefix) :] if asked.startswith(ctx.prefix) else asked
        return ctx.redirect(f"{target}?next={quote(here, safe='/')}")
    return ctx.redirect(target)


def _admit(ctx: PageContext, jar: dict[str, str], auth: PageAuth, allow_password_change: bool) -> Response | None:
    """Read the form, check its CSRF token and the session: the refusal, or None to go on."""
    request = ctx.request
    if request.method in _UNSAFE:
        raw = request.raw_body or b""
        ctx.form = parse_form(
            str(request.headers.get("content-type") or ""), raw.encode() if isinstance(raw, str) else raw
        )
        supplied = request.headers.get(CSRF_HEADER) or ctx.form.get(CSRF_FIELD)
        if not csrf_matches(ctx.policy.read(jar, names.CSRF), supplied):
            return error_page(
                ctx,
                403,
                "表單已過期，請重新整理頁面後再送出",
                "This form has expired; reload the page and send it again",
            )
    if auth == "public":
        has_session = ctx.policy.read(jar, names.ACCESS) or ctx.policy.read(jar, names.REFRESH)
        ctx.principal = session_principal(ctx, jar) if has_session else None
        return None
    role = Role(auth)
    principal = session_principal(ctx, jar)
    if principal is None or principal.role is not role or principal.via == "api_key":
        return _not_signed_in(ctx, role)
    ctx.principal = principal
    if principal.must_change_password and not allow_password_change:
        return ctx.redirect(PASSWORD_PAGE[role])
    return None


def _failure_page(ctx: PageContext, exc: Exception) -> Response:
    if isinstance(exc, ApiError):
        error = InvalidInput(exc.code, exc.message, exc.message_zh, exc.field)
        return error_page(ctx, exc.status, "無法完成", "This could not be done", error_text(error, ctx.lang))
    if isinstance(exc, DomainError):
        return _domain_error_page(ctx, exc)
    if isinstance(exc, ValidationError):
        return _domain_error_page(ctx, invalid_input_from(exc))
    if isinstance(exc, (BotoCoreError, ClientError)):
        logger.exception("console page: dependency failed")
        return error_page(ctx, 503, "服務暫時無法使用，請稍後再試", "The service is unavailable; try again shortly")
    logger.exception("unhandled error in console page")
    return error_page(ctx, 500, "系統發生錯誤", "Something went wrong on our side")


@dataclass(frozen=True)
class PageRoute:
    path: str
    methods: tuple[str, ...]
    auth: PageAuth


#: Every console page with who may open it; tests walk it against a hand-written table.
PAGES: list[PageRoute] = []


def page(
    bp: Blueprint,
    path: str,
    methods: tuple[str, ...] = ("GET",),
    *,
    auth: PageAuth,
    allow_password_change: bool = False,
    stateless: bool = False,
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Register a console page. Every page states who may see it, as every API route does.

    ``stateless``: a public GET page that neither reads a session nor sets a CSRF cookie (the
    buyer's invoice look-up): nothing on it acts for anyone, so there is nothing to forge."""
    if stateless and (auth != "public" or tuple(methods) != ("GET",)):
        raise ValueError(f"{path}: only a public GET page can be stateless")

    def decorator(fn: Callable[..., Response]) -> Callable[..., Response]:
        PAGES.append(PageRoute(path, tuple(methods), auth))

        @functools.wraps(fn)
        def view(**path_params: str) -> Response:
            request = bp.current_request
            ctx, jar = _context(request, stateless=stateless)
            try:
                refused = None if stateless else _admit(ctx, jar, auth, allow_password_change)
                return _finish(ctx, refused if refused is not None else fn(ctx, **path_params))
            except Exception as exc:  # every failure becomes a page, never a stack trace
                return _finish(ctx, _failure_page(ctx, exc))

        view.is_console_page = True  # type: ignore[attr-defined]  # left out of the API's OpenAPI
        # application/json too: Chalice assumes it for a request without Content-Type (every GET).
        bp.route(path, methods=list(methods), content_types=[*FORM_TYPES, "application/json"])(view)
        return view

    return decorator

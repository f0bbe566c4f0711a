"""Establish the caller from its credential: a bearer token (people) or an API key (ERP/POS).

The merchant is never taken from a path, body or query: only from here.
"""

from __future__ import annotations

from chalice.app import Request

from chalicelib.api import deps
from chalicelib.domain.errors import Forbidden, Unauthenticated
from chalicelib.observability import logger
from chalicelib.security.tokens import Role
from chalicelib.services.principal import Principal

API_KEY_HEADER = "x-api-key"


def _api_key_principal(value: str) -> Principal:
    from chalicelib.api.api_key_auth import authenticate_api_key

    principal: Principal = authenticate_api_key(value)
    return principal


def authenticate(
    request: Request, *, role: Role, scope: str | None = None, allow_password_change: bool = False
) -> Principal:
    """The caller of a route for ``role``; API keys only where ``scope`` names what they need."""
    api_key = request.headers.get(API_KEY_HEADER)
    authorization = request.headers.get("authorization") or ""
    if api_key:
        principal = _api_key_principal(api_key)
    elif authorization.lower().startswith("bearer "):
        principal = deps.auth_service().authenticate_bearer(authorization[7:].strip())
    else:
        raise Unauthenticated(
            "UNAUTHENTICATED",
            "Sign in (Authorization: Bearer <token>) or send an API key (X-Api-Key)",
            "請先登入（Authorization: Bearer）或提供 API 金鑰（X-Api-Key）",
        )
    if principal.role is not role:
        raise Forbidden("FORBIDDEN", "This credential may not use this route", "此憑證無權使用此功能")
    if principal.must_change_password and not allow_password_change:
        raise Forbidden(
            "PASSWORD_CHANGE_REQUIRED",
            "Replace the initial password first (POST /v1/auth/password)",
            "請先變更初始密碼（POST /v1/auth/password）",
        )
    if principal.via == "api_key":
        # Default deny: a route opens to keys only by naming the scope they need. Account control
        # (profile, receivers, password, keys, webhook secret) names none, so a leaked key can never
        # redirect the merchant's mail and take the account over through a password reset.
        if scope is None:
            raise Forbidden(
                "API_KEY_NOT_ALLOWED",
                "API keys may not use this route; sign in as a person (Authorization: Bearer)",
                "API 金鑰不可使用此功能，請以使用者登入（Authorization: Bearer）",
            )
        if scope not in principal.scopes:
            raise Forbidden(
                "INSUFFICIENT_SCOPE", f"This API key lacks the scope {scope}", f"此 API 金鑰缺少權限 {scope}"
            )
    logger.append_keys(actor=principal.actor)
    return principal

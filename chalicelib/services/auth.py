"""Sign-in use cases: log in, refresh, log out, change password, and authenticate a request.

Merchants (營業人) sign in with their UBN, tax-office staff with a username; both get a short
access token and a rotating refresh token. Every session is a database item checked on each
request, so logout, password change and reset end sessions: at once in the process that ended
it, and within a few seconds in every other one (adapters.dynamo_accounts.SESSION_CHECK_SECONDS).

Passwords are tried only with the leave of services.sign_in_guard (throttles per client IP and per
IP and account, and a CAPTCHA after repeated failures of an account), never refused once tried
right. A password for an account that does not exist is verified against a decoy hash, and the
guard never reads the account, so a wrong UBN and a wrong password cost the same and get the same
answers in the same order.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from chalicelib.domain.accounts import Credential, Session
from chalicelib.domain.clock import Clock
from chalicelib.domain.errors import Unauthenticated
from chalicelib.security.passwords import check_password_policy, hash_password, needs_rehash, verify_password
from chalicelib.security.tokens import (
    Role,
    TokenInvalid,
    issue_access_token,
    new_refresh_token,
    parse_refresh_token,
    verify_access_token,
    verify_refresh_secret,
)
from chalicelib.services.captcha import CaptchaAnswer
from chalicelib.services.ports import AuditLog, CredentialStore, SessionStore
from chalicelib.services.principal import PASSWORD_CHANGE_SCOPE, Principal, owner_of
from chalicelib.services.sign_in_guard import SignInGuard

REFRESH_TOKEN_TTL = timedelta(days=30)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    must_change_password: bool

    def as_response(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "refresh_token": self.refresh_token,
            "must_change_password": self.must_change_password,
        }


def _invalid_credentials() -> Unauthenticated:
    return Unauthenticated("INVALID_CREDENTIALS", "Wrong account or password", "帳號或密碼錯誤")


def _invalid_token(error: TokenInvalid) -> Unauthenticated:
    return Unauthenticated(error.code, error.message, error.message_zh)


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    # Verifying against this when the account does not exist costs the same as a real check,
    # so response time does not reveal which UBNs have accounts.
    return hash_password(secrets.token_urlsafe(24))


class AuthService:
    def __init__(
        self,
        *,
        credentials: CredentialStore,
        sessions: SessionStore,
        audit: AuditLog,
        clock: Clock,
        token_key: bytes,
        guard: SignInGuard,
    ) -> None:
        self._credentials = credentials
        self._sessions = sessions
        self._audit = audit
        self._clock = clock
        self._token_key = token_key
        self._guard = guard

    # --- sessions -------------------------------------------------------------------------

    def start_session(
        self, role: Role, subject: str, *, scopes: frozenset[str], family: str | None = None
    ) -> TokenPair:
        now = self._clock.now()
        refresh = new_refresh_token()
        session = Session(
            owner=owner_of(role, subject),
            session_id=refresh.token_id,
            secret_hash=refresh.secret_hash,
            family=family or secrets.token_urlsafe(12),
            scopes=sorted(scopes),
            created_at=now,
            expires_at=now + REFRESH_TOKEN_TTL,
        )
        self._sessions.create(session)
        return self._pair(role, subject, session, refresh.token)

    def _pair(self, role: Role, subject: str, session: Session, refresh_token: str) -> TokenPair:
        access, expires_in = issue_access_token(
            subject=subject,
            role=role,
            key=self._token_key,
            now=self._clock.now(),
            scopes=session.scopes,
            session_id=session.session_id,
        )
        return TokenPair(access, refresh_token, expires_in, PASSWORD_CHANGE_SCOPE in session.scopes)

    # --- log in ---------------------------------------------------------------------------

    def login(
        self,
        role: Role,
        subject: str,
        password: str,
        *,
        source: Mapping[str, Any],
        captcha: CaptchaAnswer | None = None,
    ) -> TokenPair:
        credential = self.check_password(role, subject, password, source=source, captcha=captcha)
        scopes = frozenset({PASSWORD_CHANGE_SCOPE}) if credential.must_change_password else frozenset()
        pair = self.start_session(role, subject, scopes=scopes)
        self._audit.record(credential.owner, "login", f"{role.value}:{subject}", dict(source))
        return pair

    def check_password(
        self,
        role: Role,
        subject: str,
        password: str,
        *,
        source: Mapping[str, Any],
        captcha: CaptchaAnswer | None = None,
    ) -> Credential:
        """The credential if ``password`` is right; throttling, the CAPTCHA gate and audit included."""
        owner = owner_of(role, subject)
        admission = self._guard.admit(owner, source, captcha)
        credential = self._credentials.get(owner)
        if credential is None:
            verify_password(_decoy_hash(), password)
            admission.failed()
            raise _invalid_credentials()
        if not verify_password(credential.password_hash, password):
            admission.failed()
            self._audit.record(owner, "login_failed", "anonymous", {**source, "captcha": captcha is not None})
            raise _invalid_credentials()
        admission.succeeded()
        if needs_rehash(credential.password_hash) and not credential.must_change_password:
            self._credentials.set_password(
                owner, hash_password(password), must_change_password=False, at=self._clock.now()
            )
        return credential

    # --- tokens ---------------------------------------------------------------------------

    def refresh(self, refresh_token: str, *, source: Mapping[str, Any]) -> TokenPair:
        try:
            session_id, secret = parse_refresh_token(refresh_token)
        except TokenInvalid as exc:
            raise _invalid_token(exc) from exc
        pointer = self._sessions.pointer(session_id)
        if pointer is None or not verify_refresh_secret(secret, pointer.secret_hash):
            raise _invalid_token(TokenInvalid("INVALID_TOKEN"))
        if pointer.status != "active":
            # An already-rotated token came back: someone holds a copy. End the whole family.
            self._sessions.revoke_all(pointer.owner, family=pointer.family)
            self._audit.record(pointer.owner, "refresh_token_reused", "anonymous", dict(source))
            raise _invalid_token(TokenInvalid("INVALID_TOKEN"))
        current = self._sessions.get(pointer.owner, session_id)
        now = self._clock.now()
        if current is None or current.expires_at <= now:
            raise _invalid_token(TokenInvalid("TOKEN_EXPIRED"))
        role, subject = _split_owner(pointer.owner)
        refresh = new_refresh_token()
        successor = Session(
            owner=pointer.owner,
            session_id=refresh.token_id,
            secret_hash=refresh.secret_hash,
            family=pointer.family,
            scopes=current.scopes,
            created_at=now,
            expires_at=now + REFRESH_TOKEN_TTL,
        )
        if not self._sessions.rotate(pointer, successor):
            raise _invalid_token(TokenInvalid("INVALID_TOKEN"))
        return self._pair(role, subject, successor, refresh.token)

    def logout(self, principal: Principal) -> None:
        if principal.session_id:
            self._sessions.revoke(principal.owner, principal.session_id)
        self._audit.record(principal.owner, "logout", principal.actor, {})

    def authenticate_bearer(self, token: str) -> Principal:
        try:
            claims = verify_access_token(token, self._token_key, self._clock.now())
        except TokenInvalid as exc:
            raise _invalid_token(exc) from exc
        if not self._sessions.is_active(owner_of(claims.role, claims.subject), claims.session_id):
            raise Unauthenticated("SESSION_ENDED", "This session has ended; sign in again", "此登入已結束，請重新登入")
        return Principal(role=claims.role, subject=claims.subject, session_id=claims.session_id, scopes=claims.scopes)

    # --- passwords ------------------------------------------------------------------------

    def change_password(
        self,
        principal: Principal,
        current_password: str,
        new_password: str,
        *,
        source: Mapping[str, Any],
        captcha: CaptchaAnswer | None = None,
    ) -> TokenPair:
        self.check_password(principal.role, principal.subject, current_password, source=source, captcha=captcha)
        return self.set_new_password(
            principal.role, principal.subject, new_password, source=source, actor=principal.actor
        )

    def set_new_password(
        self, role: Role, subject: str, new_password: str, *, source: Mapping[str, Any], actor: str
    ) -> TokenPair:
        """Replace the password, end every session, and start a fresh one."""
        check_password_policy(new_password, subject if role is Role.MERCHANT else None)
        owner = owner_of(role, subject)
        self._credentials.set_password(
            owner, hash_password(new_password), must_change_password=False, at=self._clock.now()
        )
        self._sessions.revoke_all(owner)
        self._audit.record(owner, "password_changed", actor, dict(source))
        return self.start_session(role, subject, scopes=frozenset())


def _split_owner(owner: str) -> tuple[Role, str]:
    kind, _, subject = owner.partition("#")
    return (Role.MERCHANT if kind == "MERCHANT" else Role.STAFF), subject

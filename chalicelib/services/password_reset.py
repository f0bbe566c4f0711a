"""Forgotten password: a single-use, expiring code to the registered email, then a new password.

The request answers the same, in about the same time, whether or not the UBN and email match,
so nobody can learn which businesses have accounts or what their email is.

Guessing a code is bounded twice, each bound taken as a slot before the code is checked (one
conditional update each, so concurrent guesses cannot exceed them):
- per code: DEFAULT_CODE_POLICY.max_attempts (5) attempts, then that code is dead;
- per UBN: GUESSES_PER_HOUR attempts in the hour that starts with the first, whatever codes were
  sent meanwhile, so asking for a new code every minute does not buy new guesses. It is counted for
  every well-formed UBN, with or without an account or a pending code, so its 429
  ``TOO_MANY_RESET_ATTEMPTS`` says nothing about which UBNs have accounts or asked for a reset.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from chalicelib.domain.accounts import PendingCode
from chalicelib.domain.clock import Clock
from chalicelib.domain.errors import RateLimited, RuleViolation
from chalicelib.domain.owners import merchant_owner
from chalicelib.domain.ubn import is_valid_ubn
from chalicelib.security.codes import DEFAULT_CODE_POLICY, CodeOutcome, check_code, new_code
from chalicelib.security.passwords import check_password_policy
from chalicelib.security.throttling import Limit
from chalicelib.security.tokens import Role
from chalicelib.services.auth import AuthService, TokenPair
from chalicelib.services.ports import AuditLog, CredentialStore, Mailer, MerchantStore, ThrottleStore

PURPOSE = "reset"
# Every forgot-password answer takes at least this long: enough to cover the lookup and the
# SES call, so a matching and a non-matching request cannot be told apart by timing.
RESPONSE_FLOOR_SECONDS = 0.6
# A new code is not sent more often than this, so the endpoint cannot be used to flood a mailbox.
RESEND_INTERVAL_SECONDS = 60
#: Code guesses per UBN in the hour that starts with the first; a new code does not reset it.
GUESSES_PER_HOUR = Limit("reset-guesses", 10, timedelta(hours=1))

_SUBJECT = "電子發票平台 重設密碼驗證碼 / Password reset code"
_BODY = (
    "您（統一編號 {ubn}）申請重設密碼，驗證碼為 {code}，10 分鐘內有效。若非本人申請，請忽略本信。\n"
    "A password reset was requested for UBN {ubn}. Your code is {code}; it expires in 10 minutes.\n"
    "If you did not ask for this, ignore this email.\n"
)


def _invalid_code() -> RuleViolation:
    return RuleViolation("INVALID_RESET_CODE", "The code is wrong or has expired", "驗證碼錯誤或已過期", "code")


def _registered_email(profile: Mapping[str, Any]) -> str | None:
    receiver = (profile.get("receivers") or {}).get("email") or {}
    if receiver.get("verified"):
        return str(receiver.get("address"))
    return str(profile["email"]) if profile.get("email") else None


class PasswordResetService:
    def __init__(
        self,
        *,
        auth: AuthService,
        merchants: MerchantStore,
        credentials: CredentialStore,
        mailer: Mailer,
        audit: AuditLog,
        clock: Clock,
        code_key: bytes,
        throttles: ThrottleStore,
    ) -> None:
        self._auth = auth
        self._merchants = merchants
        self._credentials = credentials
        self._mailer = mailer
        self._audit = audit
        self._clock = clock
        self._code_key = code_key
        self._throttles = throttles

    def forgot(self, ubn: str, email: str, *, source: Mapping[str, Any]) -> None:
        started = time.monotonic()
        try:
            self._send_if_matching(ubn, email.strip(), source)
        finally:
            remaining = RESPONSE_FLOOR_SECONDS - (time.monotonic() - started)
            if remaining > 0:
                time.sleep(remaining)

    def _send_if_matching(self, ubn: str, email: str, source: Mapping[str, Any]) -> None:
        if not is_valid_ubn(ubn):
            return
        profile = self._merchants.get_profile(ubn)
        registered = _registered_email(profile) if profile else None
        if registered is None or registered.lower() != email.lower():
            return
        now = self._clock.now()
        pending = self._merchants.get_code(ubn, PURPOSE)
        if pending is not None:
            issued_at = pending.expires_at - DEFAULT_CODE_POLICY.ttl
            if (now - issued_at).total_seconds() < RESEND_INTERVAL_SECONDS:
                return
        code, code_hash = new_code(key=self._code_key, context=f"{PURPOSE}:{ubn}")
        self._merchants.put_code(
            ubn,
            PendingCode(
                purpose=PURPOSE,
                code_hash=code_hash,
                target=registered,
                expires_at=DEFAULT_CODE_POLICY.expires_at(now),
            ),
        )
        self._mailer.send(registered, _SUBJECT, _BODY.format(ubn=ubn, code=code))
        self._audit.record(merchant_owner(ubn), "password_reset_requested", "anonymous", dict(source))

    def reset(self, ubn: str, code: str, new_password: str, *, source: Mapping[str, Any]) -> TokenPair:
        if not is_valid_ubn(ubn):
            raise _invalid_code()
        # Before any guess is spent: a weak new password costs no attempt.
        check_password_policy(new_password, ubn)
        now = self._clock.now()
        wait = self._throttles.claim_rolling(GUESSES_PER_HOUR, merchant_owner(ubn), now)
        if wait is not None:
            raise RateLimited(
                "TOO_MANY_RESET_ATTEMPTS",
                f"Too many reset codes tried for this UBN; try again in {wait} seconds",
                f"此統一編號嘗試驗證碼次數過多，請於 {wait} 秒後再試",
                "code",
                retry_after=wait,
            )
        pending = self._merchants.get_code(ubn, PURPOSE)
        if pending is None:
            raise _invalid_code()
        attempts = self._merchants.claim_code_attempt(ubn, pending, DEFAULT_CODE_POLICY.max_attempts)
        if attempts is None:
            raise _invalid_code()
        outcome = check_code(
            code,
            pending.code_hash,
            pending.expires_at,
            attempts,
            now,
            key=self._code_key,
            context=f"{PURPOSE}:{ubn}",
        )
        if outcome is not CodeOutcome.OK or not self._merchants.delete_code(ubn, PURPOSE):
            raise _invalid_code()
        return self._auth.set_new_password(Role.MERCHANT, ubn, new_password, source=source, actor="password_reset")

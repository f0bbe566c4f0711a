"""Receivers (發票接收): where a merchant's invoices and notices go, each confirmed by a code.

A receiver is only used once its owner proved control of it: a 6-digit code goes to the new
email (SES) or mobile number (SNS), expires after 10 minutes and allows 5 attempts. Each attempt
is claimed (one conditional update) before the code is checked, so concurrent guesses cannot get
more than 5 checked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.domain.accounts import PendingCode
from chalicelib.domain.clock import Clock
from chalicelib.domain.errors import InvalidInput, RateLimited, RuleViolation
from chalicelib.domain.printable_text import printable_text
from chalicelib.domain.validation import as_pydantic_error
from chalicelib.security.codes import DEFAULT_CODE_POLICY, CodeOutcome, check_code, new_code
from chalicelib.services.ports import AuditLog, Mailer, MerchantStore, SmsSender

Channel = Literal["email", "mobile"]
MAX_EMAIL_LENGTH = 80  # MIG EmailAddress: 80 is the safer of the conflicting limits (80/400)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z0-9-]{2,}")
_MOBILE_LOCAL = re.compile(r"09[0-9]{8}")
_MOBILE_E164 = re.compile(r"\+8869[0-9]{8}")


def normalise_mobile(value: str, field: str | None = "mobile") -> str:
    """A Taiwan mobile number as E.164 (+8869xxxxxxxx), the form SNS needs."""
    compact = re.sub(r"[\s-]", "", value)
    if _MOBILE_LOCAL.fullmatch(compact):
        return "+886" + compact[1:]
    if _MOBILE_E164.fullmatch(compact):
        return compact
    raise InvalidInput(
        "INVALID_MOBILE",
        "A mobile number is 09xxxxxxxx or +8869xxxxxxxx",
        "手機號碼格式應為 09xxxxxxxx 或 +8869xxxxxxxx",
        field,
    )


def check_email(value: str, field: str | None = "email") -> str:
    printable_text(value, field)  # the pattern lets a bidi override through, and the address is shown
    if len(value) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(value):
        raise InvalidInput(
            "INVALID_EMAIL",
            f"An email address of at most {MAX_EMAIL_LENGTH} characters is required",
            f"電子郵件格式不正確（最長 {MAX_EMAIL_LENGTH} 字元）",
            field,
        )
    return value


class ReceiversInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(default=None, max_length=MAX_EMAIL_LENGTH, description="Invoice and notice email")
    mobile: str | None = Field(default=None, max_length=20, description="Mobile for SMS, 09xxxxxxxx or +8869…")

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None else in_model(check_email, value)

    @field_validator("mobile")
    @classmethod
    def _mobile(cls, value: str | None) -> str | None:
        return None if value is None else in_model(normalise_mobile, value)


def in_model(check: Callable[[str, str | None], str], value: str) -> str:
    """Run a field check inside a pydantic validator, so the error gets the field's full path."""
    try:
        return check(value, None)
    except InvalidInput as error:
        raise as_pydantic_error(error) from None


_MESSAGES = {
    "email": (
        "電子發票平台 Email 驗證碼 / verification code",
        "您的驗證碼為 {code}，10 分鐘內有效。\nYour verification code is {code}; it expires in 10 minutes.\n",
    ),
    "mobile": (
        "",
        "[電子發票平台] 驗證碼 {code}，10 分鐘內有效。Code {code}, valid 10 min.",
    ),
}


class ReceiverService:
    def __init__(
        self,
        *,
        merchants: MerchantStore,
        mailer: Mailer,
        sms: SmsSender,
        audit: AuditLog,
        clock: Clock,
        code_key: bytes,
    ) -> None:
        self._merchants = merchants
        self._mailer = mailer
        self._sms = sms
        self._audit = audit
        self._clock = clock
        self._code_key = code_key

    def set_receivers(self, ubn: str, receivers: ReceiversInput, *, actor: str) -> dict[str, Any]:
        """Replace the given receivers (unverified until confirmed) and send each a code."""
        if receivers.email is None and receivers.mobile is None:
            raise InvalidInput(
                "MISSING_FIELD", "Give an email, a mobile number or both", "請提供 Email 或手機號碼", "email"
            )
        profile = self._merchants.get_profile(ubn) or {}
        current: dict[str, Any] = dict(profile.get("receivers") or {})
        for channel, target in (("email", receivers.email), ("mobile", receivers.mobile)):
            if target is None:
                continue
            current[channel] = {"address": target, "verified": False, "verified_at": None}
            self._send_code(ubn, channel, target)
        updated = self._merchants.update_profile(ubn, {"receivers": current})
        self._audit.record(f"MERCHANT#{ubn}", "receivers_changed", actor, {k: v["address"] for k, v in current.items()})
        return dict(updated.get("receivers") or {})

    def _send_code(self, ubn: str, channel: str, target: str) -> None:
        purpose = f"verify-{channel}"
        code, code_hash = new_code(key=self._code_key, context=f"{purpose}:{ubn}:{target}")
        now = self._clock.now()
        self._merchants.put_code(
            ubn,
            PendingCode(
                purpose=purpose,
                code_hash=code_hash,
                target=target,
                expires_at=DEFAULT_CODE_POLICY.expires_at(now),
            ),
        )
        subject, body = _MESSAGES[channel]
        if channel == "email":
            self._mailer.send(target, subject, body.format(code=code))
        else:
            self._sms.send(target, body.format(code=code))

    def verify(self, ubn: str, channel: Channel, code: str, *, actor: str) -> dict[str, Any]:
        purpose = f"verify-{channel}"
        pending = self._merchants.get_code(ubn, purpose)
        if pending is None:
            raise RuleViolation(
                "NO_PENDING_VERIFICATION",
                f"No {channel} is waiting for verification; set it first (PUT /v1/merchant/receivers)",
                "沒有待驗證的接收方式，請先設定（PUT /v1/merchant/receivers）",
                "channel",
            )
        now = self._clock.now()
        if now >= pending.expires_at:
            raise _expired()
        attempts = self._merchants.claim_code_attempt(ubn, pending, DEFAULT_CODE_POLICY.max_attempts)
        if attempts is None:
            raise _too_many_attempts()
        outcome = check_code(
            code,
            pending.code_hash,
            pending.expires_at,
            attempts,
            now,
            key=self._code_key,
            context=f"{purpose}:{ubn}:{pending.target}",
        )
        _raise_for(outcome)
        if outcome is not CodeOutcome.OK:
            raise RuleViolation("WRONG_CODE", "The code is not correct", "驗證碼不正確", "code")
        if not self._merchants.delete_code(ubn, purpose):
            raise RuleViolation("NO_PENDING_VERIFICATION", "This code was already used", "此驗證碼已使用", "code")
        profile = self._merchants.get_profile(ubn) or {}
        receivers: dict[str, Any] = dict(profile.get("receivers") or {})
        entry = dict(receivers.get(channel) or {})
        if entry.get("address") != pending.target:
            raise RuleViolation(
                "NO_PENDING_VERIFICATION",
                "The receiver changed since the code was sent",
                "接收方式已變更",
                "channel",
            )
        entry.update({"verified": True, "verified_at": self._clock.now().isoformat()})
        receivers[channel] = entry
        updated = self._merchants.update_profile(ubn, {"receivers": receivers})
        self._audit.record(f"MERCHANT#{ubn}", "receiver_verified", actor, {"channel": channel})
        return dict(updated.get("receivers") or {})


def _expired() -> RuleViolation:
    return RuleViolation("CODE_EXPIRED", "The code has expired; request a new one", "驗證碼已過期，請重新取得", "code")


def _too_many_attempts() -> RateLimited:
    return RateLimited(
        "TOO_MANY_ATTEMPTS",
        "Too many wrong codes; request a new one",
        "驗證碼錯誤次數過多，請重新取得",
        "code",
        retry_after=60,
    )


def _raise_for(outcome: CodeOutcome) -> None:
    if outcome is CodeOutcome.EXPIRED:
        raise _expired()
    if outcome is CodeOutcome.TOO_MANY_ATTEMPTS:
        raise _too_many_attempts()


def public_receivers(receivers: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        channel: {
            "address": entry.get("address"),
            "verified": bool(entry.get("verified")),
            "verified_at": entry.get("verified_at"),
        }
        for channel, entry in (receivers or {}).items()
    }

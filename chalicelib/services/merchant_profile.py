"""The merchant's own profile and settings. UBN and registered name come from the tax registry
and are read-only here."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from chalicelib.domain.errors import InvalidInput, NotFound
from chalicelib.domain.fields import printable
from chalicelib.domain.notifications import ANNOUNCEMENT, NOTICE_KINDS
from chalicelib.domain.validation import as_pydantic_error, invalid_input_from
from chalicelib.services.ports import AuditLog, MerchantStore
from chalicelib.services.receivers import MAX_EMAIL_LENGTH, check_email, in_model, public_receivers

_HEX_KEY = re.compile(r"[0-9A-Fa-f]{32}")


#: Numbers left in a channel below which the merchant is warned. A channel gets whole booklets (本)
#: of 50 numbers, often just one: a threshold of 50 or more warned with the first invoice of every
#: fresh booklet. 10 warns when a fifth of the last booklet is left, early enough to assign another.
DEFAULT_LOW_STOCK_THRESHOLD = 10


#: Where the QR key's format is stated for users (the OpenAPI of the settings and profile routes).
QR_AES_KEY_FORMAT = (
    "The QR-code AES key (QR Code 加密金鑰): 32 hexadecimal characters (0-9, A-F, either case), the"
    " AES-128 key that encrypts the left QR code's verification field (invoice number + random number)."
    " One is generated at sign-up; replace it with the key the MOF platform derives from your seed"
    " password (密碼種子) so the MOF can decrypt it. Write-only: answers show only qr_aes_key_set."
)


class NoticeChannels(BaseModel):
    """Where a kind of notice goes besides the inbox (the inbox always gets it)."""

    model_config = ConfigDict(extra="forbid")

    email: bool = Field(default=True, description="Mail it to the notice address (verified receiver, else contact)")
    sms: bool = Field(default=False, description="Text it to the verified mobile receiver")


#: Until the merchant says otherwise: mail for everything that asks for action, SMS for nothing, and
#: announcements only in the inbox (they are on every console page already).
DEFAULT_NOTICE_CHANNELS = {kind: NoticeChannels(email=kind != ANNOUNCEMENT) for kind in NOTICE_KINDS}


class MerchantSettings(BaseModel):
    """What the merchant decides about delivery and alerts."""

    model_config = ConfigDict(extra="forbid")

    email_buyer: bool = Field(default=True, description="Email the buyer each invoice (PDF attached)")
    sms_buyer: bool = Field(default=False, description="Text the buyer the invoice number and a link")
    low_stock_threshold: int = Field(
        default=DEFAULT_LOW_STOCK_THRESHOLD, ge=0, le=1_000_000, description="Warn when fewer numbers remain"
    )
    qr_aes_key: str | None = Field(
        default=None,
        description=QR_AES_KEY_FORMAT,
        examples=["0123456789ABCDEF0123456789ABCDEF"],
    )
    notifications: dict[str, NoticeChannels] = Field(
        default_factory=dict,
        description="Per kind of notice (" + ", ".join(NOTICE_KINDS) + "): also by email and/or SMS",
        examples=[{"low_stock": {"email": True, "sms": True}, "announcement": {"email": False}}],
    )

    @field_validator("notifications")
    @classmethod
    def _kinds(cls, value: dict[str, NoticeChannels]) -> dict[str, NoticeChannels]:
        for kind in value:
            if kind not in NOTICE_KINDS:
                raise as_pydantic_error(
                    InvalidInput(
                        "UNKNOWN_NOTICE_KIND",
                        f"No notice kind {kind[:40]!r}; the kinds are: {', '.join(NOTICE_KINDS)}",
                        f"無此通知類別 {kind[:40]!r}；可用類別：{'、'.join(NOTICE_KINDS)}",
                    )
                )
        return value

    def channels(self, kind: str) -> NoticeChannels:
        """Where notices of ``kind`` go: the merchant's choice, else the default."""
        return self.notifications.get(kind) or DEFAULT_NOTICE_CHANNELS[kind]

    @field_validator("qr_aes_key")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        if value is not None and not _HEX_KEY.fullmatch(value):
            raise as_pydantic_error(
                InvalidInput(
                    "INVALID_QR_AES_KEY",
                    f"The QR AES key is 32 hexadecimal characters (0-9, A-F); this one has {len(value)}"
                    + (" but not all are hexadecimal." if len(value) == 32 else "."),
                    f"QR Code 加密金鑰須為 32 個十六進位字元（0-9、A-F），此值為 {len(value)} 個字元"
                    + ("，但含非十六進位字元。" if len(value) == 32 else "。"),
                )
            )
        return value.upper() if value else value


def notice_settings(profile: Mapping[str, Any]) -> MerchantSettings:
    """The settings of a profile as stored (jobs read raw items, whose QR key is sealed under another
    name): only what notices need, never refused for a field a reader of this kind does not know."""
    stored = profile.get("settings") or {}
    return MerchantSettings.model_validate({"notifications": stored.get("notifications") or {}})


class ProfileUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The address prints on every invoice as the seller's; all of them show on the console.
    person_in_charge: Annotated[str, *printable(30)] | None = None
    phone: Annotated[str, *printable(26)] | None = None
    email: str | None = Field(default=None, max_length=MAX_EMAIL_LENGTH)
    address: Annotated[str, *printable(100, min_length=1)] | None = None
    settings: dict[str, Any] | None = Field(
        default=None,
        description="Settings to change, any of email_buyer, sms_buyer, low_stock_threshold, qr_aes_key. "
        + QR_AES_KEY_FORMAT,
    )

    @model_validator(mode="before")
    @classmethod
    def _read_only(cls, data: Any) -> Any:
        for name in ("ubn", "name"):
            if isinstance(data, dict) and name in data:
                raise as_pydantic_error(
                    InvalidInput(
                        "READ_ONLY_FIELD",
                        f"{name} comes from the tax registry and cannot be changed here",
                        "統一編號與營業人名稱以稅籍登記為準，無法在此變更",
                        name,
                    )
                )
        return data

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None else in_model(check_email, value)


class ReceiverView(BaseModel):
    address: str | None
    verified: bool
    verified_at: str | None = None


class SettingsView(BaseModel):
    email_buyer: bool
    sms_buyer: bool
    low_stock_threshold: int
    qr_aes_key_set: bool = Field(
        description="Whether a QR-code AES key is set (one is generated at sign-up; the key itself is never shown)"
    )


class MerchantView(BaseModel):
    ubn: str
    name: str
    person_in_charge: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    status: str
    signup_method: str
    receivers: dict[str, ReceiverView]
    settings: SettingsView
    created_at: str | None = None


def view(profile: dict[str, Any]) -> MerchantView:
    settings = MerchantSettings.model_validate(profile.get("settings") or {})
    return MerchantView(
        ubn=profile["ubn"],
        name=profile["name"],
        person_in_charge=profile.get("person_in_charge"),
        phone=profile.get("phone"),
        email=profile.get("email"),
        address=profile.get("address"),
        status=profile.get("status", "active"),
        signup_method=profile.get("signup_method", ""),
        receivers={k: ReceiverView.model_validate(v) for k, v in public_receivers(profile.get("receivers")).items()},
        settings=SettingsView(
            email_buyer=settings.email_buyer,
            sms_buyer=settings.sms_buyer,
            low_stock_threshold=settings.low_stock_threshold,
            qr_aes_key_set=settings.qr_aes_key is not None,
        ),
        created_at=profile.get("created_at"),
    )


class MerchantProfileService:
    def __init__(self, *, merchants: MerchantStore, audit: AuditLog) -> None:
        self._merchants = merchants
        self._audit = audit

    def get(self, ubn: str) -> dict[str, Any]:
        profile = self._merchants.get_profile(ubn)
        if profile is None:
            raise NotFound("MERCHANT_NOT_FOUND", "No such merchant", "查無此營業人")
        return profile

    def update(self, ubn: str, update: ProfileUpdate, *, actor: str) -> dict[str, Any]:
        profile = self.get(ubn)
        changes: dict[str, Any] = {
            name: value
            for name, value in update.model_dump(exclude_unset=True, exclude={"settings"}).items()
            if value is not None
        }
        if update.settings is not None:
            merged = {**(profile.get("settings") or {}), **update.settings}
            try:
                settings = MerchantSettings.model_validate(merged)
            except ValidationError as exc:
                error = invalid_input_from(exc)
                raise InvalidInput(error.code, error.message, error.message_zh, f"settings.{error.field}") from None
            changes["settings"] = settings.model_dump(exclude_none=True)
        if not changes:
            return profile
        updated = self._merchants.update_profile(ubn, changes)
        logged = {
            k: ("***" if k == "settings" and "qr_aes_key" in (update.settings or {}) else v) for k, v in changes.items()
        }
        self._audit.record(f"MERCHANT#{ubn}", "profile_updated", actor, {"changed": sorted(logged)})
        return updated

"""The merchant's own profile and settings. UBN and registered name come from the tax registry
and are read-only here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from chalicelib.domain.errors import InvalidInput, NotFound
from chalicelib.domain.fields import printable
from chalicelib.domain.merchant import QR_AES_KEY_FORMAT, MerchantProfile, MerchantSettings
from chalicelib.domain.validation import as_pydantic_error, invalid_input_from
from chalicelib.services.ports import AuditLog, MerchantStore
from chalicelib.services.receivers import MAX_EMAIL_LENGTH, check_email, in_model, public_receivers


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
        description="Settings to change, any of email_buyer, sms_buyer, low_stock_threshold, qr_aes_key,"
        " receiving_method (storage or exchange: how B2B invoices issued to you arrive). " + QR_AES_KEY_FORMAT,
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
    receiving_method: str = Field(
        default="storage",
        description="How B2B invoices issued to you arrive: storage (存證) or exchange (交換, answered in the"
        " to-do list)",
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


def view(stored: dict[str, Any]) -> MerchantView:
    profile = MerchantProfile.of(stored)
    settings = profile.settings
    return MerchantView(
        ubn=profile.ubn,
        name=profile.name,
        person_in_charge=profile.person_in_charge,
        phone=profile.phone,
        email=stored.get("email"),
        address=stored.get("address"),
        status=profile.status,
        signup_method=profile.signup_method,
        receivers={k: ReceiverView.model_validate(v) for k, v in public_receivers(stored.get("receivers")).items()},
        settings=SettingsView(
            email_buyer=settings.email_buyer,
            sms_buyer=settings.sms_buyer,
            low_stock_threshold=settings.low_stock_threshold,
            qr_aes_key_set=settings.qr_aes_key is not None,
            receiving_method=settings.receiving_method,
        ),
        created_at=profile.created_at,
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

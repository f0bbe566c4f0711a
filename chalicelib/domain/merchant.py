"""What a merchant decides about delivery and alerts (its settings), and its profile as the use
cases read it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.domain.errors import InvalidInput
from chalicelib.domain.notifications import ANNOUNCEMENT, NOTICE_KINDS
from chalicelib.domain.validation import as_pydantic_error

_HEX_KEY = re.compile(r"[0-9A-Fa-f]{32}")


#: Numbers left in a channel below which the merchant is warned. A channel gets whole booklets (本)
#: of 50 numbers, often just one: a threshold of 50 or more warned with the first invoice of every
#: fresh booklet. 10 warns when a fifth of the last booklet is left, early enough to assign another.
DEFAULT_LOW_STOCK_THRESHOLD = 10


#: How B2B invoices issued to this merchant reach it (營業人接收方式設定, reference §8). ``storage``
#: (存證, the default and what every merchant had before): the seller stores the invoice on the
#: platform and it is simply received. ``exchange`` (交換): the merchant answers each one in its to-do
#: list (待辦事項): confirms it (A0102) or rejects it (A0301), and confirms its cancels (A0202).
RECEIVING_STORAGE, RECEIVING_EXCHANGE = "storage", "exchange"
RECEIVING_METHODS = (RECEIVING_STORAGE, RECEIVING_EXCHANGE)

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

    receiving_method: str = Field(
        default=RECEIVING_STORAGE,
        description="How B2B invoices issued to you arrive (接收方式): storage (存證, received as issued) or"
        " exchange (交換: confirm or reject each one in the to-do list, GET /v1/exchange/inbox)",
        examples=[RECEIVING_EXCHANGE],
    )

    @field_validator("receiving_method")
    @classmethod
    def _receiving(cls, value: str) -> str:
        if value not in RECEIVING_METHODS:
            raise as_pydantic_error(
                InvalidInput(
                    "INVALID_RECEIVING_METHOD",
                    f"The receiving method is storage or exchange, not {value[:40]!r}",
                    f"接收方式須為 storage（存證）或 exchange（交換），不可為 {value[:40]!r}",
                )
            )
        return value

    @property
    def receives_by_exchange(self) -> bool:
        return self.receiving_method == RECEIVING_EXCHANGE

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


@dataclass(frozen=True)
class MerchantProfile:
    """A merchant's profile (營業人資料) with its settings validated once, where it is read."""

    ubn: str
    name: str
    settings: MerchantSettings
    address: str | None = None
    email: str | None = None
    person_in_charge: str | None = None
    phone: str | None = None
    status: str = "active"
    signup_method: str = ""
    created_at: str | None = None
    receivers: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, stored: Mapping[str, Any]) -> MerchantProfile:
        return cls(
            ubn=str(stored["ubn"]),
            name=str(stored.get("name") or ""),
            settings=MerchantSettings.model_validate(stored.get("settings") or {}),
            address=stored.get("address") or None,
            email=stored.get("email") or None,
            person_in_charge=stored.get("person_in_charge"),
            phone=stored.get("phone"),
            status=str(stored.get("status", "active")),
            signup_method=str(stored.get("signup_method", "")),
            created_at=stored.get("created_at"),
            receivers=dict(stored.get("receivers") or {}),
        )

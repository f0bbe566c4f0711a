"""Tax registration (稅籍登記): the tax office's record of a business, which gates sign-up."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class RegistrationStatus(StrEnum):
    ACTIVE = "active"  # 營業中
    SUSPENDED = "suspended"  # 停業
    CLOSED = "closed"  # 歇業/註銷


class TaxRegistration(BaseModel):
    model_config = ConfigDict(frozen=True)

    ubn: str
    name: str
    address: str
    status: RegistrationStatus

    @property
    def may_sign_up(self) -> bool:
        return self.status is RegistrationStatus.ACTIVE


class RegistryEntry(BaseModel):
    """A registry record with its bookkeeping, as staff see it."""

    ubn: str
    name: str
    address: str
    status: RegistrationStatus
    updated_at: datetime | None = None
    updated_by: str | None = None
    source: str | None = Field(default=None, description="staff (manual entry) or import (file)")

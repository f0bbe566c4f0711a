"""Who is calling: the principal established from a verified credential, and only from that."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from chalicelib.domain.owners import merchant_owner, staff_owner
from chalicelib.security.tokens import Role

PASSWORD_CHANGE_SCOPE = "password:change"  # noqa: S105 - a scope name, not a secret


def owner_of(role: Role, subject: str) -> str:
    return merchant_owner(subject) if role is Role.MERCHANT else staff_owner(subject)


@dataclass(frozen=True)
class Principal:
    role: Role
    subject: str  # the merchant's UBN, or the staff username
    via: Literal["token", "api_key"] = "token"
    session_id: str | None = None
    api_key_id: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def owner(self) -> str:
        return owner_of(self.role, self.subject)

    @property
    def ubn(self) -> str:
        if self.role is not Role.MERCHANT:
            raise ValueError("a staff principal has no merchant UBN")
        return self.subject

    @property
    def must_change_password(self) -> bool:
        return PASSWORD_CHANGE_SCOPE in self.scopes

    @property
    def actor(self) -> str:
        """How the audit trail and invoice history name who did something."""
        if self.via == "api_key":
            return f"api_key:{self.api_key_id}"
        return f"{self.role.value}:{self.subject}"
